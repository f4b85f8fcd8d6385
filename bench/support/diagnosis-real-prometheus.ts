import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Runbook } from '../../src/diagnosis/runbook-schema.js';
import { recogniseQuery } from '../../test/scenarios/scenario-runner.js';
import { L, M, type MetricValue } from '../../test/scenarios/scenarios.js';
import type { PrometheusStandIn } from '../../test/support/prometheus-stand-in.js';
import type { ScenarioService } from './diagnosis-workload.js';

const run = promisify(execFile);

/** Seconds between samples, as a 15 s scrape interval would give. */
export const SAMPLE_INTERVAL_S = 15;
/** Requests per second behind every ratio (the denominator), when there is traffic. */
const REQUESTS_PER_SECOND = 10;
/** Counters start here, far from zero, so `rate()` never extrapolates to a counter start. */
const COUNTER_START = 1_000_000;

type Phase = 'baseline' | 'now';
type PhaseValues = Record<Phase, number>;

/**
 * One backfilled series. `counter`: `values` are its rates per second; `gauge`: its values;
 * `age`: a timestamp gauge whose value is the sample time minus `values` seconds.
 */
interface SeriesSpec {
  name: string;
  labels: Record<string, string>;
  kind: 'counter' | 'gauge' | 'age';
  values: PhaseValues;
  /** The phase in which the series has samples; both when absent. */
  only?: Phase;
}

const split = (value: MetricValue): PhaseValues =>
  typeof value === 'number' ? { baseline: value, now: value } : { baseline: value.baseline, now: value.now };
const map = (values: PhaseValues, f: (value: number, phase: Phase) => number): PhaseValues => ({
  baseline: f(values.baseline, 'baseline'),
  now: f(values.now, 'now'),
});
const zeroIfNaN = (value: number) => (Number.isNaN(value) ? 0 : value);

/** Ratio keys: each `sum(rate(<metric>{svc}[w])) / sum(rate(gen_ai_client_operation_duration_seconds_count{svc}[w]))`. */
const RATIO_METRICS: Record<string, string> = {
  [M.refusals]: 'llm_refusals_total',
  [M.schemaErrors]: 'llm_output_schema_errors_total',
  [M.fallbacks]: 'llm_fallback_total',
  [M.retries]: 'llm_retries_total',
};
const GAUGES = [M.retrievalHits, M.evalPass, M.relevance, M.modelMismatch] as const;
const HANDLED = new Set<string>([
  ...Object.keys(RATIO_METRICS),
  M.contentFilter,
  M.tokens,
  M.outputTokens,
  ...GAUGES,
  M.indexAge,
  M.mappingErrors,
  M.agentSteps,
]);

/**
 * The raw series a real Prometheus needs so that each runbook query returns what the scenario
 * says it returns (test/scenarios/scenarios.ts: a metric's value is the value of the runbook query
 * built on it): the inverse of the stand-in's shortcut. Throws on a scenario it cannot express.
 */
