import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import { startDiagnosis } from '../../../diagnosis/start-diagnosis.js';
import { validationError } from '../../../errors.js';
import type { Actor } from '../../../incidents/incident.js';
import { SEVERITIES } from '../../../incidents/incident.js';
import type { CommandResult } from '../../../incidents/incident-service.js';
import { declareIncidentModal } from '../../blocks/declare-modal.js';
import { parseIncidentActionsBlockId } from '../../blocks/types.js';
import { incidentIdValue } from '../incident-id.js';
import type { ListenerDeps } from '../listener-deps.js';
import { replyPrivately, replyWithError } from '../reply.js';

type ActionArgs = SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs;

const buttonAction = z.object({ type: z.literal('button'), value: incidentIdValue });
const severityAction = z.object({
  type: z.literal('static_select'),
  block_id: z
    .string()
    .transform((blockId) => parseIncidentActionsBlockId(blockId))
    .refine((id): id is number => id !== null, 'must name the incident'),
  selected_option: z.object({ value: z.enum(SEVERITIES) }),
});

/**
 * Wraps a card button: acknowledge Slack at once, parse the incident id, run one domain command.
 * The card itself is refreshed through the outbox; the clicker only hears back privately when
 * nothing changed (another responder was faster) or something failed.
 */
export function incidentButton(
  deps: ListenerDeps,
  command: (incidentId: number, actor: Actor) => Promise<CommandResult>,
) {
  return async ({ ack, action, body, respond }: ActionArgs): Promise<void> => {
    await ack();
    try {
      const parsed = buttonAction.safeParse(action);
      if (!parsed.success) throw validationError('button payload', parsed.error.issues);
      const result = await command(parsed.data.value, { kind: 'slack', userId: body.user.id });
      if (!result.changed) await replyPrivately(respond, result.message);
    } catch (err) {
      await replyWithError(respond, err, deps.logger);
    }
  };
}

/** Start diagnosis: investigating plus the diagnosis tree; told privately if one already runs. */
export function startDiagnosisButton(deps: ListenerDeps) {
  return async ({ ack, action, body, respond }: ActionArgs): Promise<void> => {
    await ack();
    try {
      const parsed = buttonAction.safeParse(action);
      if (!parsed.success) throw validationError('button payload', parsed.error.issues);
      const result = await startDiagnosis(deps, parsed.data.value, { kind: 'slack', userId: body.user.id });
      if (!result.accepted) await replyPrivately(respond, result.message);
    } catch (err) {
      await replyWithError(respond, err, deps.logger);
    }
  };
}

/** The card's severity menu; its block id names the incident. */
export function changeSeverityAction(deps: ListenerDeps) {
  return async ({ ack, action, body, respond }: ActionArgs): Promise<void> => {
    await ack();
    try {
      const parsed = severityAction.safeParse(action);
      if (!parsed.success) throw validationError('severity selection', parsed.error.issues);
      const result = await deps.incidents.changeSeverity(
        parsed.data.block_id,
        parsed.data.selected_option.value,
        {
          kind: 'slack',
          userId: body.user.id,
        },
      );
      if (!result.changed) await replyPrivately(respond, result.message);
    } catch (err) {
      await replyWithError(respond, err, deps.logger);
    }
  };
}

/** The App Home's "Declare incident" button opens the same modal as `/aisre declare`. */
export function openDeclareModalAction(deps: ListenerDeps) {
  return async ({ ack, body, client }: ActionArgs): Promise<void> => {
    await ack();
    try {
      await client.views.open({ trigger_id: body.trigger_id, view: declareIncidentModal() as never });
    } catch (err) {
      deps.logger.warn({ err }, 'could not open the declare modal');
    }
  };
}
