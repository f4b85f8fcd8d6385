import { isFailover, type Route, retrievalHealth, route } from './behaviour.js';
import { type FallbackType, type PromptEffect, STEP_MS, WORKLOADS, type Workload } from './catalog.js';
import {
  advanceClock,
  evolve,
  type GatewayLimits,
  productionEffect,
  type ReferenceAppState,
} from './state.js';

/**
 * The simulated traffic: every step (250 ms of simulated time) one RAG question arrives, and
 * every twentieth step on average an agent session starts; each running session takes one step.
 * What happens to each request depends only on the state, and every "chance" outcome uses an
 * error-diffusion accumulator kept in the state (a 1% outcome happens exactly once per 100
 * requests), so a run is reproducible and shares are exact over time.
 */

export type RejectReason = 'key_blocked' | 'budget_exceeded' | 'rate_limited';

/** What the simulation did during a step; the metrics module turns these into series. */
export type TrafficEvent =
  | {
      type: 'operation';
      workload: Workload;
      requestModel: string;
      /** Null when nothing answered (refused by the gateway, or failed). */
      responseModel: string | null;
      fingerprint: string | null;
      /** OpenTelemetry `error.type`, or null on success. */
      errorType: string | null;
      durationSeconds: number;
      inputTokens: number;
      outputTokens: number;
      costUsd: number;
      /** A retry of a call the client had already sent. */
      retry: boolean;
    }
  | { type: 'rejected'; workload: Workload; reason: RejectReason }
  | { type: 'fallback'; requestModel: string; fallbackModel: string; reason: FallbackType | 'error' }
  | { type: 'refusal'; reason: 'guardrail' | 'content_filter' }
  | { type: 'schema_error'; mapping: boolean }
  | { type: 'answer'; mode: 'llm' | 'cache' | 'rules' | 'failed' }
  | { type: 'retrieval'; hit: boolean }
  | { type: 'agent_session'; steps: number; outcome: 'completed' | 'aborted' };

/** Refusals by the model itself, by the production prompt's effect. */
const GUARDRAIL_REFUSALS: Record<PromptEffect, number> = {
  good: 0.01,
  context_only: 0.02,
  over_strict: 0.35,
};
const CONTENT_FILTER_RATE = 0.005;
const TRANSIENT_TIMEOUTS = 0.01;
/** Output that no longer maps onto what the ticket API expects. */
const SCHEMA_ERRORS = { sources: 0.002, citations: 0.6 } as const;
const CLIENT_TIMEOUT_SECONDS = 30;
/** Twelve agent sessions a minute. */
const AGENT_SESSIONS_PER_STEP = (12 / 60_000) * STEP_MS;
const MAX_AGENT_SESSIONS = 100;

type Emit = (event: TrafficEvent) => void;

/** Where a kind's accumulator starts, so that outcomes of equal rates do not always coincide. */
function phase(kind: string): number {
  let hash = 0;
  for (const char of kind) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) >>> 0;
  return jitter(hash);
}

/** True `p` of the time, exactly: an error-diffusion accumulator per outcome kind. */
function chance(draft: ReferenceAppState, kind: string, p: number): boolean {
  const carry = (draft.sim.carries[kind] ?? phase(kind)) + p;
  const happens = carry >= 1;
  draft.sim.carries[kind] = happens ? carry - 1 : carry;
  return happens;
}

/** A deterministic number in [0, 1) for request `n` (Knuth's multiplicative hash). */
export function jitter(n: number, salt = 0): number {
  return (Math.imul(n + salt * 40_503, 2_654_435_761) >>> 0) / 2 ** 32;
}

// ---- Gateway admission: blocks, budgets and rate limits ---------------------------------------

interface Limiter {
  name: string;
  limits: GatewayLimits;
}

function limitersOf(draft: ReferenceAppState, key: string): Limiter[] {
  const found = draft.gateway.keys[key];
  if (!found) return [];
  const limiters = [{ name: `key:${key}`, limits: found as GatewayLimits }];
  const teamId = found.teamId;
  if (teamId !== null && Object.hasOwn(draft.gateway.teams, teamId)) {
    limiters.push({ name: `team:${teamId}`, limits: draft.gateway.teams[teamId]! });
  }
  return limiters;
}

/** A bucket holds one second of allowance (at least one request); a zero limit holds nothing. */
function capacity(limit: number): number {
  return limit === 0 ? 0 : Math.max(1, limit / 60);
}

