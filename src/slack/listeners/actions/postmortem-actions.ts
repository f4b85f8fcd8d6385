import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import { validationError } from '../../../errors.js';
import { isStorableId } from '../../../storable.js';
import { postmortemEditModal } from '../../blocks/postmortem.js';
import type { ListenerDeps } from '../listener-deps.js';
import { replyPrivately, replyWithError } from '../reply.js';

type ActionArgs = SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs;

const incidentButton = z.object({
  type: z.literal('button'),
  value: z
    .string()
    .regex(/^[1-9][0-9]{0,14}$/, 'must be an incident id')
    .transform(Number)
    .refine(isStorableId, 'must be an incident id'),
});

function incidentOf(action: unknown): number {
  const parsed = incidentButton.safeParse(action);
  if (!parsed.success) throw validationError('postmortem button', parsed.error.issues);
  return parsed.data.value;
}

/** "Edit summary, lessons and action items": opens the modal with the current text. */
export function editPostmortemAction(deps: ListenerDeps) {
  return async ({ ack, action, body, client, respond }: ActionArgs): Promise<void> => {
    await ack();
    try {
      const incidentId = incidentOf(action);
      const current = await deps.postmortems.editable(incidentId);
      await client.views.open({
        trigger_id: body.trigger_id,
        view: postmortemEditModal(incidentId, current) as never,
      });
    } catch (err) {
      await replyWithError(respond, err, deps.logger);
    }
  };
}

/** "Redraft from the record": a new version from what aisre knows now, edits kept. */
export function redraftPostmortemAction(deps: ListenerDeps) {
  return async ({ ack, action, body, respond }: ActionArgs): Promise<void> => {
    await ack();
    try {
      const version = await deps.postmortems.draft(incidentOf(action), {
        kind: 'slack',
        userId: body.user.id,
      });
      await replyPrivately(
        respond,
        `Postmortem v${version.version} drafted; the message and its file are updated.`,
      );
    } catch (err) {
      await replyWithError(respond, err, deps.logger);
    }
  };
}
