import { describe, expect, it } from 'vitest';
import { route } from '../../../src/reference-app/behaviour.js';
import { PROMPT_NAME, WORKLOADS } from '../../../src/reference-app/catalog.js';
import {
  deployPromptVersion,
  initialState,
  labelledVersion,
  moveLabels,
  setFallbacks,
  updateDeployment,
  updateKeyLimits,
  updateTeamLimits,
} from '../../../src/reference-app/state.js';
import { simulate } from '../../../src/reference-app/traffic.js';
import { summarize } from './traffic-summary.js';

const NOW = Date.parse('2026-11-22T12:00:00Z');
const healthy = initialState({ nowMs: NOW });
const AGENT = WORKLOADS.agent.key;

/** Steps in a simulated minute. */
const MINUTE = 240;

describe('Langfuse labels', () => {
  it('moves a label onto one version and off all others, as Langfuse does', () => {
    const deployed = deployPromptVersion(
      healthy,
      PROMPT_NAME,
      { text: 'v3', commitMessage: 'three', effect: 'good' },
      ['production', 'staging'],
    );
    expect(deployed).toMatchObject({ version: 3, previous: 2 });
    const moved = moveLabels(deployed.state, PROMPT_NAME, 1, ['staging'])!;
    expect(moved.prompts[PROMPT_NAME]!.map((v) => [v.version, [...v.labels].sort()])).toEqual([
      [1, ['staging']],
      [2, []],
      [3, ['latest', 'production']],
    ]);
    expect(labelledVersion(moved, PROMPT_NAME, 'production')?.version).toBe(3);
  });

  it('answers undefined for an unknown prompt or version, leaving the state alone', () => {
    expect(moveLabels(healthy, PROMPT_NAME, 9, ['production'])).toBeUndefined();
    expect(moveLabels(healthy, 'constructor', 1, ['production'])).toBeUndefined();
  });
});

describe('the simulated gateway', () => {
  it('routes a model group to its deployment, and rejects unknown groups and upstreams', () => {
    expect(route(healthy, 'gpt-4o', { inputTokens: 100, filtered: false })).toMatchObject({
      ok: true,
      model: { responseModel: 'gpt-4o-2024-08-06' },
      viaFallback: null,
    });
    expect(route(healthy, 'claude-3', { inputTokens: 100, filtered: false })).toEqual({
      ok: false,
      error: 'invalid_model',
    });
    const nowhere = updateDeployment(healthy, 'gpt-4o-primary', { upstream: 'no-such-model' })!;
    expect(route(nowhere, 'gpt-4o', { inputTokens: 100, filtered: false })).toEqual({
      ok: false,
      error: 'not_found',
    });
    const withFallback = setFallbacks(nowhere, 'general', 'gpt-4o', ['gpt-4o-mini']);
    expect(route(withFallback, 'gpt-4o', { inputTokens: 100, filtered: false })).toMatchObject({
      ok: true,
      viaFallback: 'error',
    });
  });

  it('sends content-filtered requests to a content_policy fallback when there is one', () => {
    expect(route(healthy, 'gpt-4o', { inputTokens: 100, filtered: true })).toEqual({
      ok: false,
      error: 'content_filter',
    });
    const policy = setFallbacks(healthy, 'content_policy', 'gpt-4o', ['gpt-4o-mini']);
    expect(route(policy, 'gpt-4o', { inputTokens: 100, filtered: true })).toMatchObject({
      ok: true,
      viaFallback: 'content_policy',
      model: { family: 'gpt-4o-mini' },
    });
    expect(setFallbacks(policy, 'content_policy', 'gpt-4o', null).gateway.fallbacks.content_policy).toEqual(
      {},
    );
  });

  it('an rpm limit caps the calls a key makes per minute', () => {
    const limited = updateKeyLimits(healthy, AGENT, { rpmLimit: 12 })!;
    const { events } = simulate(limited, 10 * MINUTE);
    const agentCalls = events.filter(
      (e) => e.type === 'operation' && e.workload === 'agent' && e.errorType === null,
    ).length;
    expect(agentCalls).toBeLessThanOrEqual(12 * 10 + 1);
    expect(agentCalls).toBeGreaterThan(12 * 10 * 0.8);
  });

  it('a tpm limit caps the tokens a key spends per minute', () => {
    const limited = updateKeyLimits(healthy, AGENT, { tpmLimit: 20_000 })!;
    const { events } = simulate(limited, 10 * MINUTE);
    const tokens = events
      .filter((e) => e.type === 'operation' && e.workload === 'agent')
      .reduce((sum, e) => sum + (e.type === 'operation' ? e.inputTokens + e.outputTokens : 0), 0);
    expect(tokens).toBeLessThanOrEqual(20_000 * 10 + 5_000);
  });

  it('a team limit applies to all of its keys together', () => {
    const limited = updateTeamLimits(healthy, 'ai-platform', { rpmLimit: 60 })!;
    const summary = summarize(simulate(limited, MINUTE).events, MINUTE);
    expect(summary.rejected.rate_limited).toBeGreaterThan(0);
    expect(summary.operations - (summary.rejected.rate_limited ?? 0)).toBeLessThanOrEqual(60 + 1);
  });

  it('a budget cap above the spend lets calls through until the spend reaches it', () => {
    const spend = healthy.gateway.keys[AGENT]!.spend;
    const capped = updateKeyLimits(healthy, AGENT, { maxBudget: spend + 0.05 })!;
    const { state, events } = simulate(capped, 30 * MINUTE);
    const agentOps = events.filter((e) => e.type === 'operation' && e.workload === 'agent');
    expect(agentOps[0]).toMatchObject({ errorType: null });
    expect(agentOps.at(-1)).toMatchObject({ errorType: 'budget_exceeded' });
    expect(state.gateway.keys[AGENT]!.spend).toBeLessThan(spend + 0.06);
  });

  it('a budget duration resets the spend when it runs out', () => {
    const capped = updateKeyLimits(healthy, AGENT, { maxBudget: 1, budgetDuration: '1m' })!;
    const key = capped.gateway.keys[AGENT]!;
    expect(key.budgetResetAtMs).toBe(NOW + 60_000);
    const later = simulate(capped, MINUTE + 1).state.gateway.keys[AGENT]!;
    expect(later.spend).toBeLessThan(1);
    expect(later.budgetResetAtMs).toBe(NOW + 120_000);
  });
});