function bucket(draft: ReferenceAppState, name: string, limit: number): number {
  return draft.sim.buckets[name] ?? capacity(limit);
}

function refillBuckets(draft: ReferenceAppState): void {
  const all = Object.keys(draft.gateway.keys).flatMap((key) => limitersOf(draft, key));
  const seen = new Set<string>();
  for (const { name, limits } of all) {
    if (seen.has(name)) continue;
    seen.add(name);
    for (const [unit, limit] of [
      ['rpm', limits.rpmLimit],
      ['tpm', limits.tpmLimit],
    ] as const) {
      if (limit === null) continue;
      const id = `${unit}:${name}`;
      draft.sim.buckets[id] = Math.min(
        capacity(limit),
        bucket(draft, id, limit) + (limit / 60_000) * STEP_MS,
      );
    }
  }
}

/**
 * LiteLLM's checks before a call: a blocked key is refused, a key or team at its max budget is
 * refused, and rpm/tpm limits are token buckets refilled continuously (a request needs a whole
 * request of rpm allowance and some tpm allowance left; tokens are then taken, possibly into debt).
 */
function admit(draft: ReferenceAppState, key: string, tokens: number): RejectReason | null {
  const found = draft.gateway.keys[key];
  if (!found || found.blocked) return 'key_blocked';
  const limiters = limitersOf(draft, key);
  for (const { limits } of limiters) {
    if (limits.maxBudget !== null && limits.spend >= limits.maxBudget) return 'budget_exceeded';
  }
  for (const { name, limits } of limiters) {
    if (limits.rpmLimit !== null && bucket(draft, `rpm:${name}`, limits.rpmLimit) < 1) return 'rate_limited';
    if (limits.tpmLimit !== null && bucket(draft, `tpm:${name}`, limits.tpmLimit) <= 0) return 'rate_limited';
  }
  for (const { name, limits } of limiters) {
    if (limits.rpmLimit !== null)
      draft.sim.buckets[`rpm:${name}`] = bucket(draft, `rpm:${name}`, limits.rpmLimit) - 1;
    if (limits.tpmLimit !== null) {
      draft.sim.buckets[`tpm:${name}`] = bucket(draft, `tpm:${name}`, limits.tpmLimit) - tokens;
    }
  }
  return null;
}

// ---- One call through the gateway --------------------------------------------------------------

type Answered = Extract<Route, { ok: true }>;

interface CallSpec {
  workload: Workload;
  inputTokens: number;
  outputTokens: (route: Answered) => number;
  retry: boolean;
  /** The client gives up waiting (the provider still bills the input). */
  timesOut?: boolean;
  filtered?: boolean;
}

function call(draft: ReferenceAppState, emit: Emit, spec: CallSpec): Answered | null {
  const { key, model: requestModel } = WORKLOADS[spec.workload];
  const n = draft.sim.step;
  const base = {
    type: 'operation' as const,
    workload: spec.workload,
    requestModel,
    retry: spec.retry,
  };
  const failed = (errorType: string, durationSeconds: number) =>
    emit({
      ...base,
      responseModel: null,
      fingerprint: null,
      errorType,
      durationSeconds,
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
    });

  const rejected = admit(draft, key, spec.inputTokens + 150);
  if (rejected) {
    failed(rejected, 0.005);
    emit({ type: 'rejected', workload: spec.workload, reason: rejected });
    return null;
  }
  const routed = route(draft, requestModel, {
    inputTokens: spec.inputTokens,
    filtered: spec.filtered ?? false,
  });
  if (!routed.ok) {
    failed(routed.error, 0.05 + 0.2 * jitter(n, 1));
    if (routed.error === 'content_filter') emit({ type: 'refusal', reason: 'content_filter' });
    return null;
  }
  if (isFailover(routed.viaFallback) && routed.fallbackGroup) {
    emit({ type: 'fallback', requestModel, fallbackModel: routed.fallbackGroup, reason: routed.viaFallback });
  }
  const outputTokens = spec.timesOut ? 0 : spec.outputTokens(routed);
  const costUsd =
    (spec.inputTokens * routed.model.inputPrice + outputTokens * routed.model.outputPrice) / 1e6;
  for (const { limits } of limitersOf(draft, key)) limits.spend += costUsd;
  emit({
    ...base,
    responseModel: routed.model.responseModel,
    fingerprint: routed.fingerprint,
    errorType: spec.timesOut ? 'timeout' : null,
    durationSeconds: spec.timesOut
      ? CLIENT_TIMEOUT_SECONDS
      : routed.model.latency * (0.6 + 0.8 * jitter(n, 2)),
    inputTokens: spec.inputTokens,
    outputTokens,
    costUsd,
  });
  return spec.timesOut ? null : routed;
}

