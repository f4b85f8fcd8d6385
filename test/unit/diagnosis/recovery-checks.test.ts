import { beforeAll, describe, expect, it } from 'vitest';
import { createCheckRegistry } from '../../../src/checks/built-in-checks.js';
import type { CheckStatus } from '../../../src/checks/check-type.js';
import { createNodeCheckRunner } from '../../../src/checks/node-check-runner.js';
import { type ConclusionNode, isConclusion, type Runbook } from '../../../src/diagnosis/runbook-schema.js';
import {
  loadDefaultRunbook,
  SCENARIO_NOW,
  scenarioChangeFacts,
  serveScenarioMetrics,
} from '../../scenarios/scenario-runner.js';
import { DEFAULT_SERVICE, HEALTHY_METRICS, SCENARIOS, type Scenario } from '../../scenarios/scenarios.js';
import { startPrometheusStandIn } from '../../support/prometheus-stand-in.js';
import { InMemoryChangeEvents, silentLogger, testDeps, testIncident } from '../checks/fixtures.js';

// A conclusion's checks verify its actions: an action counts as recovered only when every one of
// them passes. These tests hold the shipped runbook to that: each action can be verified, and
// verification follows the symptom, not the change that caused it.

let runbook: Runbook;

beforeAll(async () => {
  runbook = await loadDefaultRunbook();
});

/** The conclusions of the tree that recommend at least one action. */
function conclusionsWithActions(tree: Runbook): Array<[string, ConclusionNode]> {
  return Object.entries(tree.nodes).flatMap(([id, node]) =>
    isConclusion(node) && node.conclusion.actions.length > 0 ? [[id, node] as [string, ConclusionNode]] : [],
  );
}

/**
 * The statuses verification would see for a conclusion's checks, with Prometheus answering from
 * the scenario's metrics and the change log holding the scenario's changes.
 */
async function recoveryStatuses(
  node: ConclusionNode,
  scenario: Scenario,
): Promise<Record<string, CheckStatus>> {
  const service = scenario.service ?? DEFAULT_SERVICE;
  const prometheus = await startPrometheusStandIn();
  try {
    serveScenarioMetrics(prometheus, scenario);
    const runner = createNodeCheckRunner({
      registry: createCheckRegistry(),
      deps: testDeps({
        prometheus: { url: prometheus.url, publicUrl: undefined, headers: {} },
        changes: new InMemoryChangeEvents(scenarioChangeFacts(scenario)),
      }),
      clock: { now: () => SCENARIO_NOW },
      logger: silentLogger,
    });
    const results = await runner.run({
      checks: node.checks,
      incident: testIncident({ service, labels: { alertname: 'AiServiceDegraded', service } }),
      vars: runbook.vars,
      signal: AbortSignal.timeout(10_000),
      onResult: async () => {},
    });
    return Object.fromEntries(Object.entries(results).map(([id, result]) => [id, result.status]));
  } finally {
    await prometheus.close();
  }
}

/**
 * The scenario once the action worked: every metric the service exports is healthy again, while
 * what it does not export stays absent, and the changes and model labels stay as they were (a
 * rollback does not erase the deploy, a fallback does not undo the provider's update).
 */
function afterRecovery(scenario: Scenario): Scenario {
  const metrics = Object.fromEntries(
    Object.keys(scenario.metrics)
      .filter((key) => key in HEALTHY_METRICS)
      .map((key) => [key, HEALTHY_METRICS[key]!]),
  );
  return { ...scenario, metrics };
}

describe('recovery checks of the default runbook', () => {
  it('gives every conclusion that recommends an action checks of its own', () => {
    const conclusions = conclusionsWithActions(runbook);
    expect(conclusions.length).toBeGreaterThan(0);
    const unverified = conclusions.filter(([, node]) => node.checks.length === 0).map(([id]) => id);
    expect(unverified).toEqual([]);
  });

  it('never verifies recovery with a changes check, which keeps failing after a rollback', () => {
    const changeChecks = conclusionsWithActions(runbook).flatMap(([id, node]) =>
      node.checks.filter((check) => check.type === 'changes').map((check) => `${id}.${check.id}`),
    );
    expect(changeChecks).toEqual([]);
  });
});

describe('verifying the action of each diagnosed scenario', () => {
  const diagnosed = SCENARIOS.flatMap((scenario) =>
    'conclusion' in scenario.expect ? [[scenario.name, scenario, scenario.expect.conclusion] as const] : [],
  );

  it.each(diagnosed)(
    '%s: not recovered while broken, recovered once its metrics are healthy',
    async (_name, scenario, conclusion) => {
      const node = runbook.nodes[conclusion];
      if (!node || !isConclusion(node)) throw new Error(`"${conclusion}" is not a conclusion of the runbook`);
      if (node.conclusion.actions.length === 0) return;

      const broken = await recoveryStatuses(node, scenario);
      expect(Object.values(broken), JSON.stringify(broken)).toContain('fail');

      const healthy = await recoveryStatuses(node, afterRecovery(scenario));
      expect(healthy).toEqual(Object.fromEntries(node.checks.map((check) => [check.id, 'pass'])));
    },
  );
});
