import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isConclusion, type Runbook } from '../../src/diagnosis/runbook-schema.js';
import {
  accuracyOf,
  describeExpectation,
  describeOutcome,
  formatScenarioReport,
  loadDefaultRunbook,
  matchesExpectation,
  recogniseQuery,
  runScenario,
  type ScenarioResult,
} from '../scenarios/scenario-runner.js';
import { HEALTHY_LABELS, HEALTHY_METRICS, SCENARIOS } from '../scenarios/scenarios.js';

let runbook: Runbook;
const results: ScenarioResult[] = [];

beforeAll(async () => {
  runbook = await loadDefaultRunbook();
});

/** Every PromQL query of the runbook, with vars and the service substituted as the checks do. */
function runbookQueries(tree: Runbook): Array<{ where: string; query: string }> {
  const queries: Array<{ where: string; query: string }> = [];
  for (const [nodeId, node] of Object.entries(tree.nodes)) {
    for (const check of node.checks) {
      const query = (check.params as { query?: unknown }).query;
      if (typeof query !== 'string') continue;
      const rendered = query
        .replace(/\{\{\s*vars\.(\w+)\s*\}\}/g, (_m, name: string) => String(tree.vars[name]))
        .replace(/\{\{\s*incident\.service\s*\}\}/g, 'svc');
      queries.push({ where: `${nodeId}.${check.id}`, query: rendered });
    }
  }
  return queries;
}

describe('scenario set', () => {
  it('recognises every query of the default runbook as a metric the scenarios can answer', () => {
    const unknown = runbookQueries(runbook).filter(({ query }) => {
      const recognised = recogniseQuery(query);
      if (!recognised) return true;
      return recognised.countBy
        ? !(recognised.countBy in HEALTHY_LABELS)
        : !(recognised.key in HEALTHY_METRICS);
    });
    expect(unknown).toEqual([]);
  });

  it('names only metrics and labels the runbook queries (a typo would read as "no data")', () => {
    const known = new Set(
      runbookQueries(runbook).map(({ query }) => {
        const recognised = recogniseQuery(query);
        return recognised?.countBy ? `label:${recognised.countBy}` : (recognised?.key ?? '');
      }),
    );
    const typos = SCENARIOS.flatMap((scenario) => [
      ...Object.keys(scenario.metrics)
        .filter((key) => !known.has(key))
        .map((key) => `${scenario.name}: ${key}`),
      ...Object.keys(scenario.seriesLabels ?? {})
        .filter((label) => !known.has(`label:${label}`))
        .map((label) => `${scenario.name}: ${label}`),
    ]);
    expect(typos).toEqual([]);
  });

  it('covers every conclusion the tree can reach without a person, and asking one', () => {
    const manualOnly = new Set(['not_ai_layer']);
    const conclusions = Object.entries(runbook.nodes)
      .filter(([id, node]) => isConclusion(node) && !manualOnly.has(id))
      .map(([id]) => id);
    const expected = new Set(
      SCENARIOS.map((scenario) => ('conclusion' in scenario.expect ? scenario.expect.conclusion : '')),
    );
    expect(conclusions.filter((id) => !expected.has(id))).toEqual([]);
    expect(SCENARIOS.some((scenario) => 'asks' in scenario.expect && scenario.expect.asks === 'triage')).toBe(
      true,
    );
    expect(new Set(SCENARIOS.map((scenario) => scenario.name)).size).toBe(SCENARIOS.length);
  });
});

describe('diagnosis scenarios', () => {
  afterAll(() => {
    if (results.length > 0) console.log(formatScenarioReport(results));
  });

  it.each(SCENARIOS.map((scenario) => [scenario.name, scenario] as const))('%s', async (_name, scenario) => {
    const outcome = await runScenario(scenario, runbook);
    const correct = matchesExpectation(scenario.expect, outcome);
    results.push({ scenario, outcome, correct });
    expect(
      { got: describeOutcome(outcome), path: outcome.path },
      JSON.stringify(outcome.checks),
    ).toMatchObject({ got: describeExpectation(scenario.expect) });
  });

  it('diagnoses every scenario correctly (accuracy 100%)', () => {
    expect(results).toHaveLength(SCENARIOS.length);
    expect(accuracyOf(results)).toBe(1);
  });
});
