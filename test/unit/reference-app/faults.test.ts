import { describe, expect, it } from 'vitest';
import {
  evalPassRatio,
  modelMismatchRatio,
  retrievalHealth,
  STALE_INDEX_MS,
} from '../../../src/reference-app/behaviour.js';
import { type FaultName, PROMPT_NAME, WORKLOADS } from '../../../src/reference-app/catalog.js';
import { injectFault } from '../../../src/reference-app/faults.js';
import {
  clearFaults,
  initialState,
  labelledVersion,
  moveLabels,
  type ReferenceAppState,
  reindex,
  setFallbacks,
  setKeyBlocked,
  setMode,
  updateDeployment,
  updateKeyLimits,
} from '../../../src/reference-app/state.js';
import { simulate } from '../../../src/reference-app/traffic.js';
import { summarize } from './traffic-summary.js';

const NOW = Date.parse('2026-11-22T12:00:00Z');
/** Ten simulated minutes: a few thousand requests and over a hundred agent sessions. */
const WINDOW = 2400;

/** Runs a window of traffic after a warm-up, so that every window starts from steady state. */
function traffic(state: ReferenceAppState, steps = WINDOW) {
  const warm = simulate(state, 400).state;
  const { state: after, events } = simulate(warm, steps);
  return { state: after, ...summarize(events, steps) };
}

function faulty(fault: FaultName) {
  return injectFault(initialState({ nowMs: NOW }), fault);
}

const healthy = initialState({ nowMs: NOW });
const baseline = traffic(healthy);

/** The runbook's healthy thresholds, as the default runbook's checks use them. */
function expectHealthy(state: ReferenceAppState, summary = traffic(state)) {
  expect(evalPassRatio(state)).toBeGreaterThanOrEqual(0.9);
  expect(retrievalHealth(state).hitRatio).toBeGreaterThanOrEqual(0.8);
  expect(modelMismatchRatio(state)).toBeLessThanOrEqual(0.01);
  expect(summary.refusals).toBeLessThanOrEqual(0.05);
  expect(summary.schemaErrors).toBeLessThanOrEqual(0.01);
  expect(summary.fallbacks).toBeLessThanOrEqual(0.05);
  expect(summary.retries).toBeLessThanOrEqual(0.1);
  expect(summary.contentFilter).toBeLessThanOrEqual(0.02);
  expect(summary.p95Steps).toBeLessThanOrEqual(20);
  expect(summary.tokensPerStep).toBeLessThanOrEqual(baseline.tokensPerStep * 1.5);
}

describe('the healthy reference app', () => {
  it('passes every threshold of the default runbook', () => {
    expectHealthy(healthy, baseline);
    expect(evalPassRatio(healthy)).toBe(0.95);
    expect(baseline.responseModels).toEqual(['gpt-4o-2024-08-06', 'gpt-4o-mini-2024-07-18']);
    expect(baseline.sessions).toBeGreaterThan(100);
  });

  it('behaves the same every time from the same state', () => {
    expect(simulate(healthy, 500)).toEqual(simulate(healthy, 500));
  });

  it('keeps the index fresh: the index job runs every five minutes', () => {
    const later = simulate(healthy, 4 * 60 * 30).state;
    expect(later.clockMs - later.retrieval.indexLastSuccessMs).toBeLessThan(5 * 60_000);
  });
});

