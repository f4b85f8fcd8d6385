import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { z } from 'zod';
import type { PostmortemEdits } from '../../../postmortems/postmortem.js';
import { isStorableId, storableText } from '../../../storable.js';
import { POSTMORTEM_FIELDS } from '../../blocks/postmortem.js';
import type { ListenerDeps } from '../listener-deps.js';

type ViewArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

const metadataSchema = z.object({ incidentId: z.number().refine(isStorableId) });
// Storable, or a NUL pasted into the form would fail the save after the modal has closed.
const fieldState = z.object({ value: z.string().transform(storableText).nullish() }).optional();

function metadataOf(raw: string | undefined) {
  try {
    return metadataSchema.safeParse(JSON.parse(raw || '{}'));
  } catch {
    return metadataSchema.safeParse(undefined);
  }
}

/**
 * Submission of the postmortem edit modal: the modal closes at once and a new version is drafted
 * with the edits. The fields are free text, so the only thing to refuse is a form aisre no longer
 * recognises.
 */
export function postmortemEditSubmission(deps: ListenerDeps) {
  return async ({ ack, view, body }: ViewArgs): Promise<void> => {
    const metadata = metadataOf(view.private_metadata);
    if (!metadata.success) {
      await ack({
        response_action: 'errors',
        errors: { summary: 'This form is out of date: close it and open it again from the postmortem.' },
      });
      return;
    }
    await ack();
    const submitted: PostmortemEdits = {};
    for (const { field } of POSTMORTEM_FIELDS) {
      const state = fieldState.safeParse(view.state.values[field]?.[field]);
      submitted[field] = state.success ? (state.data?.value ?? '') : '';
    }
    try {
      await deps.postmortems.edit(metadata.data.incidentId, submitted, {
        kind: 'slack',
        userId: body.user.id,
      });
    } catch (err) {
      deps.logger.error({ err, incidentId: metadata.data.incidentId }, 'saving postmortem edits failed');
    }
  };
}
