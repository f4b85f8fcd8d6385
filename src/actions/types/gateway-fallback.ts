import { z } from 'zod';
import { GATEWAY_FALLBACK, type GatewayFallbackParams } from '../action-catalog.js';
import { ActionError } from '../action-error.js';
import type { ActionType, IntegrationClient } from '../action-type.js';
import { expectShape, LITELLM_CHANGED_BY, previousStateOf, send, snapshot } from './support.js';

const fallbackAnswer = z.looseObject({ fallback_models: z.array(z.string()) });

/** The fallbacks the model group had before: null when it had none. */
const previousSchema = z.strictObject({ fallback_models: z.array(z.string()).nullable() });
export type GatewayFallbackState = z.output<typeof previousSchema>;

function fallbackPath(model: string, type: string): string {
  return `/fallback/${encodeURIComponent(model)}?fallback_type=${encodeURIComponent(type)}`;
}

/** `GET /fallback/{model}`; LiteLLM answers 404 when the group has no fallbacks of that type. */
async function currentFallbacks(
  litellm: IntegrationClient,
  model: string,
  type: string,
): Promise<string[] | null> {
  try {
    const answer = await litellm.request('GET', fallbackPath(model, type));
    return expectShape(fallbackAnswer, answer, 'litellm', `GET /fallback/${model}`).fallback_models;
  } catch (err) {
    if (err instanceof ActionError && err.status === 404) return null;
    throw err;
  }
}

function show(models: string[] | null): string {
  return models === null || models.length === 0 ? 'none' : models.join(', ');
}

/**
 * `gateway.fallback`: sets the fallbacks of a LiteLLM model group (`POST /fallback`).
 * previousState: `{ fallback_models: string[] | null }`; undo posts them back, or deletes the
 * fallbacks (`DELETE /fallback/{model}`) when the group had none.
 */
export const gatewayFallback: ActionType<GatewayFallbackParams> = {
  ...GATEWAY_FALLBACK,

  async run(ctx) {
    const { model, fallback_models: to, fallback_type: type } = ctx.params;
    const litellm = ctx.integration('litellm');
    const state: GatewayFallbackState = await snapshot(ctx, 'before', async () => ({
      fallback_models: await currentFallbacks(litellm, model, type),
    }));
    const target = `model group "${model}" ${type} fallbacks`;
    const from = state.fallback_models;
    if (from !== null && from.join('\n') === to.join('\n')) {
      return {
        summary: `${target} are already ${show(to)}; nothing to change`,
        changes: [],
        previousState: state,
      };
    }
    const changes = [{ target, from, to }];
    if (ctx.isDryRun) {
      return { summary: `Would set ${target}: ${show(from)} → ${show(to)}`, changes, previousState: state };
    }
    await ctx.checkpoint('set-fallbacks', async () => {
      await send(
        ctx,
        litellm,
        'POST',
        '/fallback',
        { model, fallback_models: to, fallback_type: type },
        {
          [LITELLM_CHANGED_BY]: ctx.actor,
        },
      );
      return { fallback_models: to };
    });
    return { summary: `Set ${target}: ${show(from)} → ${show(to)}`, changes, previousState: state };
  },

  async undo(ctx) {
    const previous = previousStateOf(previousSchema, ctx, GATEWAY_FALLBACK.id);
    const { model, fallback_type: type } = ctx.params;
    const litellm = ctx.integration('litellm');
    const current = await ctx.checkpoint('undo:before', () => currentFallbacks(litellm, model, type));
    const target = `model group "${model}" ${type} fallbacks`;
    await ctx.checkpoint('undo:restore', async () => {
      if (previous.fallback_models !== null) {
        await send(
          ctx,
          litellm,
          'POST',
          '/fallback',
          { model, fallback_models: previous.fallback_models, fallback_type: type },
          {
            [LITELLM_CHANGED_BY]: ctx.actor,
          },
        );
      } else if (current !== null) {
        await send(ctx, litellm, 'DELETE', fallbackPath(model, type), undefined, {
          [LITELLM_CHANGED_BY]: ctx.actor,
        });
      }
      return { fallback_models: previous.fallback_models };
    });
    return {
      summary: `Restored ${target}: ${show(current)} → ${show(previous.fallback_models)}`,
      changes: [{ target, from: current, to: previous.fallback_models }],
      previousState: { fallback_models: current } satisfies GatewayFallbackState,
    };
  },
};
