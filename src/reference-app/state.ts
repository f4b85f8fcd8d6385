import {
  DEFAULT_SERVICE,
  EMBEDDING_MODEL,
  FALLBACK_TYPES,
  type FallbackType,
  type FaultName,
  PROMPT_NAME,
  type PromptEffect,
  SEED_DEPLOYMENTS,
  SEED_FALLBACKS,
  SEED_PROMPTS,
  SEED_SPEND,
  STEP_MS,
  TEAM_ID,
  WORKLOADS,
} from './catalog.js';

/**
 * The reference app's whole world as one plain value. Every transition here (and in faults.ts and
 * traffic.ts) takes a state and returns a new one, so the app's behaviour at any moment is a
 * function of this value alone, and tests can build, advance and compare states directly.
 */
export interface ReferenceAppState {
  service: string;
  /** Simulated time; the traffic loop keeps it near the wall clock. */
  clockMs: number;
  /** Langfuse prompts by name. */
  prompts: Record<string, PromptVersion[]>;
  retrieval: {
    /** The embedding model queries are embedded with. */
    queryEmbeddingModel: string;
    /** The embedding model the index was built with; a mismatch ruins retrieval. */
    indexEmbeddingModel: string;
    indexLastSuccessMs: number;
    /** While true the scheduled index job fails, so the index ages. */
    indexJobFailing: boolean;
  };
  gateway: {
    keys: Record<string, GatewayKey>;
    teams: Record<string, GatewayTeam>;
    deployments: Deployment[];
    /** Fallback model groups by type, then by model group. */
    fallbacks: Record<FallbackType, Record<string, string[]>>;
  };
  provider: {
    /** Response models the provider silently updated (new fingerprint, worse answers). */
    driftedModels: string[];
  };
  downstream: {
    /** Where the ticket API expects the answer's documents; the app writes `sources`. */
    expectsField: 'sources' | 'citations';
  };
  agent: {
    /** New sessions loop: tens of steps instead of a handful. */
    looping: boolean;
    /** Extra attempts the agent's client makes for every call. */
    clientRetries: number;
    sessions: AgentSession[];
  };
  modes: {
    /** Answer RAG questions from the answer cache, with no retrieval or model call. */
    cacheOnly: boolean;
    /** Answer RAG questions from rules, with no model call. */
    rulesBased: boolean;
  };
  /** Faults injected since the last clear, in order. */
  faults: FaultName[];
  sim: SimulationCounters;
}

export interface PromptVersion {
  version: number;
  text: string;
  labels: string[];
  commitMessage: string | null;
  createdAtMs: number;
  effect: PromptEffect;
}

export interface GatewayLimits {
  rpmLimit: number | null;
  tpmLimit: number | null;
  maxBudget: number | null;
  budgetDuration: string | null;
  /** When spend next resets to zero (only with a budget duration). */
  budgetResetAtMs: number | null;
  spend: number;
}

export interface GatewayKey extends GatewayLimits {
  key: string;
  alias: string;
  teamId: string | null;
  blocked: boolean | null;
}

export interface GatewayTeam extends GatewayLimits {
  teamId: string;
  alias: string;
}

export interface Deployment {
  modelId: string;
  modelName: string;
  upstream: string;
}

export interface AgentSession {
  id: number;
  planned: number;
  steps: number;
}

/** Bookkeeping that makes the simulation deterministic: step count, carries, rate-limit buckets. */
export interface SimulationCounters {
  step: number;
  /** Error-diffusion accumulators, one per kind of chance outcome. */
  carries: Record<string, number>;
  /** Token buckets of rate limits, by limiter; absent means full. */
  buckets: Record<string, number>;
  nextSessionId: number;
  injections: number;
}

/** Copies the state, lets `change` edit the copy, and returns it: transitions stay pure. */
export function evolve(
  state: ReferenceAppState,
  change: (draft: ReferenceAppState) => void,
): ReferenceAppState {
  const draft = structuredClone(state);
  change(draft);
  return draft;
}

