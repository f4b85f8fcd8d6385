import { fileURLToPath } from 'node:url';
import { createActor, fromPromise, waitFor } from 'xstate';
import { ActionCatalog } from '../../src/actions/action-catalog.js';
import { createCheckRegistry } from '../../src/checks/built-in-checks.js';
import type { ChangeEventFact, CheckIncident, CheckStatus } from '../../src/checks/check-type.js';
import { createNodeCheckRunner } from '../../src/checks/node-check-runner.js';
import {
  compileDiagnosisMachine,
  type RunChecksInput,
  snapshotPhase,
} from '../../src/diagnosis/diagnosis-machine.js';
import { loadRunbooks } from '../../src/diagnosis/runbook-loader.js';
import { isConclusion, type Layer, type Runbook } from '../../src/diagnosis/runbook-schema.js';
import {
  type PromAnswer,
  type PrometheusStandIn,
  startPrometheusStandIn,
} from '../support/prometheus-stand-in.js';
import { InMemoryChangeEvents, silentLogger, testDeps } from '../unit/checks/fixtures.js';
import {
  DEFAULT_SERVICE,
  type MetricValue,
  SCENARIOS,
  type Scenario,
  type ScenarioExpectation,
} from './scenarios.js';

/** When every scenario's incident started, and when it is diagnosed. */
export const SCENARIO_START = new Date('2026-11-22T11:30:00Z');
export const SCENARIO_NOW = new Date('2026-11-22T11:50:00Z');

const RUNBOOK_DIR = fileURLToPath(new URL('../../runbooks/', import.meta.url));
const DEFAULT_RUNBOOK_ID = 'ai_incident';

/** A selector's metric name and its label matchers, as `recogniseQuery` found them. */
export interface RecognisedQuery {
  metric: string;
  matchers: Record<string, string>;
  /** The metric, plus its matchers other than `service` (`name{k="v"}`): the scenario key. */
  key: string;
  /** The label of a `count by (label)` query, answered with one series per label value. */
  countBy?: string;
}

