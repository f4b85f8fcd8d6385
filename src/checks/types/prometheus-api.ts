import { type CheckDependencies, type CheckLink, type CheckResult, errorResult } from '../check-type.js';
import { formatNumber } from './threshold.js';

/** One series of an instant vector. */
export interface PromSample {
  labels: Record<string, string>;
  value: number;
}

/** An instant query's answer; a scalar is kept apart because it has no series labels. */
export type InstantResult = { type: 'vector'; samples: PromSample[] } | { type: 'scalar'; value: number };

/** Prometheus was unreachable, refused the query, or answered with something a check cannot use. */
export class PrometheusError extends Error {
  override name = 'PrometheusError';
}

/** The slice of Prometheus's HTTP API that checks use. */
export interface PrometheusClient {
  instantQuery(query: string, time: Date, signal: AbortSignal): Promise<InstantResult>;
  /** A link to the query in Prometheus's graph page, for evidence. */
  graphUrl(query: string): string;
}

interface ApiBody {
  status?: string;
  errorType?: string;
  error?: string;
  data?: { resultType?: string; result?: unknown };
}

/** Prometheus spells special values its own way; `Number('+Inf')` would be NaN. */
function parsePromValue(text: unknown): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  const value = typeof text === 'string' && text.trim() !== '' ? Number(text) : Number.NaN;
  if (Number.isNaN(value)) throw new PrometheusError(`unexpected sample value ${JSON.stringify(text)}`);
  return value;
}

function parseResult(data: ApiBody['data']): InstantResult {
  const resultType = data?.resultType;
  const result = data?.result;
  if (resultType === 'scalar' && Array.isArray(result)) {
    return { type: 'scalar', value: parsePromValue(result[1]) };
  }
  if (resultType !== 'vector' || !Array.isArray(result)) {
    const hint = resultType === 'matrix' ? ' (a range vector; checks need an instant vector)' : '';
    throw new PrometheusError(`query returned a ${String(resultType)} result${hint}`);
  }
  const series = result as Array<{ metric?: Record<string, string>; value?: [number, string] }>;
  return {
    type: 'vector',
    samples: series.map((entry) => {
      if (!entry.value) {
        throw new PrometheusError(
          'query returned native histogram samples; wrap it in histogram_quantile() or similar',
        );
      }
      return { labels: entry.metric ?? {}, value: parsePromValue(entry.value[1]) };
    }),
  };
}

function networkError(err: unknown, base: string): Error {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const reason = cause?.code ?? cause?.message ?? (err as Error).message;
  return new PrometheusError(`could not reach Prometheus at ${base}: ${reason}`);
}

/**
 * A client for the configured Prometheus, or undefined when none is configured. Queries are
 * POSTed as a form so long PromQL does not hit URL length limits in proxies.
 */
export function prometheusClient(deps: CheckDependencies): PrometheusClient | undefined {
  const { url, publicUrl, headers } = deps.prometheus;
  if (!url) return undefined;
  const base = url.replace(/\/+$/, '');
  const linkBase = (publicUrl ?? url).replace(/\/+$/, '');
  return {
    async instantQuery(query, time, signal) {
      const form = new URLSearchParams({ query, time: (time.getTime() / 1000).toString() });
      let response: Response;
      try {
        response = await deps.fetch(`${base}/api/v1/query`, {
          method: 'POST',
          headers: {
            ...headers,
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
          },
          body: form,
          signal,
        });
      } catch (err) {
        if (signal.aborted) throw err;
        throw networkError(err, base);
      }
      const text = await response.text();
      let body: ApiBody | undefined;
      try {
        body = JSON.parse(text) as ApiBody;
      } catch {
        body = undefined;
      }
      if (body?.status === 'error') {
        throw new PrometheusError(
          `Prometheus refused the query (${body.errorType ?? `HTTP ${response.status}`}): ${body.error ?? 'no message'}`,
        );
      }
      if (!response.ok || body?.status !== 'success') {
        const snippet = text.replace(/\s+/g, ' ').trim().slice(0, 120);
        throw new PrometheusError(
          `Prometheus answered HTTP ${response.status}${snippet ? `: ${snippet}` : ''}`,
        );
      }
      return parseResult(body.data);
    },
    graphUrl(query) {
      return `${linkBase}/graph?g0.expr=${encodeURIComponent(query)}&g0.tab=0&g0.range_input=1h`;
    },
  };
}

/** `{service="x", model="y"}`, or the metric name when that is all there is, for evidence labels. */
export function seriesName(labels: Record<string, string>): string {
  const { __name__: name, ...rest } = labels;
  const pairs = Object.entries(rest)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`);
  if (pairs.length === 0) return name ?? '{}';
  return `${name ?? ''}{${pairs.join(', ')}}`;
}

/** The evidence link for a query. */
export function graphLink(client: PrometheusClient, query: string): CheckLink {
  return { label: 'Prometheus graph', url: client.graphUrl(query) };
}

/**
 * Runs a check body against the configured Prometheus. Refusals and unreachable servers become
 * `error` results that still link the query, so a responder can try it by hand; aborts propagate.
 */
export async function withPrometheus(
  deps: CheckDependencies,
  query: string,
  body: (client: PrometheusClient) => Promise<CheckResult>,
): Promise<CheckResult> {
  const client = prometheusClient(deps);
  if (!client) return errorResult('no Prometheus URL is configured');
  try {
    return await body(client);
  } catch (err) {
    if (err instanceof PrometheusError) return errorResult(err.message, [graphLink(client, query)]);
    throw err;
  }
}

/** The result as series, a scalar becoming one unlabelled series. NaN samples (0/0) carry no data. */
export function usableSamples(result: InstantResult): PromSample[] {
  const samples = result.type === 'scalar' ? [{ labels: {}, value: result.value }] : result.samples;
  return samples.filter((sample) => !Number.isNaN(sample.value));
}

/** How `reduceValues` folds series. */
export type Reducer = 'max' | 'min' | 'sum' | 'avg';

/** Folds series values into one; callers pass at least one value. */
export function reduceValues(values: readonly number[], how: Reducer): number {
  if (how === 'max') return Math.max(...values);
  if (how === 'min') return Math.min(...values);
  const sum = values.reduce((total, value) => total + value, 0);
  return how === 'sum' ? sum : sum / values.length;
}

/** A check result value that survives JSON: infinities become `+Inf`/`-Inf`. */
export function resultValue(value: number): number | string {
  return Number.isFinite(value) ? value : formatNumber(value);
}