export function scenarioSeries(entry: ScenarioService): SeriesSpec[] {
  const { metrics, seriesLabels = {}, name } = entry.scenario;
  const base = { service: entry.service };
  const get = (key: string) => (metrics[key] === undefined ? undefined : split(metrics[key]!));
  const fail = (why: string): never => {
    throw new Error(`scenario ${name}: ${why}`);
  };
  for (const key of Object.keys(metrics)) if (!HANDLED.has(key)) fail(`no backfill for metric key ${key}`);
  const series: SeriesSpec[] = [];
  const counter = (metric: string, labels: Record<string, string>, rates: PhaseValues, only?: Phase) => {
    for (const phase of ['baseline', 'now'] as const) {
      if (!(rates[phase] >= 0)) fail(`${metric} would need a negative rate (${rates[phase]})`);
    }
    series.push({
      name: metric,
      labels: { ...base, ...labels },
      kind: 'counter',
      values: rates,
      ...(only ? { only } : {}),
    });
  };

  // Requests, the denominator of every ratio; 0/0 (NaN) is a phase with no requests at all.
  const ratios = [...Object.keys(RATIO_METRICS), M.contentFilter]
    .map((key) => [key, get(key)] as const)
    .filter((pair): pair is readonly [string, PhaseValues] => pair[1] !== undefined);
  if (ratios.length > 0) {
    const requests = map({ baseline: 0, now: 0 }, (_value, phase) => {
      const nan = ratios.filter(([, values]) => Number.isNaN(values[phase])).length;
      if (nan > 0 && nan < ratios.length) fail(`some ratios are 0/0 in phase ${phase} and others not`);
      return nan > 0 ? 0 : REQUESTS_PER_SECOND;
    });
    for (const [key, values] of ratios) {
      if (key === M.contentFilter) continue;
      counter(
        RATIO_METRICS[key]!,
        {},
        map(values, (value, phase) => zeroIfNaN(value) * requests[phase]),
      );
    }
    const filtered = get(M.contentFilter);
    const total = 'gen_ai_client_operation_duration_seconds_count';
    if (filtered) {
      const share = map(filtered, zeroIfNaN);
      counter(
        total,
        { error_type: 'content_filter' },
        map(share, (value, phase) => value * requests[phase]),
      );
      counter(
        total,
        {},
        map(share, (value, phase) => (1 - value) * requests[phase]),
      );
    } else {
      counter(total, {}, requests);
    }
  }

  // Tokens: all token types per second, and output tokens per output-token count.
  const tokens = get(M.tokens);
  const output = get(M.outputTokens);
  let outputRates: PhaseValues = { baseline: 0, now: 0 };
  if (output) {
    if (!tokens) fail('output tokens without total tokens');
    const perRequest = Math.min(1, ...(['baseline', 'now'] as const).map((p) => tokens![p] / output[p] / 2));
    if (!(perRequest > 0 && Number.isFinite(perRequest)))
      fail('cannot fit output tokens within total tokens');
    outputRates = map(output, (value) => value * perRequest);
    counter('gen_ai_client_token_usage_sum', { gen_ai_token_type: 'output' }, outputRates);
    counter(
      'gen_ai_client_token_usage_count',
      { gen_ai_token_type: 'output' },
      { baseline: perRequest, now: perRequest },
    );
  }
  if (tokens) {
    counter(
      'gen_ai_client_token_usage_sum',
      { gen_ai_token_type: 'input' },
      map(tokens, (value, phase) => value - outputRates[phase]),
    );
  }

  // Label values served now and a day ago (fingerprint checks count series with rate > 0).
  for (const [label, values] of Object.entries(seriesLabels)) {
    const metric =
      label === L.responseModel
        ? 'gen_ai_client_token_usage_count'
        : label === L.fingerprint
          ? 'llm_responses_total'
          : fail(`no backfill for label ${label}`);
    const extra: Record<string, string> = label === L.responseModel ? { gen_ai_token_type: 'input' } : {};
    for (const value of new Set([...values.baseline, ...values.now])) {
      counter(
        metric,
        { ...extra, [label]: value },
        {
          baseline: values.baseline.includes(value) ? 1 : 0,
          now: values.now.includes(value) ? 1 : 0,
        },
      );
    }
  }

  for (const key of GAUGES) {
    const values = get(key);
    if (values) series.push({ name: key, labels: base, kind: 'gauge', values });
  }
  const age = get(M.indexAge);
  if (age) series.push({ name: M.indexAge, labels: base, kind: 'age', values: age });
  const mapping = get(M.mappingErrors);
  if (mapping) counter('app_mapping_errors_total', {}, mapping);

  // p95 agent steps: every session falls in the first bucket (0, v/0.95], so the 95th percentile
  // interpolates to exactly v. A bucket bound that differs between the phases is a series of its own.
  const steps = get(M.agentSteps);
  if (steps) {
    const bound = map(steps, (value) =>
      value > 0 && Number.isFinite(value) ? value / 0.95 : fail('p95 steps must be > 0'),
    );
    const bucket = 'agent_steps_per_session_bucket';
    if (bound.baseline === bound.now) counter(bucket, { le: String(bound.now) }, { baseline: 1, now: 1 });
    else {
      counter(bucket, { le: String(bound.baseline) }, { baseline: 1, now: 0 }, 'baseline');
      counter(bucket, { le: String(bound.now) }, { baseline: 0, now: 1 }, 'now');
    }
    counter(bucket, { le: '+Inf' }, { baseline: 1, now: 1 });
  }
  return series;
}

const escapeLabel = (value: string) =>
  value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const formatValue = (value: number) =>
  Number.isNaN(value) ? 'NaN' : Number.isFinite(value) ? String(value) : value > 0 ? '+Inf' : '-Inf';

/**
 * Writes every series of `entries` as OpenMetrics text, samples every 15 s from `from` to `until`
 * (seconds), switching from baseline to now at `cutoff`. Series of one metric name are written
 * together, as OpenMetrics wants its metric families unbroken.
 */