// ---- The two workloads -------------------------------------------------------------------------

/** Every fourth question carries long context: more than a 4k-context model takes. */
function ragInputTokens(n: number): number {
  return n % 4 === 3 ? 5_000 + Math.floor(3_000 * jitter(n, 3)) : 1_200 + Math.floor(900 * jitter(n, 4));
}

function ragOutputTokens(n: number, effect: PromptEffect, routed: Answered): number {
  if (effect === 'context_only') return 25;
  const tokens = 120 + Math.floor(60 * jitter(n, 5));
  return routed.drifted ? Math.round(tokens * 1.8) : tokens;
}

function ragQuestion(draft: ReferenceAppState, emit: Emit): void {
  if (draft.modes.rulesBased || draft.modes.cacheOnly) {
    emit({ type: 'answer', mode: draft.modes.rulesBased ? 'rules' : 'cache' });
    return;
  }
  emit({ type: 'retrieval', hit: chance(draft, 'retrieval_hit', retrievalHealth(draft).hitRatio) });
  const n = draft.sim.step;
  const effect = productionEffect(draft);
  const spec: CallSpec = {
    workload: 'rag',
    inputTokens: ragInputTokens(n),
    outputTokens: (routed) => ragOutputTokens(n, effect, routed),
    retry: false,
    filtered: chance(draft, 'content_filter', CONTENT_FILTER_RATE),
  };
  let answered: Answered | null;
  if (chance(draft, 'transient_timeout', TRANSIENT_TIMEOUTS)) {
    call(draft, emit, { ...spec, timesOut: true });
    answered = call(draft, emit, { ...spec, retry: true });
  } else {
    answered = call(draft, emit, spec);
  }
  if (!answered) {
    emit({ type: 'answer', mode: 'failed' });
    return;
  }
  if (chance(draft, 'guardrail_refusal', GUARDRAIL_REFUSALS[effect]))
    emit({ type: 'refusal', reason: 'guardrail' });
  const mapping = draft.downstream.expectsField === 'citations';
  if (chance(draft, 'schema_error', SCHEMA_ERRORS[draft.downstream.expectsField])) {
    emit({ type: 'schema_error', mapping });
  }
  emit({ type: 'answer', mode: 'llm' });
}

/** Healthy sessions plan 3-6 steps; looping ones 40-60. */
function plannedSteps(id: number, looping: boolean): number {
  return looping ? 40 + ((id * 7) % 21) : 3 + (id % 4);
}

function agentSessions(draft: ReferenceAppState, emit: Emit): void {
  const { agent } = draft;
  if (chance(draft, 'agent_session', AGENT_SESSIONS_PER_STEP) && agent.sessions.length < MAX_AGENT_SESSIONS) {
    const id = draft.sim.nextSessionId++;
    agent.sessions.push({ id, planned: plannedSteps(id, agent.looping), steps: 0 });
  }
  const running = [];
  for (const session of agent.sessions) {
    const looping = session.planned > 20;
    const inputTokens = looping ? 6_000 + session.steps * 100 : 2_500 + session.steps * 200;
    let ok = true;
    for (let attempt = 0; attempt <= agent.clientRetries && ok; attempt++) {
      ok =
        call(draft, emit, { workload: 'agent', inputTokens, outputTokens: () => 120, retry: attempt > 0 }) !==
        null;
    }
    if (ok) session.steps++;
    if (ok && session.steps < session.planned) {
      running.push(session);
    } else {
      emit({ type: 'agent_session', steps: session.steps, outcome: ok ? 'completed' : 'aborted' });
    }
  }
  agent.sessions = running;
}

/** Runs `steps` steps of traffic: the new state, and what happened, in order. */
export function simulate(
  state: ReferenceAppState,
  steps: number,
): { state: ReferenceAppState; events: TrafficEvent[] } {
  const events: TrafficEvent[] = [];
  const emit: Emit = (event) => {
    events.push(event);
  };
  const next = evolve(state, (draft) => {
    for (let i = 0; i < steps; i++) {
      advanceClock(draft);
      refillBuckets(draft);
      ragQuestion(draft, emit);
      agentSessions(draft, emit);
    }
  });
  return { state: next, events };
}
