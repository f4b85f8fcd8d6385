import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { instantQuery, PromqlError, type QueryValue } from '../../../src/demo/promql-subset.js';
import { ScrapeStore } from '../../../src/demo/scrape-store.js';
import { injectFault } from '../../../src/reference-app/faults.js';
import { createReferenceAppMetrics } from '../../../src/reference-app/metrics.js';
import { initialState } from '../../../src/reference-app/state.js';
import { simulate } from '../../../src/reference-app/traffic.js';

const T0 = Date.parse('2026-11-22T10:00:00Z');
const TARGET = { job: 'test', instance: 'app:1' };

/** A store with hand-written scrapes every 15 s: `series` maps a series to its values in order. */
function storeOf(series: Record<string, readonly number[]>): ScrapeStore {
  const store = new ScrapeStore();
  const length = Math.max(...Object.values(series).map((values) => values.length));
  for (let i = 0; i < length; i++) {
    const lines = Object.entries(series)
      .filter(([, values]) => values[i] !== undefined)
      .map(([name, values]) => `${name} ${values[i]}`);
    store.ingest(`${lines.join('\n')}\n`, T0 + i * 15_000, TARGET);
  }
  return store;
}

function scalarOf(value: QueryValue): number {
  if (value.type === 'scalar') return value.value;
  if (value.type === 'vector' && value.samples.length === 1) return value.samples[0]!.value;
  throw new Error(`expected one value, got ${JSON.stringify(value)}`);
}

function vectorOf(value: QueryValue): Array<{ labels: Record<string, string>; value: number }> {
  if (value.type !== 'vector') throw new Error(`expected a vector, got ${value.type}`);
  return value.samples;
}

