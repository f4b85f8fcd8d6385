import { z } from 'zod';
import { GATEWAY_ROUTE, type GatewayRouteParams } from '../action-catalog.js';
import { ActionError } from '../action-error.js';
import type { ActionContext, ActionType, IntegrationClient } from '../action-type.js';
import { expectShape, LITELLM_CHANGED_BY, previousStateOf, send, snapshot } from './support.js';

const modelInfoAnswer = z.looseObject({
  data: z.array(
    z.looseObject({
      model_name: z.string().optional(),
      litellm_params: z.looseObject({ model: z.string() }),
      model_info: z.looseObject({ id: z.string() }),
    }),
  ),
});

/** The deployment's upstream model (`litellm_params.model`) before the change. */
const previousSchema = z.strictObject({ model_name: z.string().nullable(), upstream_model: z.string() });
export type GatewayRouteState = z.output<typeof previousSchema>;

/** `GET /model/info?litellm_model_id=`: the deployment's group name and upstream model. */
async function deployment(litellm: IntegrationClient, modelId: string): Promise<GatewayRouteState> {
  const answer = await litellm.request('GET', `/model/info?litellm_model_id=${encodeURIComponent(modelId)}`);
  const found = expectShape(modelInfoAnswer, answer, 'litellm', 'GET /model/info').data.find(
    (entry) => entry.model_info.id === modelId,
  );
  if (!found) {
    throw new ActionError({
      integration: 'litellm',
      kind: 'invalid',
      integrationMessage: `LiteLLM has no deployment with model_id "${modelId}"`,
    });
  }
  return { model_name: found.model_name ?? null, upstream_model: found.litellm_params.model };
}

/** `POST /model/update` with only `litellm_params.model`: LiteLLM keeps the other params. */
function setUpstream(
  ctx: Pick<ActionContext<unknown>, 'logger' | 'actor'>,
  litellm: IntegrationClient,
  modelId: string,
  upstream: string,
): Promise<unknown> {
  return send(
    ctx,
    litellm,
    'POST',
    '/model/update',
    { model_info: { id: modelId }, litellm_params: { model: upstream } },
    {
      [LITELLM_CHANGED_BY]: ctx.actor,
    },
  );
}

/**
 * `gateway.route`: points a LiteLLM deployment (`model_id`) at another upstream model.
 * previousState: `{ model_name, upstream_model }`; undo points it back at `upstream_model`.
 */
export const gatewayRoute: ActionType<GatewayRouteParams> = {
  ...GATEWAY_ROUTE,

  async run(ctx) {
    const { model_id: modelId, upstream_model: to } = ctx.params;
    const litellm = ctx.integration('litellm');
    const state = await snapshot(ctx, 'before', () => deployment(litellm, modelId));
    const target = `deployment ${modelId}${state.model_name ? ` of "${state.model_name}"` : ''} upstream model`;
    if (state.upstream_model === to) {
      return { summary: `${target} is already ${to}; nothing to change`, changes: [], previousState: state };
    }
    const changes = [{ target, from: state.upstream_model, to }];
    if (ctx.isDryRun) {
      return {
        summary: `Would point ${target}: ${state.upstream_model} → ${to}`,
        changes,
        previousState: state,
      };
    }
    await ctx.checkpoint('update-model', async () => {
      await setUpstream(ctx, litellm, modelId, to);
      return { upstream_model: to };
    });
    return { summary: `Pointed ${target}: ${state.upstream_model} → ${to}`, changes, previousState: state };
  },

  async undo(ctx) {
    const previous = previousStateOf(previousSchema, ctx, GATEWAY_ROUTE.id);
    const modelId = ctx.params.model_id;
    const litellm = ctx.integration('litellm');
    const current = await ctx.checkpoint('undo:before', () => deployment(litellm, modelId));
    const target = `deployment ${modelId}${previous.model_name ? ` of "${previous.model_name}"` : ''} upstream model`;
    if (current.upstream_model !== previous.upstream_model) {
      await ctx.checkpoint('undo:update-model', async () => {
        await setUpstream(ctx, litellm, modelId, previous.upstream_model);
        return { upstream_model: previous.upstream_model };
      });
    }
    return {
      summary: `Pointed ${target} back: ${current.upstream_model} → ${previous.upstream_model}`,
      changes: [{ target, from: current.upstream_model, to: previous.upstream_model }],
      previousState: current,
    };
  },
};