describe('faults, each with the change event a real pipeline would post', () => {
  it('prompt_regression deploys rag-answer v3 to production and answers fail evals', () => {
    const { state, change } = faulty('prompt_regression');
    expect(change).toMatchObject({
      service: 'rag-assistant',
      kind: 'prompt',
      from: `${PROMPT_NAME} v2`,
      to: `${PROMPT_NAME} v3`,
    });
    expect(labelledVersion(state, PROMPT_NAME, 'production')?.version).toBe(3);
    expect(labelledVersion(state, PROMPT_NAME, 'latest')?.version).toBe(3);
    expect(evalPassRatio(state)).toBeLessThan(0.9);
    const summary = traffic(state);
    // Output shrinks to "I cannot find that": the output-length check sees it too.
    expect(summary.tokensPerStep).toBeLessThan(baseline.tokensPerStep);
    expect(summary.fingerprints).toEqual(baseline.fingerprints);
  });

  it('safety_regression deploys a prompt that refuses a third of questions', () => {
    const { state, change } = faulty('safety_regression');
    expect(change).toMatchObject({ kind: 'prompt', to: `${PROMPT_NAME} v3` });
    expect(traffic(state).refusals).toBeGreaterThan(0.25);
  });

  it('embedding_swap embeds queries with another model than the index: retrieval collapses', () => {
    const { state, change } = faulty('embedding_swap');
    expect(change).toMatchObject({
      kind: 'embedding',
      from: 'text-embedding-3-small',
      to: 'text-embedding-3-large',
    });
    expect(retrievalHealth(state)).toEqual({ hitRatio: 0.42, relevance: 0.36 });
    // The scheduled index refresh keeps the old embedding model: only a reindex helps.
    expect(retrievalHealth(simulate(state, 4 * 60 * 20).state).hitRatio).toBe(0.42);
  });

  it('stale_index stops the index job; the index last succeeded 26 hours ago', () => {
    const { state, change } = faulty('stale_index');
    expect(change).toMatchObject({ kind: 'index' });
    expect(Date.parse(change!.at)).toBeLessThan(NOW - STALE_INDEX_MS);
    const later = simulate(state, 4 * 60 * 10).state;
    expect(later.retrieval.indexLastSuccessMs).toBe(NOW - 26 * 3_600_000);
    expect(retrievalHealth(later).hitRatio).toBeLessThan(0.8);
  });

  it('misrouting points the gpt-4o deployment at gpt-3.5-turbo: wrong model, long requests fall back', () => {
    const { state, change } = faulty('misrouting');
    expect(change).toMatchObject({
      kind: 'config',
      from: 'gpt-4o-primary → gpt-4o',
      to: 'gpt-4o-primary → gpt-3.5-turbo',
    });
    const summary = traffic(state);
    expect(modelMismatchRatio(state)).toBe(0.75);
    expect(summary.fallbacks).toBeGreaterThan(0.05);
    expect(summary.responseModels).toContain('gpt-3.5-turbo-0613');
  });

  it('provider_drift changes the fingerprint silently: same model name, worse answers, no event', () => {
    const { state, change } = faulty('provider_drift');
    expect(change).toBeNull();
    const summary = traffic(state);
    expect(summary.responseModels).toEqual(baseline.responseModels);
    expect(summary.fingerprints).not.toEqual(baseline.fingerprints);
    expect(evalPassRatio(state)).toBeLessThan(0.9);
    expect(modelMismatchRatio(state)).toBe(0);
  });

  it('integration_mapping breaks the mapping downstream while the model is fine', () => {
    const { state, change } = faulty('integration_mapping');
    expect(change).toMatchObject({ kind: 'code', to: 'ticket-sync 2.4.0' });
    const summary = traffic(state);
    expect(summary.schemaErrors).toBeGreaterThan(0.3);
    expect(summary.mappingErrors).toBeGreaterThan(0);
    expect(evalPassRatio(state)).toBe(0.95);
  });

  it('cost_runaway makes the agent client send every call six times', () => {
    const { state, change } = faulty('cost_runaway');
    expect(change).toMatchObject({ kind: 'code', to: 'support-agent 1.9.0' });
    const summary = traffic(state);
    expect(summary.retries).toBeGreaterThan(0.3);
    expect(summary.tokensPerStep).toBeGreaterThan(baseline.tokensPerStep * 1.5);
    expect(summary.p95Steps).toBeLessThanOrEqual(20);
    expect(evalPassRatio(state)).toBeGreaterThanOrEqual(0.9);
  });

  it('agent_loop makes sessions take 40-60 steps and spend explode, answers unchanged', () => {
    const { state, change } = faulty('agent_loop');
    expect(change).toMatchObject({ kind: 'code' });
    const summary = traffic(state);
    expect(summary.p95Steps).toBeGreaterThan(20);
    expect(summary.tokensPerStep).toBeGreaterThan(baseline.tokensPerStep * 3);
    expect(summary.retries).toBeLessThanOrEqual(0.1);
    expect(evalPassRatio(state)).toBeGreaterThanOrEqual(0.9);
  });

  it('gives every injection its own change id, and lists the active faults', () => {
    const once = injectFault(healthy, 'embedding_swap');
    const twice = injectFault(once.state, 'embedding_swap');
    expect(twice.change?.id).not.toBe(once.change?.id);
    expect(injectFault(twice.state, 'misrouting').state.faults).toEqual(['embedding_swap', 'misrouting']);
  });

  it('clears every fault and remedy back to the seeded healthy world, keeping the clock', () => {
    let state = simulate(faulty('agent_loop').state, 100).state;
    state = injectFault(state, 'stale_index').state;
    state = updateKeyLimits(state, WORKLOADS.agent.key, { rpmLimit: 1 })!;
    const cleared = clearFaults(state);
    expect(cleared.faults).toEqual([]);
    expect(cleared.clockMs).toBe(state.clockMs);
    expect(cleared.gateway.keys[WORKLOADS.agent.key]?.rpmLimit).toBeNull();
    expect(cleared.agent.sessions).toEqual([]);
    expectHealthy(cleared);
  });
});

