import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Metric values for the demo's story: a prompt deploy made answers worse while latency, errors,
 * retrieval and routing stayed healthy. Keyed by the metric a runbook query reads; `baseline` is
 * what the same query returned a day earlier.
 */
const DEMO_METRICS: Record<string, { now: number; baseline: number }> = {
  llm_refusals_total: { now: 0.01, baseline: 0.01 },
  llm_output_schema_errors_total: { now: 0.002, baseline: 0.002 },
  gen_ai_client_token_usage_sum: { now: 410, baseline: 395 },
  llm_fallback_total: { now: 0.01, baseline: 0.01 },
  rag_retrieval_hit_ratio: { now: 0.93, baseline: 0.94 },
  llm_eval_pass_ratio: { now: 0.71, baseline: 0.92 },
};
const RESPONSE_MODEL = 'gpt-4o-2024-08-06';

// The first metric selector of a query, e.g. `llm_eval_pass_ratio` in `avg(llm_eval_pass_ratio{…})`.
const METRIC = /([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{[]/;

/** A loopback endpoint that answers Prometheus instant queries with the demo's canned values. */
export async function startDemoPrometheus(): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    req.on('end', () => {
      const params = new URLSearchParams(req.method === 'POST' ? body : (req.url ?? '').split('?')[1]);
      const query = params.get('query') ?? '';
      const time = Number(params.get('time') ?? Date.now() / 1000);
      const baseline = time < Date.now() / 1000 - 3600;
      const metric = METRIC.exec(query)?.[1];
      const values = metric ? DEMO_METRICS[metric] : undefined;
      let result: unknown[] = [];
      if (query.includes('count by (gen_ai_response_model)')) {
        result = [{ metric: { gen_ai_response_model: RESPONSE_MODEL }, value: [time, '1'] }];
      } else if (values) {
        result = [{ metric: {}, value: [time, String(baseline ? values.baseline : values.now)] }];
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
