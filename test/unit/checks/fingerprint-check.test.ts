import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CheckDependencies } from '../../../src/checks/check-type.js';
import { fingerprintCheck } from '../../../src/checks/types/fingerprint-check.js';
import {
  type PromAnswer,
  type PrometheusStandIn,
  startPrometheusStandIn,
} from '../../support/prometheus-stand-in.js';
import { NOW, run, testDeps } from './fixtures.js';

let prometheus: PrometheusStandIn;
let deps: CheckDependencies;
const CUTOFF = new Date(NOW.getTime() - 3_600_000);

beforeAll(async () => {
  prometheus = await startPrometheusStandIn();
});
afterAll(() => prometheus.close());
beforeEach(() => {
  prometheus.queries.length = 0;
  deps = testDeps({ prometheus: { url: prometheus.url, publicUrl: undefined, headers: {} } });
});

function models(label: string, ...values: string[]): PromAnswer {
  return values.map((value) => ({ labels: { [label]: value }, value: 1 }));
}

describe('fingerprint check', () => {
  it('fails when a model version appears that the baseline did not have', async () => {
    prometheus.respondAt('gen_ai_response_model', {
      cutoff: CUTOFF,
      now: models('gen_ai_response_model', 'gpt-4o-2024-11-20'),
      baseline: models('gen_ai_response_model', 'gpt-4o-2024-08-06'),
    });
    const result = await run(fingerprintCheck, {}, deps);
    expect(result).toMatchObject({
      status: 'fail',
      value: 1,
      summary: 'new gen_ai_response_model since 1d ago: gpt-4o-2024-11-20 (replacing gpt-4o-2024-08-06)',
    });
    expect(result.evidence).toEqual(
      expect.arrayContaining([
        { label: 'new', value: 'gpt-4o-2024-11-20' },
        { label: 'gone', value: 'gpt-4o-2024-08-06' },
      ]),
    );
    const sent = prometheus.queries[0]!.query;
    expect(sent).toBe(
      'count by (gen_ai_response_model) (rate(gen_ai_client_token_usage_count{service="rag-api"}[15m]) > 0)',
    );
    expect(prometheus.queries.map((q) => q.time.getTime()).sort()).toEqual([
      NOW.getTime() - 86_400_000,
      NOW.getTime(),
    ]);
  });

  it('passes when the values are the same, or when some only went away', async () => {
    prometheus.respondAt('gen_ai_response_model', {
      cutoff: CUTOFF,
      now: models('gen_ai_response_model', 'b', 'a'),
      baseline: models('gen_ai_response_model', 'a', 'b'),
    });
    expect(await run(fingerprintCheck, {}, deps)).toMatchObject({
      status: 'pass',
      summary: 'gen_ai_response_model unchanged since 1d ago: a, b',
    });
    prometheus.respondAt('gen_ai_response_model', {
      cutoff: CUTOFF,
      now: models('gen_ai_response_model', 'a'),
      baseline: models('gen_ai_response_model', 'a', 'b'),
    });
    expect(await run(fingerprintCheck, {}, deps)).toMatchObject({
      status: 'pass',
      summary: 'no new gen_ai_response_model since 1d ago; no longer seen: b',
    });
  });

  it('follows system_fingerprint with a custom query and offset', async () => {
    const query = 'count by (system_fingerprint) (llm_requests_total{app="{{labels.service}}"})';
    prometheus.respondAt('system_fingerprint', {
      cutoff: new Date(NOW.getTime() - 60_000),
      now: models('system_fingerprint', 'fp_a', 'fp_b'),
      baseline: models('system_fingerprint', 'fp_a'),
    });
    const result = await run(
      fingerprintCheck,
      { label: 'system_fingerprint', query, baseline_offset: '6h' },
      deps,
    );
    expect(result).toMatchObject({ status: 'fail', summary: 'new system_fingerprint since 6h ago: fp_b' });
    expect(prometheus.queries[0]!.query).toBe(
      'count by (system_fingerprint) (llm_requests_total{app="rag-api"})',
    );
  });

  it('is inconclusive when either side is empty', async () => {
    prometheus.respondAt('gen_ai_response_model', {
      cutoff: CUTOFF,
      now: models('gen_ai_response_model', 'a'),
      baseline: [],
    });
    expect(await run(fingerprintCheck, {}, deps)).toMatchObject({
      status: 'inconclusive',
      summary: 'no gen_ai_response_model values 1d ago',
    });
  });

  it('refuses a label name that is not one', async () => {
    const result = await run(fingerprintCheck, { label: 'model) or vector(1' }, deps);
    expect(result.summary).toMatch(/^invalid params: label: must be a Prometheus label name/);
  });
});
