import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import { validationError } from '../../../errors.js';
import { isStorableId } from '../../../storable.js';
import { parseOverrideBlockId } from '../../blocks/diagnosis-step.js';
import type { ListenerDeps } from '../listener-deps.js';
import { replyPrivately, replyWithError } from '../reply.js';

type ActionArgs = SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs;

const answerAction = z.object({
  type: z.literal('button'),
  value: z
    .string()
    .transform((raw, ctx) => {
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not JSON' });
        return z.NEVER;
      }
    })
    .pipe(
      z.object({
        session: z.number().refine(isStorableId, 'must be a diagnosis id'),
        seq: z.number().refine(isStorableId, 'must be a step number'),
        answer: z.number().int().min(0),
      }),
    ),
});

const overrideAction = z.object({
  type: z.literal('static_select'),
  block_id: z
    .string()
    .transform((blockId) => parseOverrideBlockId(blockId))
    .refine((id): id is number => id !== null, 'must name the diagnosis'),
  selected_option: z.object({ value: z.string().min(1) }),
});

/** A responder's answer to a diagnosis question; whoever is second hears who was first. */
export function diagnosisAnswerAction(deps: ListenerDeps) {
  return async ({ ack, action, body, respond }: ActionArgs): Promise<void> => {
    await ack();
    try {
      const parsed = answerAction.safeParse(action);
      if (!parsed.success) throw validationError('answer', parsed.error.issues);
      const { session, seq, answer } = parsed.data.value;
      const result = await deps.diagnosis.answer(session, seq, answer, {
        kind: 'slack',
        userId: body.user.id,
      });
      if (!result.accepted) await replyPrivately(respond, result.message);
    } catch (err) {
      await replyWithError(respond, err, deps.logger);
    }
  };
}

/** "Not this, go to X" on a diagnosis step or conclusion. */
export function diagnosisOverrideAction(deps: ListenerDeps) {
  return async ({ ack, action, body, respond }: ActionArgs): Promise<void> => {
    await ack();
    try {
      const parsed = overrideAction.safeParse(action);
      if (!parsed.success) throw validationError('override', parsed.error.issues);
      await deps.diagnosis.override(parsed.data.block_id, parsed.data.selected_option.value, {
        kind: 'slack',
        userId: body.user.id,
      });
    } catch (err) {
      await replyWithError(respond, err, deps.logger);
    }
  };
}