function seedLimits(spend: number): GatewayLimits {
  return {
    rpmLimit: null,
    tpmLimit: null,
    maxBudget: null,
    budgetDuration: null,
    budgetResetAtMs: null,
    spend,
  };
}

/** The healthy world the app starts in (and returns to when faults are cleared). */
export function initialState(options: { service?: string; nowMs: number }): ReferenceAppState {
  const nowMs = options.nowMs;
  const fallbacks = Object.fromEntries(FALLBACK_TYPES.map((type) => [type, {}])) as Record<
    FallbackType,
    Record<string, string[]>
  >;
  for (const seed of SEED_FALLBACKS) fallbacks[seed.type][seed.model] = [...seed.fallbacks];
  const keys: Record<string, GatewayKey> = {};
  for (const [workload, { key, alias }] of Object.entries(WORKLOADS)) {
    keys[key] = {
      key,
      alias,
      teamId: TEAM_ID,
      blocked: null,
      ...seedLimits(SEED_SPEND[workload as keyof typeof WORKLOADS]),
    };
  }
  const versions = SEED_PROMPTS.map((seed, index) => ({
    version: index + 1,
    text: seed.text,
    labels: [] as string[],
    commitMessage: seed.commitMessage,
    createdAtMs: nowMs - (SEED_PROMPTS.length - index) * 7 * 86_400_000,
    effect: seed.effect,
  }));
  versions.at(-1)?.labels.push('production', 'latest');
  return {
    service: options.service ?? DEFAULT_SERVICE,
    clockMs: nowMs,
    prompts: { [PROMPT_NAME]: versions },
    retrieval: {
      queryEmbeddingModel: EMBEDDING_MODEL,
      indexEmbeddingModel: EMBEDDING_MODEL,
      indexLastSuccessMs: nowMs - 3 * 60_000,
      indexJobFailing: false,
    },
    gateway: {
      keys,
      teams: {
        [TEAM_ID]: {
          teamId: TEAM_ID,
          alias: 'AI platform',
          ...seedLimits(SEED_SPEND.rag + SEED_SPEND.agent),
        },
      },
      deployments: SEED_DEPLOYMENTS.map((deployment) => ({ ...deployment })),
      fallbacks,
    },
    provider: { driftedModels: [] },
    downstream: { expectsField: 'sources' },
    agent: { looping: false, clientRetries: 0, sessions: [] },
    modes: { cacheOnly: false, rulesBased: false },
    faults: [],
    sim: { step: 0, carries: {}, buckets: {}, nextSessionId: 1, injections: 0 },
  };
}

/**
 * Undoes every fault and remedy: the seeded world again, at the current time. The simulation's
 * counters carry on (metrics never go backwards) but agent sessions in flight are dropped.
 */
export function clearFaults(state: ReferenceAppState): ReferenceAppState {
  return {
    ...initialState({ service: state.service, nowMs: state.clockMs }),
    sim: structuredClone(state.sim),
  };
}

// ---- Langfuse: prompt versions and labels -------------------------------------------------------

/** The version of `name` that has `label`, or undefined. */
export function labelledVersion(
  state: ReferenceAppState,
  name: string,
  label: string,
): PromptVersion | undefined {
  const versions = Object.hasOwn(state.prompts, name) ? state.prompts[name] : undefined;
  return versions?.find((version) => version.labels.includes(label));
}

/** The effect of the prompt version in production: what RAG answers are generated with. */
export function productionEffect(state: ReferenceAppState): PromptEffect {
  return labelledVersion(state, PROMPT_NAME, 'production')?.effect ?? 'good';
}

/**
 * Langfuse's `PATCH …/versions/{v}` with `newLabels`: the labels move onto that version and off
 * every other one. Returns undefined when the prompt or version does not exist.
 */