async function writeOpenMetrics(
  file: string,
  entries: readonly ScenarioService[],
  window: { from: number; cutoff: number; until: number },
): Promise<{ series: number; samples: number }> {
  const all = entries.flatMap(scenarioSeries).sort((a, b) => a.name.localeCompare(b.name));
  const out = createWriteStream(file);
  const write = (text: string) =>
    out.write(text) ? Promise.resolve() : new Promise<void>((resolve) => out.once('drain', resolve));
  let samples = 0;
  const first = Math.ceil(window.from / SAMPLE_INTERVAL_S) * SAMPLE_INTERVAL_S;
  for (const spec of all) {
    const labels = Object.entries(spec.labels)
      .map(([key, value]) => `${key}="${escapeLabel(value)}"`)
      .join(',');
    const prefix = `${spec.name}{${labels}} `;
    const lines: string[] = [];
    for (let t = first; t <= window.until; t += SAMPLE_INTERVAL_S) {
      const phase: Phase = t < window.cutoff ? 'baseline' : 'now';
      if (spec.only && spec.only !== phase) continue;
      let value: number;
      if (spec.kind === 'counter') {
        const start = spec.only === 'now' ? window.cutoff : first;
        const before = Math.max(0, Math.min(t, window.cutoff) - start);
        const after = Math.max(0, t - Math.max(window.cutoff, start));
        value = COUNTER_START + spec.values.baseline * before + spec.values.now * after;
      } else if (spec.kind === 'age') {
        value = t - spec.values[phase];
      } else {
        value = spec.values[phase];
      }
      lines.push(`${prefix}${formatValue(value)} ${t}`);
    }
    samples += lines.length;
    await write(`${lines.join('\n')}\n`);
  }
  await write('# EOF\n');
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
  return { series: all.length, samples };
}

export interface RealPrometheus {
  url: string;
  version: string;
  pid: number;
  backfill: {
    series: number;
    samples: number;
    fileMb: number;
    blocks: number;
    from: string;
    until: string;
    writeMs: number;
    promtoolMs: number;
    startMs: number;
  };
  /** Queries its HTTP API has answered (`prometheus_http_requests_total` of /api/v1/query). */
  queryCount(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Backfills a fresh TSDB with every scenario's series (`promtool tsdb create-blocks-from
 * openmetrics`) and starts Prometheus on it, on 127.0.0.1 and a port of its own, scraping nothing.
 * The blocks are written before Prometheus starts, so even the last hours (and the hour or two the
 * bench runs into) are safe to backfill: the warning in the storage docs is about a running server
 * whose head block could overlap them.
 */
export async function startRealPrometheus(options: {
  services: readonly ScenarioService[];
  cutoff: Date;
  from: Date;
  until: Date;
  port: number;
  log: (line: string) => void;
}): Promise<RealPrometheus> {
  const version = await run('prometheus', ['--version']).then(
    ({ stdout, stderr }) => `${stdout}${stderr}`.split('\n')[0]!.trim(),
    (err: unknown) => {
      throw new Error(`prometheus is not installed (apt-get install -y prometheus): ${String(err)}`);
    },
  );
  await run('promtool', ['--version']).catch((err: unknown) => {
    throw new Error(`promtool is not installed (it comes with the prometheus package): ${String(err)}`);
  });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'aisre-bench-prometheus-'));
  let child: ChildProcess | undefined;
  const cleanup = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const file = path.join(dir, 'scenarios.om');
    const data = path.join(dir, 'data');
    const seconds = (date: Date) => Math.floor(date.getTime() / 1000);
    let started = performance.now();
    const written = await writeOpenMetrics(file, options.services, {
      from: seconds(options.from),
      cutoff: seconds(options.cutoff),
      until: seconds(options.until),
    });
    const writeMs = Math.round(performance.now() - started);
    const fileMb = Math.round(((await stat(file)).size / 2 ** 20) * 10) / 10;
    options.log(
      `  wrote ${written.series} series, ${written.samples.toLocaleString('en-US')} samples (${fileMb} MB) in ${writeMs} ms`,
    );
    started = performance.now();
    await run('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', '-q', file, data], {
      maxBuffer: 64 * 2 ** 20,
    });
    const promtoolMs = Math.round(performance.now() - started);
    const blocks = (await readdir(data)).filter((name) => /^[0-9A-Z]{26}$/.test(name)).length;
    options.log(`  promtool wrote ${blocks} blocks in ${promtoolMs} ms`);
    await rm(file);
    const config = path.join(dir, 'prometheus.yml');
    await writeFile(config, 'global: {}\nscrape_configs: []\n');
    started = performance.now();
    const url = `http://127.0.0.1:${options.port}`;
    const output: string[] = [];
    child = spawn(
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${data}`,
        `--web.listen-address=127.0.0.1:${options.port}`,
        '--storage.tsdb.retention.time=30d',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        output.push(chunk);
        if (output.length > 50) output.shift();
      });
    }
    const deadline = performance.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null)
        throw new Error(`prometheus exited (${child.exitCode}): ${output.join('')}`);
      const ready = await fetch(`${url}/-/ready`).then(
        (response) => response.status === 200,
        () => false,
      );
      if (ready) break;
      if (performance.now() > deadline) throw new Error(`prometheus not ready in 60 s: ${output.join('')}`);
      await delay(100);
    }
    const startMs = Math.round(performance.now() - started);
    options.log(`  ${version} ready at ${url} in ${startMs} ms (pid ${child.pid})`);
    return {
      url,
      version,
      pid: child.pid!,
      backfill: {
        ...written,
        fileMb,
        blocks,
        from: options.from.toISOString(),
        until: options.until.toISOString(),
        writeMs,
        promtoolMs,
        startMs,
      },
      async queryCount() {
        const text = await (await fetch(`${url}/metrics`)).text();
        const match = /^prometheus_http_requests_total\{code="200",handler="\/api\/v1\/query"\} (\S+)$/m.exec(
          text,
        );
        return match ? Number(match[1]) : 0;
      },
      close: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Every PromQL query of the runbook with vars and a service substituted, as the checks render them. */
export function runbookQueries(runbook: Runbook, service: string): string[] {
  const queries = new Set<string>();
  for (const node of Object.values(runbook.nodes)) {
    for (const check of node.checks) {
      const query = (check.params as { query?: unknown }).query;
      if (typeof query !== 'string') continue;
      queries.add(
        query
          .replace(/\{\{\s*vars\.(\w+)\s*\}\}/g, (_match, name: string) => String(runbook.vars[name]))
          .replace(/\{\{\s*incident\.service\s*\}\}/g, service.replace(/\\/g, '\\\\').replace(/"/g, '\\"')),
      );
    }
  }
  return [...queries];
}

type Sample = { labels: Record<string, string>; value: number };

async function instantQuery(base: string, query: string, time: Date): Promise<Sample[] | string> {
  const response = await fetch(`${base}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query, time: String(time.getTime() / 1000) }),
  });
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  };
  if (body.status !== 'success' || body.data?.resultType !== 'vector') {
    return `${body.status} ${body.data?.resultType ?? ''} ${body.error ?? ''}`.trim();
  }
  return body.data.result.map((entry) => ({ labels: entry.metric, value: Number(entry.value[1]) }));
}

