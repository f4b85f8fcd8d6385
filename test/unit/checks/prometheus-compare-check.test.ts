import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CheckDependencies } from '../../../src/checks/check-type.js';
import { prometheusCompareCheck } from '../../../src/checks/types/prometheus-compare-check.js';
import { type PrometheusStandIn, startPrometheusStandIn } from '../../support/prometheus-stand-in.js';
import { NOW, run, testDeps } from './fixtures.js';

let prometheus: PrometheusStandIn;
let deps: CheckDependencies;
const CUTOFF = new Date(NOW.getTime() - 3_600_000);
const QUERY = 'sum(rate(gen_ai_client_token_usage_sum{gen_ai_token_type="output"}[15m]))';
const params = { query: QUERY, baseline_offset: '1d', max_increase: 0.5, max_decrease: 0.3 };

beforeAll(async () => {
  prometheus = await startPrometheusStandIn();
});
afterAll(() => prometheus.close());
beforeEach(() => {
  prometheus.queries.length = 0;
  deps = testDeps({ prometheus: { url: prometheus.url, publicUrl: undefined, headers: {} } });
});

function answers(now: number[], baseline: number[]) {
  const series = (values: number[]) => values.map((value, i) => ({ labels: { pod: `p${i}` }, value }));
  prometheus.respondAt(QUERY, { cutoff: CUTOFF, now: series(now), baseline: series(baseline) });
}

describe('prometheus_compare check', () => {
  it('evaluates the same query now and one offset earlier', async () => {
    answers([110], [100]);
    const result = await run(prometheusCompareCheck, params, deps);
    expect(result).toMatchObject({ status: 'pass', value: expect.closeTo(0.1, 9) });
    expect(result.summary).toBe('value +10% vs 1d ago (100 → 110)');
    expect(prometheus.queries.map((q) => q.query)).toEqual([QUERY, QUERY]);
    expect(prometheus.queries.map((q) => q.time.toISOString()).sort()).toEqual([
      '2026-11-21T12:00:00.000Z',
      '2026-11-22T12:00:00.000Z',
    ]);
  });

  it('fails on a rise beyond max_increase, summing series by default', async () => {
    answers([100, 60], [50, 50]);
    const result = await run(prometheusCompareCheck, { ...params, description: 'output tokens/s' }, deps);
    expect(result).toMatchObject({ status: 'fail', value: 0.6 });
    expect(result.summary).toBe('output tokens/s +60% vs 1d ago (100 → 160); allowed +50%');
    expect(result.evidence).toContainEqual({ label: 'change', value: '+60%' });
  });

  it('fails on a fall beyond max_decrease', async () => {
    answers([40], [100]);
    const result = await run(prometheusCompareCheck, params, deps);
    expect(result).toMatchObject({ status: 'fail', value: -0.6 });
    expect(result.summary).toBe('value -60% vs 1d ago (100 → 40); allowed -30%');
  });

  it('only judges the directions it is given', async () => {
    answers([10], [100]);
    const result = await run(
      prometheusCompareCheck,
      { query: QUERY, baseline_offset: '1d', max_increase: 0.5 },
      deps,
    );
    expect(result.status).toBe('pass');
  });

  it('treats any rise from a zero baseline as unbounded, and zero to zero as no change', async () => {
    answers([3], [0]);
    const rise = await run(prometheusCompareCheck, params, deps);
    expect(rise).toMatchObject({
      status: 'fail',
      value: '+Inf',
      summary: 'value went from 0 to 3 since 1d ago; allowed +50%',
    });
    answers([0], [0]);
    expect(await run(prometheusCompareCheck, params, deps)).toMatchObject({ status: 'pass', value: 0 });
  });

  it('is inconclusive when either side has no data', async () => {
    answers([], [100]);
    expect(await run(prometheusCompareCheck, params, deps)).toMatchObject({
      status: 'inconclusive',
      summary: 'no data now',
    });
    answers([100], []);
    expect(await run(prometheusCompareCheck, params, deps)).toMatchObject({
      status: 'inconclusive',
      summary: 'no data 1d ago, nothing to compare with',
    });
    answers([], []);
    expect((await run(prometheusCompareCheck, params, deps)).summary).toBe('no data now or 1d ago');
  });

  it('needs at least one limit', async () => {
    const result = await run(prometheusCompareCheck, { query: QUERY, baseline_offset: '1d' }, deps);
    expect(result.summary).toMatch(/^invalid params: max_increase: give max_increase, max_decrease or both/);
  });
});