export function moveLabels(
  state: ReferenceAppState,
  name: string,
  version: number,
  labels: readonly string[],
): ReferenceAppState | undefined {
  const versions = Object.hasOwn(state.prompts, name) ? state.prompts[name] : undefined;
  if (!versions?.some((v) => v.version === version)) return undefined;
  return evolve(state, (draft) => {
    for (const v of draft.prompts[name]!) {
      if (v.version === version) v.labels = [...new Set([...labels, ...v.labels])];
      else v.labels = v.labels.filter((label) => !labels.includes(label));
    }
  });
}

/** A new version of `name` (the highest number plus one, which takes `latest`) with `labels`. */
export function deployPromptVersion(
  state: ReferenceAppState,
  name: string,
  version: { text: string; commitMessage: string; effect: PromptEffect },
  labels: readonly string[],
): { state: ReferenceAppState; version: number; previous: number | undefined } {
  const previous = labelledVersion(state, name, 'production')?.version;
  const versions = Object.hasOwn(state.prompts, name) ? state.prompts[name]! : [];
  const number = Math.max(0, ...versions.map((v) => v.version)) + 1;
  const next = evolve(state, (draft) => {
    draft.prompts[name] ??= [];
    const list = draft.prompts[name];
    for (const v of list)
      v.labels = v.labels.filter((label) => label !== 'latest' && !labels.includes(label));
    list.push({ version: number, ...version, labels: [...labels, 'latest'], createdAtMs: draft.clockMs });
  });
  return { state: next, version: number, previous };
}

// ---- LiteLLM: keys, teams, deployments, fallbacks -----------------------------------------------

export type LimitFields = Partial<
  Pick<GatewayLimits, 'rpmLimit' | 'tpmLimit' | 'maxBudget' | 'budgetDuration'>
>;

const DURATION = /^(\d+)([smhd])$/;
const DURATION_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Milliseconds of a LiteLLM budget duration (`30s`, `30m`, `24h`, `30d`), or undefined. */
export function durationMs(duration: string): number | undefined {
  const match = DURATION.exec(duration);
  return match ? Number(match[1]) * DURATION_MS[match[2] as keyof typeof DURATION_MS] : undefined;
}

function applyLimits(target: GatewayLimits, fields: LimitFields, nowMs: number): void {
  if (fields.rpmLimit !== undefined) target.rpmLimit = fields.rpmLimit;
  if (fields.tpmLimit !== undefined) target.tpmLimit = fields.tpmLimit;
  if (fields.maxBudget !== undefined) target.maxBudget = fields.maxBudget;
  if (fields.budgetDuration !== undefined) {
    target.budgetDuration = fields.budgetDuration;
    const ms = fields.budgetDuration === null ? undefined : durationMs(fields.budgetDuration);
    target.budgetResetAtMs = ms === undefined ? null : nowMs + ms;
  }
}

/** The rate-limit buckets of a key or team: emptied so a new limit starts from a full bucket. */
function limiterNames(kind: 'key' | 'team', id: string): string[] {
  return [`rpm:${kind}:${id}`, `tpm:${kind}:${id}`];
}

/** `/key/update` (limits and budget). Undefined when the key does not exist. */
export function updateKeyLimits(
  state: ReferenceAppState,
  key: string,
  fields: LimitFields,
): ReferenceAppState | undefined {
  if (!Object.hasOwn(state.gateway.keys, key)) return undefined;
  return evolve(state, (draft) => {
    applyLimits(draft.gateway.keys[key]!, fields, draft.clockMs);
    for (const name of limiterNames('key', key)) delete draft.sim.buckets[name];
  });
}

/** `/team/update` (limits and budget). Undefined when the team does not exist. */
export function updateTeamLimits(
  state: ReferenceAppState,
  teamId: string,
  fields: LimitFields,
): ReferenceAppState | undefined {
  if (!Object.hasOwn(state.gateway.teams, teamId)) return undefined;
  return evolve(state, (draft) => {
    applyLimits(draft.gateway.teams[teamId]!, fields, draft.clockMs);
    for (const name of limiterNames('team', teamId)) delete draft.sim.buckets[name];
  });
}