describe('remedies the default runbook recommends restore health', () => {
  it('prompt rollback: moving production back to v2 restores answers and refusals', () => {
    for (const fault of ['prompt_regression', 'safety_regression'] as const) {
      const rolledBack = moveLabels(faulty(fault).state, PROMPT_NAME, 2, ['production'])!;
      expect(labelledVersion(rolledBack, PROMPT_NAME, 'production')?.version).toBe(2);
      expect(labelledVersion(rolledBack, PROMPT_NAME, 'latest')?.version).toBe(3);
      expectHealthy(rolledBack);
    }
  });

  it('reindex rebuilds the index with the current embedding model and repairs the index job', () => {
    for (const fault of ['embedding_swap', 'stale_index'] as const) {
      const fixed = reindex(faulty(fault).state);
      expectHealthy(fixed);
      const later = simulate(fixed, 4 * 60 * 6).state;
      expect(later.retrieval.indexLastSuccessMs).toBeGreaterThan(fixed.retrieval.indexLastSuccessMs);
    }
  });

  it('route change: pointing gpt-4o-primary back at gpt-4o ends the misrouting', () => {
    expectHealthy(updateDeployment(faulty('misrouting').state, 'gpt-4o-primary', { upstream: 'gpt-4o' })!);
  });

  it('a general fallback takes a degraded group’s traffic: it fixes misrouting and drift', () => {
    for (const fault of ['misrouting', 'provider_drift'] as const) {
      const fixed = setFallbacks(faulty(fault).state, 'general', 'gpt-4o', ['gpt-4o-mini']);
      const summary = traffic(fixed);
      expectHealthy(fixed, summary);
      // A route, not a failover: not counted as fallbacks, and not a model nobody asked for.
      expect(summary.fallbacks).toBe(0);
      expect(summary.responseModels).toEqual(['gpt-4o-mini-2024-07-18']);
    }
  });

  it('pinning the older gpt-4o snapshot also avoids the drifted one', () => {
    const pinned = updateDeployment(faulty('provider_drift').state, 'gpt-4o-primary', {
      upstream: 'openai/gpt-4o-2024-05-13',
    })!;
    expect(traffic(pinned).responseModels).toContain('gpt-4o-2024-05-13');
    expectHealthy(pinned);
  });

  it('rules-based mode stops the schema errors while the mapping is broken; turning it off brings them back', () => {
    const broken = faulty('integration_mapping').state;
    const rules = setMode(broken, 'rulesBased', true);
    const summary = traffic(rules);
    expect(summary.schemaErrors).toBe(0);
    expect(summary.answers).toEqual({ rules: WINDOW });
    expectHealthy(rules, summary);
    expect(traffic(setMode(rules, 'rulesBased', false)).schemaErrors).toBeGreaterThan(0.3);
  });

  it('cache-only mode answers without the model but does not hide broken retrieval', () => {
    const cached = setMode(faulty('embedding_swap').state, 'cacheOnly', true);
    expect(traffic(cached).answers).toEqual({ cache: WINDOW });
    expect(retrievalHealth(cached).hitRatio).toBe(0.42);
  });

  it('a rate limit on the agent key cuts the retry loop and caps its spend', () => {
    const limited = updateKeyLimits(faulty('cost_runaway').state, WORKLOADS.agent.key, { rpmLimit: 30 })!;
    const summary = traffic(limited);
    expect(summary.rejected.rate_limited).toBeGreaterThan(0);
    expectHealthy(limited, summary);
  });

  it('a budget cap below the agent key’s spend stops the runaway agent at once', () => {
    const capped = updateKeyLimits(faulty('agent_loop').state, WORKLOADS.agent.key, { maxBudget: 50 })!;
    const summary = traffic(capped);
    expect(summary.rejected).toEqual({ budget_exceeded: expect.any(Number) });
    expectHealthy(capped, summary);
  });

  it('blocking the agent key is the circuit breaker; unblocking resumes the loop', () => {
    const blocked = setKeyBlocked(faulty('agent_loop').state, WORKLOADS.agent.key, true)!;
    const summary = traffic(blocked);
    expect(Object.keys(summary.rejected)).toEqual(['key_blocked']);
    expectHealthy(blocked, summary);
    const unblocked = setKeyBlocked(blocked, WORKLOADS.agent.key, false)!;
    expect(traffic(unblocked).p95Steps).toBeGreaterThan(20);
  });
});
