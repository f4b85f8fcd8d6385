import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import type { ActionCommandResult } from '../../../actions/action-service.js';
import { validationError } from '../../../errors.js';
import type { Actor } from '../../../incidents/incident.js';
import { isStorableId } from '../../../storable.js';
import { actionParamsModal, parseActionPickBlockId } from '../../blocks/action-run.js';
import type { ListenerDeps } from '../listener-deps.js';
import { replyPrivately, replyWithError } from '../reply.js';

type ActionArgs = SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs;

const jsonValue = <S extends z.ZodType>(schema: S) =>
  z
    .string()
    .transform((raw, ctx) => {
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);

const previewAction = z.object({
  type: z.literal('button'),
  value: jsonValue(
    z.object({
      incident: z.number().refine(isStorableId, 'must be an incident id'),
      session: z.number().refine(isStorableId, 'must be a diagnosis id'),
      index: z.number().int().min(0),
    }),
  ),
});

const runButton = z.object({
  type: z.literal('button'),
  value: z
    .string()
    .regex(/^[1-9][0-9]{0,14}$/, 'must be an action run id')
    .transform(Number)
    .refine(isStorableId, 'must be an action run id'),
});

const pickAction = z.object({
  type: z.literal('static_select'),
  block_id: z
    .string()
    .transform((blockId) => parseActionPickBlockId(blockId))
    .refine((id): id is number => id !== null, 'must name the incident'),
  selected_option: z.object({ value: z.string().min(1).max(100) }),
});

function actorOf(body: BlockAction): Actor {
  return { kind: 'slack', userId: body.user.id };
}

/** Preview of a recommended action: records the dry run, which then shows in the channel. */
export function previewRecommendationAction(deps: ListenerDeps) {
  return async ({ ack, action, body, respond }: ActionArgs): Promise<void> => {
    await ack();
    try {
      const parsed = previewAction.safeParse(action);
      if (!parsed.success) throw validationError('preview', parsed.error.issues);
      const { incident, session, index } = parsed.data.value;
      await deps.actions.preview(
        { incidentId: incident, recommendation: { sessionId: session, index } },
        actorOf(body),
      );
    } catch (err) {
      await replyWithError(respond, err, deps.logger);
    }
  };
}

/** "Another action…": opens the parameters modal for the chosen action. */
export function pickActionAction(deps: ListenerDeps) {
  return async ({ ack, action, body, client, respond }: ActionArgs): Promise<void> => {
    await ack();
    try {
      const parsed = pickAction.safeParse(action);
      if (!parsed.success) throw validationError('action', parsed.error.issues);
      const chosen = deps.actions.catalog().find((entry) => entry.id === parsed.data.selected_option.value);
      if (!chosen) throw validationError('action', [{ path: [], message: 'is not a known action' }]);
      const recommended = (await deps.actions.recommendations(parsed.data.block_id))?.items.find(
        (item) => item.actionId === chosen.id && item.params,
      );
      await client.views.open({
        trigger_id: body.trigger_id,
        view: actionParamsModal({
          incidentId: parsed.data.block_id,
          action: chosen,
          ...(recommended?.params ? { initialParams: recommended.params } : {}),
        }) as never,
      });
    } catch (err) {
      await replyWithError(respond, err, deps.logger);
    }
  };
}

/**
 * Execute, Approve, Reject, Cancel and Undo: one domain call each. A click that comes second
 * (a double click, a colleague who was faster) hears privately what already happened.
 */
export function actionRunButton(
  deps: ListenerDeps,
  operation: (runId: number, actor: Actor) => Promise<ActionCommandResult>,
) {
  return async ({ ack, action, body, respond }: ActionArgs): Promise<void> => {
    await ack();
    try {
      const parsed = runButton.safeParse(action);
      if (!parsed.success) throw validationError('action run', parsed.error.issues);
      const result = await operation(parsed.data.value, actorOf(body));
      if (!result.accepted) await replyPrivately(respond, result.message);
    } catch (err) {
      await replyWithError(respond, err, deps.logger);
    }
  };
}