const SELECTOR = /([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{([^}]*)\}|\[)/;
const MATCHER = /([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g;
const COUNT_BY = /\bcount\s+by\s*\(\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)/;

/**
 * Recognises what a PromQL query is about: the first metric selector in it (an identifier
 * followed by `{` or `[`; functions and aggregations are followed by `(` and are skipped).
 */
export function recogniseQuery(query: string): RecognisedQuery | undefined {
  const selector = SELECTOR.exec(query);
  if (!selector) return undefined;
  const metric = selector[1]!;
  const matchers: Record<string, string> = {};
  for (const match of (selector[3] ?? '').matchAll(MATCHER)) {
    matchers[match[1]!] = match[3]!.replace(/\\(.)/g, '$1');
  }
  const qualifiers = Object.entries(matchers)
    .filter(([label]) => label !== 'service')
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([label, value]) => `${label}=${JSON.stringify(value)}`);
  const key = qualifiers.length > 0 ? `${metric}{${qualifiers.join(',')}}` : metric;
  const countBy = COUNT_BY.exec(query)?.[1];
  return countBy ? { metric, matchers, key, countBy } : { metric, matchers, key };
}

let defaultRunbook: Promise<Runbook> | undefined;

/** The default runbook, loaded and validated the way the service loads it. */
export function loadDefaultRunbook(): Promise<Runbook> {
  defaultRunbook ??= loadRunbooks(RUNBOOK_DIR, {
    checks: createCheckRegistry(),
    actions: new ActionCatalog(),
  }).then((loaded) => {
    const found = loaded.find((candidate) => candidate.runbook.id === DEFAULT_RUNBOOK_ID);
    if (!found) throw new Error(`no runbook "${DEFAULT_RUNBOOK_ID}" in ${RUNBOOK_DIR}`);
    return found.runbook;
  });
  return defaultRunbook;
}

/** What the diagnosis did with a scenario. */
export interface ScenarioOutcome {
  /** The conclusion node reached without a person. */
  concludedNode?: string;
  layer?: Layer;
  /** The decision node waiting for a person's answer. */
  askedAt?: string;
  /** Nodes entered, in order. */
  path: string[];
  /** Check statuses by node, in the order the nodes ran. */
  checks: Array<{ node: string; statuses: Record<string, CheckStatus> }>;
  /** Queries Prometheus received. */
  queries: number;
}

export interface ScenarioResult {
  scenario: Scenario;
  outcome: ScenarioOutcome;
  correct: boolean;
}

function split(value: MetricValue): { now: number; baseline: number } {
  return typeof value === 'number' ? { now: value, baseline: value } : value;
}

const sample = (value: number): PromAnswer => [{ labels: {}, value }];

function incidentFor(scenario: Scenario): CheckIncident {
  const service = scenario.service ?? DEFAULT_SERVICE;
  return {
    id: 1,
    title: scenario.name,
    service,
    layerHint: null,
    labels: { alertname: 'AiServiceDegraded', service },
    startedAt: SCENARIO_START,
  };
}

/**
 * A scenario's changes as recorded facts, timed against `start` (when the incident started).
 * `service` replaces the scenario's own service, for changes that do not name another one.
 */
export function scenarioChangeFacts(
  scenario: Scenario,
  options: { start?: Date; service?: string } = {},
): ChangeEventFact[] {
  const start = options.start ?? SCENARIO_START;
  const service = options.service ?? scenario.service ?? DEFAULT_SERVICE;
  return scenario.changes.map((change, index) => ({
    id: index + 1,
    service: change.service ?? service,
    kind: change.kind,
    fromVersion: change.from ?? null,
    toVersion: change.to ?? null,
    author: change.author ?? null,
    at: new Date(start.getTime() - change.minutesBeforeStart * 60_000),
    link: null,
    summary: change.summary ?? null,
  }));
}

/**
 * Makes the stand-in answer the runbook's queries about `service` from a scenario's metrics and
 * series labels: a query evaluated before `cutoff` (a baseline look-back, `1d` ago) gets the
 * baseline value, any other the value now. Queries about other services are left alone, so one
 * stand-in can serve several scenarios at once, one service each. Registered later, these rules
 * win over earlier ones for the same queries.
 */
export function serveScenarioMetrics(
  prometheus: PrometheusStandIn,
  scenario: Scenario,
  options: { service?: string; cutoff?: Date } = {},
): void {
  const service = options.service ?? scenario.service ?? DEFAULT_SERVICE;
  const cutoff = options.cutoff ?? SCENARIO_START;
  const aboutThisService = (recognised: RecognisedQuery) =>
    recognised.matchers.service === undefined || recognised.matchers.service === service;
  for (const [key, value] of Object.entries(scenario.metrics)) {
    const { now, baseline } = split(value);
    prometheus.respondAt(
      (query) => {
        const recognised = recogniseQuery(query);
        return (
          recognised !== undefined &&
          !recognised.countBy &&
          recognised.key === key &&
          aboutThisService(recognised)
        );
      },
      { cutoff, now: sample(now), baseline: sample(baseline) },
    );
  }
  for (const [label, values] of Object.entries(scenario.seriesLabels ?? {})) {
    const series = (list: string[]): PromAnswer =>
      list.map((item) => ({ labels: { [label]: item }, value: 1 }));
    prometheus.respondAt(
      (query) => {
        const recognised = recogniseQuery(query);
        return recognised?.countBy === label && aboutThisService(recognised);
      },
      { cutoff, now: series(values.now), baseline: series(values.baseline) },
    );
  }
}

/**
 * Runs a scenario through the real runbook, the real check plugins (over HTTP, against a
 * Prometheus stand-in answering from the scenario's metrics) and the compiled machine, until it
 * concludes or asks a person.
 */
export async function runScenario(scenario: Scenario, runbook?: Runbook): Promise<ScenarioOutcome> {
  const tree = runbook ?? (await loadDefaultRunbook());
  const incident = incidentFor(scenario);
  const prometheus = await startPrometheusStandIn();
  try {
    serveScenarioMetrics(prometheus, scenario, {
      service: incident.service ?? DEFAULT_SERVICE,
      cutoff: SCENARIO_START,
    });

    const runner = createNodeCheckRunner({
      registry: createCheckRegistry(),
      deps: testDeps({
        prometheus: { url: prometheus.url, publicUrl: undefined, headers: {} },
        changes: new InMemoryChangeEvents(scenarioChangeFacts(scenario)),
      }),
      clock: { now: () => SCENARIO_NOW },
      logger: silentLogger,
    });
    const checks: ScenarioOutcome['checks'] = [];
    const machine = compileDiagnosisMachine(tree).provide({
      actors: {
        runChecks: fromPromise(async ({ input, signal }: { input: RunChecksInput; signal: AbortSignal }) => {
          const node = tree.nodes[input.node];
          if (!node || node.checks.length === 0) return {};
          const results = await runner.run({
            checks: node.checks,
            incident,
            vars: tree.vars,
            signal,
            onResult: async () => {},
          });
          checks.push({
            node: input.node,
            statuses: Object.fromEntries(Object.entries(results).map(([id, result]) => [id, result.status])),
          });
          return results;
        }),
      },
    });
    const actor = createActor(machine).start();
    try {
      const settled = await waitFor(
        actor,
        (snapshot) => {
          const { phase } = snapshotPhase(tree, snapshot.value);
          return phase === 'concluded' || phase === 'asking';
        },
        { timeout: 20_000 },
      );
      const { node, phase } = snapshotPhase(tree, settled.value);
      const path = settled.context.path.map((entry) => entry.node);
      const outcome: ScenarioOutcome = { path, checks, queries: prometheus.queries.length };
      const reached = tree.nodes[node];
      if (phase === 'concluded' && reached && isConclusion(reached)) {
        outcome.concludedNode = node;
        outcome.layer = reached.conclusion.layer;
      } else {
        outcome.askedAt = node;
      }
      return outcome;
    } finally {
      actor.stop();
    }
  } finally {
    await prometheus.close();
  }
}

/** Whether the diagnosis reached what the scenario expects. */
export function matchesExpectation(expected: ScenarioExpectation, outcome: ScenarioOutcome): boolean {
  if ('asks' in expected) return outcome.askedAt === expected.asks && outcome.concludedNode === undefined;
  return outcome.concludedNode === expected.conclusion && outcome.layer === expected.layer;
}

export function describeExpectation(expected: ScenarioExpectation): string {
  return 'asks' in expected ? `asks at ${expected.asks}` : `${expected.layer}/${expected.conclusion}`;
}

export function describeOutcome(outcome: ScenarioOutcome): string {
  if (outcome.concludedNode) return `${outcome.layer}/${outcome.concludedNode}`;
  return `asks at ${outcome.askedAt ?? '?'}`;
}

/** Runs every scenario (or the ones given), one after another, and scores them. */
export async function runAllScenarios(
  scenarios: readonly Scenario[] = SCENARIOS,
  runbook?: Runbook,
): Promise<{ results: ScenarioResult[]; accuracy: number }> {
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) {
    const outcome = await runScenario(scenario, runbook);
    results.push({ scenario, outcome, correct: matchesExpectation(scenario.expect, outcome) });
  }
  return { results, accuracy: accuracyOf(results) };
}

/** Share of results that reached the expected diagnosis; 0 when there are none. */
export function accuracyOf(results: readonly ScenarioResult[]): number {
  if (results.length === 0) return 0;
  return results.filter((result) => result.correct).length / results.length;
}

/** One line per scenario (expected, got, path), the checks of wrong ones, then the accuracy line. */
export function formatScenarioReport(results: readonly ScenarioResult[]): string {
  const width = Math.max(0, ...results.map((result) => result.scenario.name.length));
  const lines = ['Diagnosis scenarios (runbooks/ai-incident.yaml)'];
  for (const { scenario, outcome, correct } of results) {
    lines.push(
      `  ${correct ? '✓' : '✗'} ${scenario.name.padEnd(width)}  expected ${describeExpectation(scenario.expect)}` +
        `  got ${describeOutcome(outcome)}  path ${outcome.path.join(' → ')}`,
    );
    if (!correct) {
      for (const { node, statuses } of outcome.checks) {
        const shown = Object.entries(statuses).map(([id, status]) => `${id}=${status}`);
        lines.push(`      ${node}: ${shown.join(', ')}`);
      }
    }
  }
  const correctCount = results.filter((result) => result.correct).length;
  lines.push(
    `Diagnosis accuracy: ${correctCount}/${results.length} (${(accuracyOf(results) * 100).toFixed(1)}%)`,
  );
  return lines.join('\n');
}
