import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { z } from 'zod';
import { toAppError } from '../../../errors.js';
import { isStorableId, storableText } from '../../../storable.js';
import { ACTION_PARAMS_VIEW } from '../../blocks/action-run.js';
import type { ListenerDeps } from '../listener-deps.js';

type ViewArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

const metadataSchema = z.object({
  incidentId: z.number().refine(isStorableId),
  actionId: z.string().min(1).max(100),
});

const stateSchema = z.object({
  [ACTION_PARAMS_VIEW.block]: z.object({
    [ACTION_PARAMS_VIEW.action]: z.object({ value: z.string().nullish() }),
  }),
});

/** Slack shows at most this much of an inline error. */
const ERROR_LENGTH = 300;

function paramsFrom(raw: string | null | undefined): Record<string, unknown> | string {
  let value: unknown;
  try {
    // Strings made storable: an escaped NUL would fail the preview's insert after the modal closed.
    value = JSON.parse(raw?.trim() || '{}', (_key, item: unknown) =>
      typeof item === 'string' ? storableText(item) : item,
    );
  } catch (err) {
    return `This is not JSON: ${(err as Error).message}`;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return 'Give the parameters as a JSON object, e.g. {"prompt": "rag-answer"}.';
  }
  return value as Record<string, unknown>;
}

/**
 * Submission of the "pick any action" modal. The parameters are checked before the modal closes,
 * so a mistake is shown on the field; then the dry run is recorded and shows in the channel.
 */
export function actionParamsSubmission(deps: ListenerDeps) {
  return async ({ ack, view, body }: ViewArgs): Promise<void> => {
    const metadata = (() => {
      try {
        return metadataSchema.safeParse(JSON.parse(view.private_metadata || '{}'));
      } catch {
        return metadataSchema.safeParse(undefined);
      }
    })();
    const state = stateSchema.safeParse(view.state.values);
    if (!metadata.success || !state.success) {
      await ack({
        response_action: 'errors',
        errors: {
          [ACTION_PARAMS_VIEW.block]: 'This form is out of date: close it and pick the action again.',
        },
      });
      return;
    }
    const params = paramsFrom(state.data[ACTION_PARAMS_VIEW.block][ACTION_PARAMS_VIEW.action].value);
    if (typeof params === 'string') {
      await ack({ response_action: 'errors', errors: { [ACTION_PARAMS_VIEW.block]: params } });
      return;
    }
    const request = { incidentId: metadata.data.incidentId, actionId: metadata.data.actionId, params };
    try {
      await deps.actions.validate(request);
    } catch (err) {
      const message = toAppError(err).userMessage.slice(0, ERROR_LENGTH);
      await ack({ response_action: 'errors', errors: { [ACTION_PARAMS_VIEW.block]: message } });
      return;
    }
    await ack();
    try {
      await deps.actions.preview(request, { kind: 'slack', userId: body.user.id });
    } catch (err) {
      deps.logger.warn({ err, ...metadata.data }, 'previewing an action from the menu failed');
    }
  };
}