/** `/key/block` and `/key/unblock`. Undefined when the key does not exist. */
export function setKeyBlocked(
  state: ReferenceAppState,
  key: string,
  blocked: boolean,
): ReferenceAppState | undefined {
  if (!Object.hasOwn(state.gateway.keys, key)) return undefined;
  return evolve(state, (draft) => {
    draft.gateway.keys[key]!.blocked = blocked;
  });
}

/** `POST /fallback` (models given) or `DELETE /fallback/{model}` (null). */
export function setFallbacks(
  state: ReferenceAppState,
  type: FallbackType,
  model: string,
  fallbacks: readonly string[] | null,
): ReferenceAppState {
  return evolve(state, (draft) => {
    if (fallbacks === null || fallbacks.length === 0) delete draft.gateway.fallbacks[type][model];
    else draft.gateway.fallbacks[type][model] = [...fallbacks];
  });
}

/** The fallbacks configured for a model group, or undefined. */
export function fallbacksOf(
  state: ReferenceAppState,
  type: FallbackType,
  model: string,
): string[] | undefined {
  const byModel = state.gateway.fallbacks[type];
  return Object.hasOwn(byModel, model) ? byModel[model] : undefined;
}

/** `/model/update`: a deployment's upstream model and/or group name. Undefined when unknown. */
export function updateDeployment(
  state: ReferenceAppState,
  modelId: string,
  change: { upstream?: string; modelName?: string },
): ReferenceAppState | undefined {
  if (!state.gateway.deployments.some((d) => d.modelId === modelId)) return undefined;
  return evolve(state, (draft) => {
    const deployment = draft.gateway.deployments.find((d) => d.modelId === modelId)!;
    if (change.upstream !== undefined) deployment.upstream = change.upstream;
    if (change.modelName !== undefined) deployment.modelName = change.modelName;
  });
}

// ---- Webhook remedies ---------------------------------------------------------------------------

/** Rebuilds the index with the current embedding model; the index job works again. */
export function reindex(state: ReferenceAppState): ReferenceAppState {
  return evolve(state, (draft) => {
    draft.retrieval.indexEmbeddingModel = draft.retrieval.queryEmbeddingModel;
    draft.retrieval.indexLastSuccessMs = draft.clockMs;
    draft.retrieval.indexJobFailing = false;
  });
}

export type AppMode = keyof ReferenceAppState['modes'];

/** Turns cache-only or rules-based answering on or off. */
export function setMode(state: ReferenceAppState, mode: AppMode, enabled: boolean): ReferenceAppState {
  return evolve(state, (draft) => {
    draft.modes[mode] = enabled;
  });
}

/** How often the index job runs when it works. */
export const INDEX_REFRESH_MS = 5 * 60_000;

/** Advances the clock by one step: budgets reset when due and the index job runs when due. */
export function advanceClock(draft: ReferenceAppState): void {
  draft.clockMs += STEP_MS;
  draft.sim.step += 1;
  const limited = [...Object.values(draft.gateway.keys), ...Object.values(draft.gateway.teams)];
  for (const target of limited) {
    if (target.budgetResetAtMs !== null && draft.clockMs >= target.budgetResetAtMs) {
      target.spend = 0;
      const ms = target.budgetDuration ? durationMs(target.budgetDuration) : undefined;
      target.budgetResetAtMs = ms === undefined ? null : draft.clockMs + ms;
    }
  }
  const retrieval = draft.retrieval;
  if (!retrieval.indexJobFailing && draft.clockMs - retrieval.indexLastSuccessMs >= INDEX_REFRESH_MS) {
    retrieval.indexLastSuccessMs = draft.clockMs;
  }
}