describe('the built-in PromQL subset', () => {
  it('selects the latest sample within five minutes, with its labels, name and target', () => {
    const store = storeOf({ 'up{service="a"}': [1, 0], 'up{service="b"}': [1] });
    const at = T0 + 15_000;
    expect(vectorOf(instantQuery('up{service="a"}', at, store))).toEqual([
      { labels: { __name__: 'up', service: 'a', job: 'test', instance: 'app:1' }, value: 0 },
    ]);
    // b vanished from the second scrape: its staleness marker hides it.
    expect(vectorOf(instantQuery('up', at, store)).map((s) => s.labels.service)).toEqual(['a']);
    expect(vectorOf(instantQuery('up{service=~"a|b"}', T0, store))).toHaveLength(2);
    expect(vectorOf(instantQuery('up{service!="a"}', T0, store))).toHaveLength(1);
    expect(vectorOf(instantQuery('up{service!~"a.*"}', T0, store))).toHaveLength(1);
    expect(vectorOf(instantQuery('up', T0 + 15_000 + 5 * 60_000 + 1, store))).toEqual([]);
  });

  it('computes rate and increase as Prometheus does: extrapolated, across counter resets', () => {
    // 10 per scrape for a minute, then a restart from 0.
    const store = storeOf({ c_total: [0, 10, 20, 30, 40, 5, 15] });
    const at = T0 + 60_000;
    // Samples at 0..60 s in a 60 s window: 40 over 60 s, the first sample sits on the window edge.
    expect(scalarOf(instantQuery('rate(c_total[1m])', at, store))).toBeCloseTo(40 / 60, 10);
    expect(scalarOf(instantQuery('increase(c_total[1m])', at, store))).toBeCloseTo(40, 10);
    // Across the reset: 40 + 5 + 10 = 55 over the samples from 15 s to 90 s, extrapolated to 90 s.
    const later = T0 + 90_000;
    expect(scalarOf(instantQuery('increase(c_total[90s])', later, store))).toBeCloseTo(
      (15 - 10 + 40) * (90 / 75),
      10,
    );
    // One sample is not enough for a rate.
    expect(vectorOf(instantQuery('rate(c_total[10s])', at, store))).toEqual([]);
  });

  it('aggregates with by, does arithmetic and comparisons, and filters with > 0', () => {
    const store = storeOf({
      'req_total{model="a",kind="x"}': [0, 15],
      'req_total{model="a",kind="y"}': [0, 30],
      'req_total{model="b",kind="x"}': [0, 0],
      'err_total{model="a",kind="x"}': [0, 3],
    });
    const at = T0 + 15_000;
    const byModel = vectorOf(instantQuery('sum by (model) (rate(req_total[30s]))', at, store));
    // Two samples 15 s apart in a 30 s window: the rise is not extrapolated below the counter's zero.
    expect(byModel.map((s) => [s.labels, s.value])).toEqual([
      [{ model: 'a' }, 1.5],
      [{ model: 'b' }, 0],
    ]);
    expect(scalarOf(instantQuery('count by (model) (rate(req_total[30s]) > 0)', at, store))).toBe(2);
    expect(vectorOf(instantQuery('count by (model) (rate(req_total[30s]) > 0)', at, store))).toEqual([
      { labels: { model: 'a' }, value: 2 },
    ]);
    expect(
      scalarOf(instantQuery('sum(rate(err_total[30s])) / sum(rate(req_total[30s]))', at, store)),
    ).toBeCloseTo(0.1 / 1.5, 10);
    expect(scalarOf(instantQuery('max(rate(req_total[30s])) - min(rate(req_total[30s]))', at, store))).toBe(
      1,
    );
    expect(scalarOf(instantQuery('avg(rate(req_total[30s]))', at, store))).toBe(0.5);
    // One-to-one matching on every label but the name.
    expect(vectorOf(instantQuery('rate(err_total[30s]) / rate(req_total[30s])', at, store))).toEqual([
      { labels: { model: 'a', kind: 'x', job: 'test', instance: 'app:1' }, value: 0.2 },
    ]);
    expect(scalarOf(instantQuery('sum(rate(req_total[30s])) > bool 10', at, store))).toBe(0);
    expect(scalarOf(instantQuery('(1 + 2) * 3 ^ 2 - -1', at, store))).toBe(28);
    expect(scalarOf(instantQuery('10 % 4 / 2', at, store))).toBe(1);
  });

  it('answers histogram_quantile over summed bucket rates', () => {
    const store = storeOf({
      'steps_bucket{le="1"}': [0, 150],
      'steps_bucket{le="5"}': [0, 270],
      'steps_bucket{le="10"}': [0, 300],
      'steps_bucket{le="+Inf"}': [0, 300],
    });
    const at = T0 + 15_000;
    // p50 of 300: rank 150 is the top of the first bucket; p95: rank 285 halfway into (5, 10].
    const q = (phi: number) =>
      scalarOf(instantQuery(`histogram_quantile(${phi}, sum by (le) (rate(steps_bucket[30s])))`, at, store));
    expect(q(0.5)).toBeCloseTo(1, 10);
    expect(q(0.95)).toBeCloseTo(7.5, 10);
    expect(q(1.5)).toBe(Number.POSITIVE_INFINITY);
  });

  it('honours offset and time(), and evaluates subqueries at aligned steps', () => {
    const store = storeOf({ g: [1, 2, 3, 4, 5, 6, 7, 8, 9] });
    const at = T0 + 120_000;
    expect(scalarOf(instantQuery('g offset 1m', at, store))).toBe(5);
    expect(scalarOf(instantQuery('time()', at, store))).toBe(at / 1000);
    expect(scalarOf(instantQuery('time() - max(g)', at, store))).toBe(at / 1000 - 9);
    expect(scalarOf(instantQuery('avg_over_time(g[1m])', at, store))).toBe(7.5);
    expect(scalarOf(instantQuery('count_over_time(g[1m])', at, store))).toBe(4);
    // Windows are left-open, as in Prometheus 3: steps at 90 and 120 s, where g is 7 and 9.
    expect(scalarOf(instantQuery('avg_over_time((max(g) > bool 7)[1m:30s])', at, store))).toBe(0.5);
  });

  it('refuses what it does not implement, with a clear error instead of a guess', () => {
    const store = storeOf({ g: [1] });
    const refused = (query: string) => () => instantQuery(query, T0, store);
    for (const query of [
      'topk(3, g)',
      'sum without (job) (g)',
      'g and g',
      'g / on (job) g',
      'g / ignoring (job) g',
      'label_replace(g, "a", "b", "c", "d")',
      'quantile(0.5, g)',
      'g @ 100',
      '"text"',
    ]) {
      expect(refused(query), query).toThrow(PromqlError);
      expect(refused(query), query).toThrow(/not supported by aisre's built-in PromQL subset/);
    }
    expect(refused('sum(g')).toThrow(PromqlError);
    expect(refused('rate(g)')).toThrow(/expects a range vector/);
    expect(refused('1 > 2')).toThrow(/bool/);
    expect(refused('g{service=}')).toThrow(/quoted label value/);
    expect(refused('rate(g[1m]) offset 1d')).toThrow(/offset must follow/);
  });
});

describe('the runbook and the rules on the reference app', () => {
  const service = 'rag-assistant';
  let queries: string[] = [];
  let healthy: ScrapeStore;
  let faulty: ScrapeStore;
  let at = 0;

  /** Twenty minutes of the app's scrapes, `fault` injected for the last five. */
  async function simulatedStore(fault?: Parameters<typeof injectFault>[1]): Promise<ScrapeStore> {
    let state = initialState({ nowMs: T0, service });
    const metrics = createReferenceAppMetrics(() => state);
    const store = new ScrapeStore();
    for (let i = 0; i <= 80; i++) {
      if (i === 60 && fault) state = injectFault(state, fault).state;
      if (i > 0) {
        const step = simulate(state, 60);
        state = step.state;
        metrics.record(step.events);
      }
      store.ingest(await metrics.registry.metrics(), T0 + i * 15_000, TARGET);
    }
    return store;
  }

  beforeAll(async () => {
    const runbook = parseYaml(await readFile('runbooks/ai-incident.yaml', 'utf8'), { merge: true }) as {
      vars: Record<string, string>;
    };
    const found = new Set<string>();
    const collect = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(collect);
      else if (node && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          if (key === 'query' && typeof value === 'string') found.add(value);
          else collect(value);
        }
      }
    };
    collect(runbook);
    queries = [...found].map((query) =>
      query
        .replace(/\{\{\s*vars\.(\w+)\s*\}\}/g, (_, name: string) => runbook.vars[name] ?? '')
        .replace(/\{\{\s*incident\.service\s*\}\}/g, service),
    );
    [healthy, faulty] = await Promise.all([simulatedStore(), simulatedStore('prompt_regression')]);
    at = T0 + 80 * 15_000;
  });

  it('answers every PromQL query of the shipped runbook with data on a healthy app', () => {
    expect(queries.length).toBeGreaterThanOrEqual(15);
    for (const query of queries) {
      const value = instantQuery(query, at, healthy);
      const values = value.type === 'scalar' ? [value.value] : vectorOf(value).map((s) => s.value);
      expect(values.length, query).toBeGreaterThan(0);
      for (const v of values) expect(Number.isFinite(v), query).toBe(true);
    }
  });

  it('reads the healthy values the runbook expects, and the fault where it shows', () => {
    const one = (store: ScrapeStore, query: string) => scalarOf(instantQuery(query, at, store));
    const evalPass = `avg(llm_eval_pass_ratio{ service="${service}" })`;
    expect(one(healthy, evalPass)).toBeGreaterThanOrEqual(0.9);
    expect(one(faulty, evalPass)).toBeLessThan(0.9);
    expect(one(healthy, `avg(rag_retrieval_hit_ratio{ service="${service}" })`)).toBeGreaterThanOrEqual(0.8);
    expect(
      one(healthy, `time() - max(rag_index_last_success_timestamp_seconds{ service="${service}" })`),
    ).toBeLessThanOrEqual(86_400);
    const refusals = queries.find((q) => q.startsWith('sum(rate(llm_refusals_total'))!;
    expect(one(healthy, refusals)).toBeLessThanOrEqual(0.05);
    const steps = queries.find((q) => q.startsWith('histogram_quantile'))!;
    expect(one(healthy, steps)).toBeLessThanOrEqual(20);
    const models = vectorOf(
      instantQuery(queries.find((q) => q.startsWith('count by (gen_ai_response_model)'))!, at, healthy),
    );
    expect(models.map((s) => s.labels.gen_ai_response_model).sort()).toEqual([
      'gpt-4o-2024-08-06',
      'gpt-4o-mini-2024-07-18',
    ]);
  });

  it("evaluates every shipped alert rule's expression; only the fault's rule fires", async () => {
    const rules = parseYaml(await readFile('deploy/prometheus/reference-app-rules.yml', 'utf8'), {
      merge: true,
    }) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
    const firing = (store: ScrapeStore) =>
      rules.groups
        .flatMap((g) => g.rules)
        .filter((rule) => vectorOf(instantQuery(rule.expr, at, store)).length > 0)
        .map((rule) => rule.alert);
    expect(firing(healthy)).toEqual([]);
    expect(firing(faulty)).toEqual(['EvalPassRateLow']);
  });
});
