import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CheckDependencies } from '../../../src/checks/check-type.js';
import { prometheusCheck } from '../../../src/checks/types/prometheus-check.js';
import { type PrometheusStandIn, startPrometheusStandIn } from '../../support/prometheus-stand-in.js';
import { closedPort, NOW, run, testDeps, testIncident } from './fixtures.js';

let prometheus: PrometheusStandIn;
let deps: CheckDependencies;

beforeAll(async () => {
  prometheus = await startPrometheusStandIn();
});
afterAll(() => prometheus.close());
beforeEach(() => {
  prometheus.queries.length = 0;
  deps = testDeps({
    prometheus: {
      url: prometheus.url,
      publicUrl: 'https://prom.example.com/',
      headers: { 'x-scope-orgid': 'ai' },
    },
  });
});

const passRate = { query: 'eval_pass_rate{service="{{labels.service}}"}', healthy: { op: '>=', value: 0.9 } };

describe('prometheus check', () => {
  it('passes a healthy vector and links the query in Prometheus', async () => {
    prometheus.respond('eval_pass_rate', [
      { labels: { __name__: 'eval_pass_rate', service: 'rag-api' }, value: '9.5e-01' },
    ]);
    const result = await run(prometheusCheck, { ...passRate, description: 'eval pass rate' }, deps);
    expect(result).toMatchObject({ status: 'pass', value: 0.95, summary: 'eval pass rate 0.95 >= 0.9' });
    expect(result.evidence).toContainEqual({ label: 'eval_pass_rate{service="rag-api"}', value: '0.95' });
    expect(result.evidence).toContainEqual({ label: 'query', value: 'eval_pass_rate{service="rag-api"}' });
    expect(result.links).toEqual([
      {
        label: 'Prometheus graph',
        url: `https://prom.example.com/graph?g0.expr=${encodeURIComponent('eval_pass_rate{service="rag-api"}')}&g0.tab=0&g0.range_input=1h`,
      },
    ]);
    const received = prometheus.queries[0]!;
    expect(received.time.getTime()).toBe(NOW.getTime());
    expect(received.headers['x-scope-orgid']).toBe('ai');
  });

  it('fails on the worst series and says how many are unhealthy', async () => {
    prometheus.respond('eval_pass_rate', [
      { labels: { model: 'a' }, value: 0.93 },
      { labels: { model: 'b' }, value: 0.71 },
      { labels: { model: 'c' }, value: 0.85 },
    ]);
    const result = await run(prometheusCheck, { ...passRate, description: 'eval pass rate' }, deps);
    expect(result.status).toBe('fail');
    expect(result.value).toBe(0.71);
    expect(result.summary).toBe('eval pass rate 0.71 < 0.9 on {model="b"} (2 of 3 series unhealthy)');
    expect(result.evidence.slice(0, 3)).toEqual([
      { label: '{model="b"}', value: '0.71 (unhealthy)' },
      { label: '{model="c"}', value: '0.85 (unhealthy)' },
      { label: '{model="a"}', value: '0.93' },
    ]);
  });

  it('folds series with reduce and lists at most five of them', async () => {
    prometheus.respond(
      'errors',
      Array.from({ length: 7 }, (_, i) => ({ labels: { pod: `p${i}` }, value: 1 })),
    );
    const result = await run(
      prometheusCheck,
      { query: 'errors', healthy: { op: '<', value: 5 }, reduce: 'sum' },
      deps,
    );
    expect(result).toMatchObject({ status: 'fail', value: 7, summary: 'value 7 >= 5 (sum of 7 series)' });
    expect(result.evidence.filter((item) => item.label.startsWith('{pod='))).toHaveLength(5);
    expect(result.evidence).toContainEqual({ label: '…', value: '2 more series' });
  });

  it('reads a scalar, with Prometheus spellings of special values', async () => {
    prometheus.respond('scalar(up)', { scalar: '1' });
    prometheus.respond('histogram_quantile', [{ labels: {}, value: Number.POSITIVE_INFINITY }]);
    expect(
      await run(prometheusCheck, { query: 'scalar(up)', healthy: { op: '==', value: 1 } }, deps),
    ).toMatchObject({ status: 'pass', value: 1 });
    const inf = await run(
      prometheusCheck,
      { query: 'histogram_quantile(0.99, x)', healthy: { op: '<', value: 5 } },
      deps,
    );
    expect(inf).toMatchObject({ status: 'fail', value: '+Inf', summary: 'value +Inf >= 5' });
  });

  it('is inconclusive with no data: an empty vector or only NaN', async () => {
    prometheus.respond('nothing', []);
    prometheus.respond('ratio', { scalar: 'NaN' });
    for (const query of ['nothing', 'ratio']) {
      const result = await run(prometheusCheck, { query, healthy: { op: '<', value: 1 } }, deps);
      expect(result).toMatchObject({ status: 'inconclusive', value: null, summary: 'no data' });
    }
  });

  it('reports a refused query as an error with the message and a link', async () => {
    prometheus.respond('bad(', {
      errorType: 'bad_data',
      error: '1:5: parse error: unclosed left parenthesis',
    });
    const result = await run(prometheusCheck, { query: 'bad(', healthy: { op: '<', value: 1 } }, deps);
    expect(result.status).toBe('error');
    expect(result.summary).toBe(
      'Prometheus refused the query (bad_data): 1:5: parse error: unclosed left parenthesis',
    );
    expect(result.links[0]?.url).toContain('/graph?g0.expr=bad(');
  });

  it('reports overload (503) and non-JSON proxy errors as errors', async () => {
    prometheus.respond('heavy', { errorType: 'unavailable', error: 'too many queries', status: 503 });
    prometheus.respond('proxied', { raw: '<html>502 Bad Gateway</html>', status: 502 });
    prometheus.respond('range', { raw: { status: 'success', data: { resultType: 'matrix', result: [] } } });
    const heavy = await run(prometheusCheck, { query: 'heavy', healthy: { op: '<', value: 1 } }, deps);
    expect(heavy).toMatchObject({
      status: 'error',
      summary: 'Prometheus refused the query (unavailable): too many queries',
    });
    const proxied = await run(prometheusCheck, { query: 'proxied', healthy: { op: '<', value: 1 } }, deps);
    expect(proxied).toMatchObject({
      status: 'error',
      summary: 'Prometheus answered HTTP 502: <html>502 Bad Gateway</html>',
    });
    const range = await run(prometheusCheck, { query: 'range', healthy: { op: '<', value: 1 } }, deps);
    expect(range.status).toBe('error');
    expect(range.summary).toMatch(/matrix result .*instant vector/);
  });

  it('times out as an error', async () => {
    prometheus.respond('slow', { delayMs: 2_000, answer: [{ labels: {}, value: 0 }] });
    const started = Date.now();
    const result = await run(prometheusCheck, { query: 'slow', healthy: { op: '<', value: 1 } }, deps, {
      timeoutMs: 200,
    });
    expect(result).toMatchObject({ status: 'error', summary: 'timed out after 200ms' });
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('keeps an injected label value inside its PromQL string', async () => {
    const incident = testIncident({ labels: { service: 'x"} or vector(1) #' } });
    await run(prometheusCheck, passRate, deps, { incident });
    expect(prometheus.queries.at(-1)?.query).toBe('eval_pass_rate{service="x\\"} or vector(1) #"}');
  });

  it('substitutes runbook vars as written', async () => {
    await run(prometheusCheck, { query: 'rate(x[{{vars.window}}])', healthy: { op: '<', value: 1 } }, deps, {
      vars: { window: '5m' },
    });
    expect(prometheus.queries.at(-1)?.query).toBe('rate(x[5m])');
  });

  it('errors when Prometheus is not configured or unreachable', async () => {
    const unconfigured = await run(prometheusCheck, passRate, testDeps());
    expect(unconfigured).toMatchObject({ status: 'error', summary: 'no Prometheus URL is configured' });
    const url = `http://127.0.0.1:${await closedPort()}`;
    const down = testDeps({ prometheus: { url, publicUrl: undefined, headers: {} } });
    const unreachable = await run(prometheusCheck, passRate, down);
    expect(unreachable).toMatchObject({
      status: 'error',
      summary: `could not reach Prometheus at ${url}: ECONNREFUSED`,
    });
  });

  it('rejects params a runbook got wrong', async () => {
    const result = await run(prometheusCheck, { query: 'up', healthy: { op: '=>', value: 1 } }, deps);
    expect(result.status).toBe('error');
    expect(result.summary).toMatch(/^invalid params: healthy\.op/);
  });
});
