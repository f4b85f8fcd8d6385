import { type FallbackType, type ProviderModel, providerModel, WORKLOADS } from './catalog.js';
import { fallbacksOf, productionEffect, type ReferenceAppState } from './state.js';

/**
 * What the app does, derived from its state alone: how the gateway routes a request, how good
 * answers are, and how well retrieval works. The traffic simulation, the chat endpoint and the
 * metrics' gauges all read these, so they always agree.
 */

/**
 * Why a fallback answered. `context_window`, `content_policy` and `error` are failovers (the
 * primary failed this request; counted in llm_fallback_total); `rerouted` is a general fallback
 * taking all of a degraded group's traffic (a drifted or misrouted deployment), which is a route
 * rather than a failure and is not counted there.
 */
export type FallbackReason = FallbackType | 'error' | 'rerouted';

export type RouteError = 'invalid_model' | 'not_found' | 'context_length_exceeded' | 'content_filter';

export type Route =
  | {
      ok: true;
      model: ProviderModel;
      /** The provider silently updated this model: new fingerprint, worse answers. */
      drifted: boolean;
      fingerprint: string;
      viaFallback: FallbackReason | null;
      fallbackGroup: string | null;
      /** Answered by a model that was neither requested nor a configured fallback (misrouting). */
      wrongModel: boolean;
    }
  | { ok: false; error: RouteError };

const FAILOVER_REASONS: ReadonlySet<FallbackReason> = new Set(['context_window', 'content_policy', 'error']);

/** Whether a fallback of this kind counts as a failover in llm_fallback_total. */
export function isFailover(reason: FallbackReason | null): reason is FallbackType | 'error' {
  return reason !== null && FAILOVER_REASONS.has(reason);
}

function deploymentModel(state: ReferenceAppState, group: string): ProviderModel | undefined {
  const deployment = state.gateway.deployments.find((d) => d.modelName === group);
  return deployment ? providerModel(deployment.upstream) : undefined;
}

function isDrifted(state: ReferenceAppState, model: ProviderModel): boolean {
  return state.provider.driftedModels.includes(model.responseModel);
}

/** The first fallback group whose deployment resolves to a model, or undefined. */
function firstFallback(
  state: ReferenceAppState,
  type: FallbackType,
  group: string,
  fits: (model: ProviderModel) => boolean = () => true,
): { group: string; model: ProviderModel } | undefined {
  for (const fallback of fallbacksOf(state, type, group) ?? []) {
    const model = deploymentModel(state, fallback);
    if (model && fits(model)) return { group: fallback, model };
  }
  return undefined;
}

/**
 * Routes one request for model group `requestModel` as the simulated LiteLLM gateway does:
 * 1. the group's deployment gives the upstream model; no deployment is an invalid model (400);
 * 2. a deployment that fails (unknown upstream) or is degraded (its model drifted, or it answers
 *    with another model family than the group's) sends the group's traffic to its first `general`
 *    fallback, when it has one; an unknown upstream without one is a 404;
 * 3. a request longer than the model's context window goes to a `context_window` fallback that fits;
 * 4. a request the provider's content filter blocks goes to a `content_policy` fallback.
 */
export function route(
  state: ReferenceAppState,
  requestModel: string,
  request: { inputTokens: number; filtered: boolean },
): Route {
  if (!state.gateway.deployments.some((d) => d.modelName === requestModel)) {
    return { ok: false, error: 'invalid_model' };
  }
  const family = providerModel(requestModel)?.family ?? requestModel;
  const primary = deploymentModel(state, requestModel);
  let model = primary;
  let viaFallback: FallbackReason | null = null;
  let fallbackGroup: string | null = null;
  const degraded = !primary || isDrifted(state, primary) || primary.family !== family;
  if (degraded) {
    const general = firstFallback(state, 'general', requestModel);
    if (general) {
      model = general.model;
      viaFallback = primary ? 'rerouted' : 'error';
      fallbackGroup = general.group;
    }
  }
  if (!model) return { ok: false, error: 'not_found' };
  if (request.inputTokens > model.contextWindow) {
    const wider = firstFallback(
      state,
      'context_window',
      requestModel,
      (candidate) => request.inputTokens <= candidate.contextWindow,
    );
    if (!wider) return { ok: false, error: 'context_length_exceeded' };
    model = wider.model;
    viaFallback = 'context_window';
    fallbackGroup = wider.group;
  }
  if (request.filtered) {
    const other = firstFallback(state, 'content_policy', requestModel);
    if (!other) return { ok: false, error: 'content_filter' };
    model = other.model;
    viaFallback = 'content_policy';
    fallbackGroup = other.group;
  }
  const drifted = isDrifted(state, model);
  return {
    ok: true,
    model,
    drifted,
    fingerprint: drifted ? model.driftFingerprint : model.fingerprint,
    viaFallback,
    fallbackGroup,
    wrongModel: viaFallback === null && model.family !== family,
  };
}

