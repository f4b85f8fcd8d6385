/**
 * What the default runbook's PromQL would return, computed from two scrapes of the reference app's
 * `/metrics`: `rate(x[w])` over the window between them is Δx / Δt, and ratios of rates are ratios
 * of deltas. Real Prometheus runs in the end-to-end suite; this lets tests without it check the
 * series the queries read.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format (names, labels with escapes, special values). */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[label[1]!] = label[2]!.replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
    }
    const raw = match[3]!;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** The signal each default-runbook query measures, named after the check that reads it. */
export type Signal =
  | 'content_filter'
  | 'output_length'
  | 'response_models'
  | 'fingerprints'
  | 'refusals'
  | 'schema_errors'
  | 'token_spend'
  | 'fallbacks'
  | 'retrieval_hits'
  | 'eval_pass'
  | 'index_age'
  | 'relevance'
  | 'model_mismatch'
  | 'mapping_errors'
  | 'steps_per_session'
  | 'retries';

/** Most specific first: the output-length query also reads gen_ai_client_token_usage_sum. */
const PATTERNS: ReadonlyArray<[Signal, RegExp]> = [
  ['content_filter', /error_type="content_filter"/],
  ['output_length', /gen_ai_token_type="output"/],
  ['response_models', /count by \(gen_ai_response_model\)/],
  ['fingerprints', /count by \(system_fingerprint\)/],
  ['refusals', /\bllm_refusals_total\b/],
  ['schema_errors', /\bllm_output_schema_errors_total\b/],
  ['token_spend', /\bgen_ai_client_token_usage_sum\b/],
  ['fallbacks', /\bllm_fallback_total\b/],
  ['retrieval_hits', /\brag_retrieval_hit_ratio\b/],
  ['eval_pass', /\bllm_eval_pass_ratio\b/],
  ['index_age', /\brag_index_last_success_timestamp_seconds\b/],
  ['relevance', /\brag_retrieval_relevance_score\b/],
  ['model_mismatch', /\bllm_model_mismatch_ratio\b/],
  ['mapping_errors', /\bapp_mapping_errors_total\b/],
  ['steps_per_session', /\bagent_steps_per_session_bucket\b/],
  ['retries', /\bllm_retries_total\b/],
];

/** Which signal a query reads, or undefined for a query this helper does not know. */
export function signalOf(query: string): Signal | undefined {
  return PATTERNS.find(([, pattern]) => pattern.test(query))?.[0];
}

export type SignalValues = Record<Signal, number | string[]>;

const key = (sample: Sample) =>
  `${sample.name}{${Object.entries(sample.labels)
    .sort()
    .map(([k, v]) => `${k}=${v}`)
    .join(',')}}`;

/** Prometheus's histogram_quantile over cumulative bucket counts (linear within a bucket). */
export function histogramQuantile(q: number, buckets: Array<{ le: number; count: number }>): number {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let previous = { le: 0, count: 0 };
  for (const bucket of sorted) {
    if (bucket.count >= rank) {
      if (bucket.le === Infinity) return previous.le;
      const start = previous.le;
      const inBucket = bucket.count - previous.count;
      return inBucket === 0 ? bucket.le : start + (bucket.le - start) * ((rank - previous.count) / inBucket);
    }
    previous = bucket;
  }
  return previous.le;
}

/**
 * Every signal over the window from `before` to `after` (`seconds` long), as the runbook's queries
 * compute them for `service`; `nowSeconds` is PromQL's time(). Series of other services are ignored.
 */
export function windowSignals(
  before: readonly Sample[],
  after: readonly Sample[],
  options: { service: string; seconds: number; nowSeconds: number },
): SignalValues {
  const mine = (sample: Sample) => sample.labels.service === options.service;
  const earlier = new Map(before.filter(mine).map((sample) => [key(sample), sample.value]));
  const deltas = after
    .filter(mine)
    .map((sample) => ({ ...sample, delta: sample.value - (earlier.get(key(sample)) ?? 0) }));
  const delta = (name: string, filter: (labels: Record<string, string>) => boolean = () => true) =>
    deltas.filter((s) => s.name === name && filter(s.labels)).reduce((sum, s) => sum + s.delta, 0);
  const gauge = (name: string) => {
    const values = after.filter((s) => mine(s) && s.name === name).map((s) => s.value);
    return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
  };
  const valuesWithTraffic = (name: string, label: string) =>
    [...new Set(deltas.filter((s) => s.name === name && s.delta > 0).map((s) => s.labels[label] ?? ''))]
      .filter(Boolean)
      .sort();
  const operations = delta('gen_ai_client_operation_duration_seconds_count');
  const share = (count: number) => count / operations;
  const output = (labels: Record<string, string>) => labels.gen_ai_token_type === 'output';
  const buckets = deltas
    .filter((s) => s.name === 'agent_steps_per_session_bucket')
    .map((s) => ({ le: s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), count: s.delta }));
  return {
    content_filter: share(
      delta(
        'gen_ai_client_operation_duration_seconds_count',
        (labels) => labels.error_type === 'content_filter',
      ),
    ),
    output_length:
      delta('gen_ai_client_token_usage_sum', output) / delta('gen_ai_client_token_usage_count', output),
    response_models: valuesWithTraffic('gen_ai_client_token_usage_count', 'gen_ai_response_model'),
    fingerprints: valuesWithTraffic('llm_responses_total', 'system_fingerprint'),
    refusals: share(delta('llm_refusals_total')),
    schema_errors: share(delta('llm_output_schema_errors_total')),
    token_spend: delta('gen_ai_client_token_usage_sum') / options.seconds,
    fallbacks: share(delta('llm_fallback_total')),
    retrieval_hits: gauge('rag_retrieval_hit_ratio'),
    eval_pass: gauge('llm_eval_pass_ratio'),
    index_age: options.nowSeconds - gauge('rag_index_last_success_timestamp_seconds'),
    relevance: gauge('rag_retrieval_relevance_score'),
    model_mismatch: gauge('llm_model_mismatch_ratio'),
    mapping_errors: delta('app_mapping_errors_total') / options.seconds,
    steps_per_session: histogramQuantile(0.95, buckets),
    retries: share(delta('llm_retries_total')),
  };
}