/** What a check reads from an answer: label values for `count by`, else the values by series. */
function reading(answer: Sample[] | string, countBy: string | undefined): string {
  if (typeof answer === 'string') return `error: ${answer}`;
  if (countBy) {
    const values = answer.map((sample) => sample.labels[countBy] ?? '').filter((value) => value !== '');
    return `[${[...new Set(values)].sort().join(', ')}]`;
  }
  return answer
    .map((sample) => `${JSON.stringify(sample.labels)}=${sample.value}`)
    .sort()
    .join(' ');
}

function sameReading(actual: Sample[] | string, expected: Sample[] | string, countBy: string | undefined) {
  if (typeof actual === 'string' || typeof expected === 'string' || countBy) {
    return reading(actual, countBy) === reading(expected, countBy);
  }
  if (actual.length !== expected.length) return false;
  const key = (sample: Sample) => JSON.stringify(sample.labels);
  const byLabels = new Map(expected.map((sample) => [key(sample), sample.value]));
  return actual.every((sample) => {
    const want = byLabels.get(key(sample));
    if (want === undefined) return false;
    if (Number.isNaN(want) || Number.isNaN(sample.value))
      return Number.isNaN(want) && Number.isNaN(sample.value);
    // Index age moves with the last sample (≤ 15 s); everything else is exact up to float noise.
    return Math.abs(sample.value - want) <= 1e-9 + 0.01 * Math.abs(want);
  });
}

/**
 * Evaluates every runbook query for every scenario service, now and a day ago, on the real
 * Prometheus and on the scenario's stand-in, and lists where what a check would read differs.
 */
export async function compareWithStandIns(options: {
  realUrl: string;
  services: readonly ScenarioService[];
  standIn: (service: string) => PrometheusStandIn | undefined;
  runbook: Runbook;
  now: Date;
}): Promise<{
  compared: number;
  mismatches: Array<{ service: string; query: string; at: string; real: string; standIn: string }>;
}> {
  const mismatches: Array<{ service: string; query: string; at: string; real: string; standIn: string }> = [];
  let compared = 0;
  const times = [options.now, new Date(options.now.getTime() - 86_400_000)];
  for (const entry of options.services) {
    const standIn = options.standIn(entry.service);
    if (!standIn) continue;
    for (const query of runbookQueries(options.runbook, entry.service)) {
      const countBy = recogniseQuery(query)?.countBy;
      for (const time of times) {
        const [real, expected] = await Promise.all([
          instantQuery(options.realUrl, query, time),
          instantQuery(standIn.url, query, time),
        ]);
        compared += 1;
        if (!sameReading(real, expected, countBy)) {
          mismatches.push({
            service: entry.service,
            query,
            at: time.toISOString(),
            real: reading(real, countBy),
            standIn: reading(expected, countBy),
          });
        }
      }
    }
  }
  return { compared, mismatches };
}
