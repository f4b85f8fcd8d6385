import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { z } from 'zod';
import { incidentRef, SEVERITIES } from '../../../incidents/incident.js';
import { storableText } from '../../../storable.js';
import { parseDeclareModalMetadata } from '../../blocks/declare-modal.js';
import { escapeMrkdwn } from '../../blocks/mrkdwn.js';
import { DECLARE_MODAL_IDS } from '../../blocks/types.js';
import type { ListenerDeps } from '../listener-deps.js';

type ViewArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

// Storable, or a NUL pasted into the form would fail the insert after the modal has closed.
const textValue = z.object({ value: z.string().transform(storableText).nullish() }).optional();
const stateSchema = z.object({
  [DECLARE_MODAL_IDS.title.block]: z.object({ [DECLARE_MODAL_IDS.title.action]: textValue }),
  [DECLARE_MODAL_IDS.severity.block]: z.object({
    [DECLARE_MODAL_IDS.severity.action]: z
      .object({ selected_option: z.object({ value: z.enum(SEVERITIES) }).nullish() })
      .optional(),
  }),
  [DECLARE_MODAL_IDS.service.block]: z.object({ [DECLARE_MODAL_IDS.service.action]: textValue }).optional(),
  [DECLARE_MODAL_IDS.description.block]: z
    .object({ [DECLARE_MODAL_IDS.description.action]: textValue })
    .optional(),
});

/**
 * Submission of the declare modal. Problems are shown inline on the field (`response_action:
 * errors`) so the responder fixes them without losing what they typed.
 */
export function declareSubmission(deps: ListenerDeps) {
  return async ({ ack, view, body, client }: ViewArgs): Promise<void> => {
    const parsed = stateSchema.safeParse(view.state.values);
    const values = parsed.success ? parsed.data : undefined;
    const title =
      values?.[DECLARE_MODAL_IDS.title.block]?.[DECLARE_MODAL_IDS.title.action]?.value?.trim() ?? '';
    const severity =
      values?.[DECLARE_MODAL_IDS.severity.block]?.[DECLARE_MODAL_IDS.severity.action]?.selected_option?.value;
    const errors: Record<string, string> = {};
    if (!title) errors[DECLARE_MODAL_IDS.title.block] = 'Give the incident a short title.';
    if (!severity) errors[DECLARE_MODAL_IDS.severity.block] = 'Pick a severity.';
    if (!severity || !title) {
      await ack({ response_action: 'errors', errors });
      return;
    }
    await ack();
    const service =
      values?.[DECLARE_MODAL_IDS.service.block]?.[DECLARE_MODAL_IDS.service.action]?.value ?? null;
    const description =
      values?.[DECLARE_MODAL_IDS.description.block]?.[DECLARE_MODAL_IDS.description.action]?.value ?? null;
    const actor = { kind: 'slack', userId: body.user.id } as const;
    try {
      const incident = await deps.incidents.declare({ title, severity, service, description }, actor);
      deps.metrics.incidentsOpened.inc({ severity: incident.severity, source: 'slack' });
      const { channelId } = parseDeclareModalMetadata(view.private_metadata);
      if (channelId) {
        await client.chat
          .postEphemeral({
            channel: channelId,
            user: body.user.id,
            text: `${incidentRef(incident)} declared: ${escapeMrkdwn(incident.title)}. Its channel is being set up.`,
          })
          .catch((err: unknown) => deps.logger.warn({ err }, 'could not confirm the declaration'));
      }
    } catch (err) {
      deps.logger.error({ err }, 'declaring an incident failed');
    }
  };
}