/** RAG questions: a quarter carry long context (many retrieved chunks). */
export const RAG_MIX = [
  { share: 0.75, inputTokens: 1_600 },
  { share: 0.25, inputTokens: 6_500 },
] as const;

/** How RAG requests are routed now, as shares of the request mix. */
function ragRoutes(state: ReferenceAppState): Array<{ share: number; route: Route }> {
  return RAG_MIX.map(({ share, inputTokens }) => ({
    share,
    route: route(state, WORKLOADS.rag.model, { inputTokens, filtered: false }),
  }));
}

/** Share of answers that fail evals because the model drifted. */
const DRIFT_QUALITY = 0.7;
const PROMPT_QUALITY = { good: 1, context_only: 0.62, over_strict: 0.75 } as const;
/** Answers from the cache or from rules: safe, narrower, and unaffected by the model or retrieval. */
const CACHE_QUALITY = 0.9;
const RULES_QUALITY = 0.91;

/** The model's answer quality on one route (before prompt and retrieval). */
export function modelQuality(route: Extract<Route, { ok: true }>): number {
  return route.model.quality * (route.drifted ? DRIFT_QUALITY : 1);
}

export const HEALTHY_RETRIEVAL = { hitRatio: 0.93, relevance: 0.82 } as const;
/** The index counts as stale after a day without a successful run. */
export const STALE_INDEX_MS = 86_400_000;

/**
 * Retrieval quality: queries embedded with another model than the index's find little (hit ratio
 * and relevance collapse); an index older than a day misses recent documents.
 */
export function retrievalHealth(state: ReferenceAppState): { hitRatio: number; relevance: number } {
  const { retrieval } = state;
  if (retrieval.queryEmbeddingModel !== retrieval.indexEmbeddingModel)
    return { hitRatio: 0.42, relevance: 0.36 };
  if (state.clockMs - retrieval.indexLastSuccessMs > STALE_INDEX_MS)
    return { hitRatio: 0.7, relevance: 0.74 };
  return { ...HEALTHY_RETRIEVAL };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/**
 * The online eval pass ratio of RAG answers: the answering models' quality, times the effect of
 * the production prompt, times retrieval (answers built on missing documents fail). Cache-only
 * and rules-based modes answer at their own fixed quality.
 */
export function evalPassRatio(state: ReferenceAppState): number {
  if (state.modes.rulesBased) return RULES_QUALITY;
  if (state.modes.cacheOnly) return CACHE_QUALITY;
  let answered = 0;
  let quality = 0;
  for (const { share, route } of ragRoutes(state)) {
    if (!route.ok) continue;
    answered += share;
    quality += share * modelQuality(route);
  }
  if (answered === 0) return 0;
  const retrieval = Math.min(1, retrievalHealth(state).hitRatio / HEALTHY_RETRIEVAL.hitRatio);
  return round((quality / answered) * PROMPT_QUALITY[productionEffect(state)] * (0.6 + 0.4 * retrieval));
}

/** Share of RAG answers that came from a model nobody asked for (see Route.wrongModel). */
export function modelMismatchRatio(state: ReferenceAppState): number {
  if (state.modes.rulesBased || state.modes.cacheOnly) return 0;
  let answered = 0;
  let wrong = 0;
  for (const { share, route } of ragRoutes(state)) {
    if (!route.ok) continue;
    answered += share;
    if (route.wrongModel) wrong += share;
  }
  return answered === 0 ? 0 : round(wrong / answered);
}
