import { afterEach, describe, expect, it } from 'vitest';
import type { CheckDependencies } from '../../../src/checks/check-type.js';
import { prometheusClient } from '../../../src/checks/types/prometheus-api.js';
import { type DemoPrometheus, startDemoPrometheus } from '../../../src/demo/demo-prometheus.js';
import { ScrapeStore } from '../../../src/demo/scrape-store.js';

const T0 = Date.parse('2026-11-22T10:00:00Z');

let server: DemoPrometheus | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function started(): Promise<DemoPrometheus> {
  const store = new ScrapeStore();
  store.ingest('llm_eval_pass_ratio{service="svc"} 0.93\nreqs_total{service="svc"} 0\n', T0, {
    job: 'app',
    instance: 'a:1',
  });
  store.ingest('llm_eval_pass_ratio{service="svc"} 0.71\nreqs_total{service="svc"} 30\n', T0 + 15_000, {
    job: 'app',
    instance: 'a:1',
  });
  server = await startDemoPrometheus({ source: store, now: () => T0 + 20_000 });
  return server;
}

describe("the demo's Prometheus query API", () => {
  it("answers aisre's own Prometheus client exactly as Prometheus would", async () => {
    const { url } = await started();
    const client = prometheusClient({
      prometheus: { url, publicUrl: undefined, headers: {} },
      fetch: globalThis.fetch,
    } as unknown as CheckDependencies)!;
    const signal = AbortSignal.timeout(5_000);
    expect(
      await client.instantQuery('avg(llm_eval_pass_ratio{service="svc"})', new Date(T0 + 20_000), signal),
    ).toEqual({
      type: 'vector',
      samples: [{ labels: {}, value: 0.71 }],
    });
    // Yesterday's baseline is asked for with the `time` parameter: here, before any data.
    expect(await client.instantQuery('avg(llm_eval_pass_ratio)', new Date(T0 - 86_400_000), signal)).toEqual({
      type: 'vector',
      samples: [],
    });
    expect(await client.instantQuery('time() - 1', new Date(T0), signal)).toEqual({
      type: 'scalar',
      value: T0 / 1000 - 1,
    });
    await expect(client.instantQuery('topk(1, reqs_total)', new Date(T0), signal)).rejects.toThrow(
      /bad_data.*not supported by aisre's built-in PromQL subset/,
    );
  });

  it('serves GET with the same JSON shape, defaulting the time to the simulated now', async () => {
    // 30 over the 15 s between the samples, extrapolated 5 s on to now (not before the counter's zero).
    const { url, queries } = await started();
    const response = await fetch(
      `${url}/api/v1/query?query=${encodeURIComponent('increase(reqs_total[1m])')}`,
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'success',
      data: {
        resultType: 'vector',
        result: [
          { metric: { service: 'svc', job: 'app', instance: 'a:1' }, value: [(T0 + 20_000) / 1000, '40'] },
        ],
      },
    });
    const bad = await fetch(`${url}/api/v1/query?query=sum(`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ status: 'error', errorType: 'bad_data' });
    expect(queries()).toBe(1);
  });
});
