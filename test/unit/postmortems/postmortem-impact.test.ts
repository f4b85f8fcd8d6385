import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prometheusClient } from '../../../src/checks/types/prometheus-api.js';
import { impactWindow, prometheusImpactReader } from '../../../src/postmortems/postmortem-impact.js';
import { alertFixture, incidentFixture } from '../../support/domain-fixtures.js';
import { type PrometheusStandIn, startPrometheusStandIn } from '../../support/prometheus-stand-in.js';
import { closedPort, testDeps } from '../checks/fixtures.js';

const FROM = new Date('2026-11-22T10:00:00Z');
const TO = new Date('2026-11-22T12:30:00Z');
const WINDOW = { service: 'rag-api', from: FROM, to: TO };

function readerFor(url: string | undefined, options: { timeoutMs?: number; sloPassRate?: number } = {}) {
  const deps = testDeps({ prometheus: { url, publicUrl: undefined, headers: {} } });
  return prometheusImpactReader({ prometheus: prometheusClient(deps), ...options });
}

describe('the Prometheus impact reader', () => {
  let prometheus: PrometheusStandIn;
  beforeEach(async () => {
    prometheus = await startPrometheusStandIn();
  });
  afterEach(async () => {
    await prometheus.close();
  });

  it('reads the eval pass rate against its SLO, the cost and the tokens over the incident', async () => {
    prometheus.respond(/^avg\(avg_over_time\(llm_eval_pass_ratio/, [{ labels: {}, value: 0.74 }]);
    prometheus.respond(/< bool 0\.95\)\[9000s:60s\]\)$/, [{ labels: {}, value: 0.8 }]);
    prometheus.respond('llm_cost_usd_total', [{ labels: {}, value: 131.5 }]);
    prometheus.respond('gen_ai_client_token_usage_sum', [{ labels: {}, value: 18_250_000 }]);

    const impact = await readerFor(prometheus.url, { sloPassRate: 0.95 }).read(WINDOW);

    expect(impact).toEqual({
      window: { from: FROM, to: TO },
      errorBudget: { slo: 0.95, averagePassRate: 0.74, shareBelowSlo: 0.8 },
      costUsd: 131.5,
      tokens: 18_250_000,
    });
    expect(prometheus.queries.map((query) => query.query).sort()).toEqual([
      'avg(avg_over_time(llm_eval_pass_ratio{service="rag-api"}[9000s]))',
      'avg_over_time((avg(llm_eval_pass_ratio{service="rag-api"}) < bool 0.95)[9000s:60s])',
      'sum(increase(gen_ai_client_token_usage_sum{service="rag-api"}[9000s]))',
      'sum(increase(llm_cost_usd_total{service="rag-api"}[9000s]))',
    ]);
    for (const query of prometheus.queries) expect(query.time).toEqual(TO);
  });

  it('leaves out what Prometheus has no data for, and answers null when it has none', async () => {
    prometheus.respond('llm_cost_usd_total', [{ labels: {}, value: 12 }]);
    prometheus.respond('gen_ai_client_token_usage_sum', [{ labels: {}, value: 'NaN' }]);
    expect(await readerFor(prometheus.url).read(WINDOW)).toEqual({
      window: { from: FROM, to: TO },
      costUsd: 12,
    });

    const empty = await startPrometheusStandIn();
    try {
      expect(await readerFor(empty.url).read(WINDOW)).toBeNull();
    } finally {
      await empty.close();
    }
  });

  it('never splices a label value into PromQL raw', async () => {
    await readerFor(prometheus.url).read({ ...WINDOW, service: 'x"} or vector(1) #\n' });
    for (const { query } of prometheus.queries) {
      expect(query).toContain('{service="x\\"} or vector(1) #\\n"}');
    }
  });

  it('answers null when Prometheus refuses, is too slow or is down', async () => {
    prometheus.respond(/./, { errorType: 'bad_data', error: 'parse error' });
    expect(await readerFor(prometheus.url).read(WINDOW)).toBeNull();

    prometheus.respond(/./, { delayMs: 2000, answer: [{ labels: {}, value: 1 }] });
    expect(await readerFor(prometheus.url, { timeoutMs: 100 }).read(WINDOW)).toBeNull();

    const down = `http://127.0.0.1:${await closedPort()}`;
    expect(await readerFor(down).read(WINDOW)).toBeNull();
  });

  it('answers null without a Prometheus, a service or a window', async () => {
    expect(await readerFor(undefined).read(WINDOW)).toBeNull();
    expect(await readerFor(prometheus.url).read({ ...WINDOW, service: null })).toBeNull();
    expect(await readerFor(prometheus.url).read({ ...WINDOW, to: FROM })).toBeNull();
    expect(prometheus.queries).toEqual([]);
  });
});

describe('impactWindow', () => {
  it('runs from the first alert until the incident resolved, or until now', () => {
    const alerts = [alertFixture(1, { startsAt: new Date('2026-11-22T20:58:00Z') })];
    const now = new Date('2026-11-23T08:00:00Z');
    expect(impactWindow(incidentFixture(), alerts, now)).toEqual({
      service: 'rag-api',
      from: new Date('2026-11-22T20:58:00Z'),
      to: now,
    });
    const resolvedAt = new Date('2026-11-22T23:00:00Z');
    expect(impactWindow(incidentFixture({ resolvedAt }), alerts, now).to).toEqual(resolvedAt);
  });
});
