import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { access, constants, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openMetricsHistory, type Scrape } from './history.js';

/** Where Debian's packages put the binaries (`apt-get install prometheus prometheus-alertmanager`). */
export interface PrometheusBinaries {
  prometheus: string;
  alertmanager: string;
  /** Backfills history; ships with the prometheus package. */
  promtool: string;
}

export const DEBIAN_BINARIES: PrometheusBinaries = {
  prometheus: '/usr/bin/prometheus',
  alertmanager: '/usr/bin/prometheus-alertmanager',
  promtool: '/usr/bin/promtool',
};

/**
 * The alert rules shipped for the reference app, loaded as they are: `deploy/` next to `src/`
 * when run from source, one level further up from the compiled `dist/src/`.
 */
export const REFERENCE_APP_RULES =
  ['../../deploy', '../../../deploy']
    .map((dir) => fileURLToPath(new URL(`${dir}/prometheus/reference-app-rules.yml`, import.meta.url)))
    .find((file) => existsSync(file)) ?? 'deploy/prometheus/reference-app-rules.yml';

const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;
/** Lines of a process's output kept for the error message when it fails to start. */
const KEPT_OUTPUT_LINES = 40;

export interface PrometheusStackOptions {
  /** `host:port` of the reference app, scraped every second. */
  scrapeTarget: string;
  /** aisre's base URL: Alertmanager posts to `{aisreUrl}/alertmanager`. */
  aisreUrl: string;
  /** The Bearer token Alertmanager sends (aisre's ALERTMANAGER_TOKEN). */
  alertmanagerToken: string;
  /** Prometheus's port, when aisre must know its URL before it starts (see `freePort`). */
  prometheusPort?: number;
  rulesFile?: string;
  binaries?: PrometheusBinaries;
  /**
   * Samples written into Prometheus's storage before it starts (promtool's OpenMetrics
   * backfill), e.g. a healthy day-ago window from `healthyHistory` so `offset 1d` has a baseline.
   */
  history?: readonly Scrape[];
}

/** One sample of an instant vector, as Prometheus's HTTP API answers it (the value is a string). */
export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** One rule as GET /api/v1/rules reports it. */
export interface PromRule {
  name: string;
  /** `unknown` until first evaluated, then `ok` or `err` (with `lastError`). */
  health: string;
  lastError?: string;
  state?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A running Prometheus and Alertmanager on 127.0.0.1, in temporary directories. */
export interface PrometheusStack {
  prometheusUrl: string;
  alertmanagerUrl: string;
  /** Runs an instant PromQL query and returns its vector. */
  query(promql: string): Promise<PromSample[]>;
  /** Every rule Prometheus loaded, with its health. */
  rules(): Promise<PromRule[]>;
  stop(): Promise<void>;
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP port was assigned');
  return address.port;
}

/** The binaries that are not installed (or not executable), none when the stack can start. */
export async function missingPrometheusBinaries(binaries = DEBIAN_BINARIES): Promise<string[]> {
  const missing: string[] = [];
  for (const bin of Object.values(binaries)) {
    try {
      await access(bin, constants.X_OK);
    } catch {
      missing.push(bin);
    }
  }
  return missing;
}

interface Child {
  name: string;
  process: ChildProcess;
  output: string[];
}

function launch(name: string, bin: string, args: string[]): Child {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    output.splice(0, Math.max(0, output.length - KEPT_OUTPUT_LINES));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('error', (err) => output.push(`spawn failed: ${err.message}`));
  return { name, process: child, output };
}

async function waitReady(child: Child, url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null || child.process.signalCode !== null) break;
    try {
      const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(
    `${child.name} at ${url} did not become ready (exit ${child.process.exitCode ?? child.process.signalCode ?? 'none'}):\n${child.output.join('\n')}`,
  );
}

async function terminate(child: Child): Promise<void> {
  const proc = child.process;
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

function prometheusConfig(
  options: PrometheusStackOptions,
  alertmanagerAddress: string,
  rules: string,
): string {
  return JSON.stringify({
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    rule_files: [rules],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [alertmanagerAddress] }] }] },
    scrape_configs: [{ job_name: 'reference-app', static_configs: [{ targets: [options.scrapeTarget] }] }],
  });
}

function alertmanagerConfig(options: PrometheusStackOptions): string {
  return JSON.stringify({
    route: {
      receiver: 'aisre',
      // One incident per service: a fault often trips several symptoms of one service at once.
      group_by: ['service'],
      // Alertmanager's default is 30 s: the wait that lets the alerts a fault trips together
      // arrive together. Shorter here, still long enough for a rate to catch up with a gauge.
      group_wait: '10s',
      group_interval: '1s',
      repeat_interval: '4h',
    },
    receivers: [
      {
        name: 'aisre',
        webhook_configs: [
          {
            url: `${options.aisreUrl.replace(/\/+$/, '')}/alertmanager`,
            send_resolved: true,
            http_config: { authorization: { type: 'Bearer', credentials: options.alertmanagerToken } },
          },
        ],
      },
    ],
  });
}

/** Runs a command to its end; rejects with its output when it fails. */
async function run(name: string, bin: string, args: string[]): Promise<void> {
  const child = launch(name, bin, args);
  const code = await new Promise<number | null>((resolve) => {
    child.process.once('error', () => resolve(null));
    child.process.once('exit', (exitCode) => resolve(exitCode));
  });
  if (code !== 0) throw new Error(`${name} failed (exit ${code ?? 'none'}):\n${child.output.join('\n')}`);
}

/**
 * Starts Debian's Prometheus and Alertmanager as child processes on 127.0.0.1, with explicit
 * ports and temporary data directories: Prometheus scrapes the reference app and evaluates
 * `rulesFile` every second and alerts to the Alertmanager, which posts to aisre with bearer auth
 * and send_resolved. With `history`, promtool first writes it into Prometheus's storage.
 * Resolves once both answer /-/ready. Throws, naming the apt packages, when a binary is missing.
 */
export async function startPrometheusStack(options: PrometheusStackOptions): Promise<PrometheusStack> {
  const binaries = options.binaries ?? DEBIAN_BINARIES;
  const missing = await missingPrometheusBinaries(binaries);
  if (missing.length > 0) {
    throw new Error(
      `${missing.join(' and ')} not found: this runs real Prometheus and Alertmanager. ` +
        'Install them with: apt-get install prometheus prometheus-alertmanager',
    );
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'aisre-prometheus-'));
  const children: Child[] = [];
  const stop = async () => {
    await Promise.all(children.map(terminate));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const prometheusPort = options.prometheusPort ?? (await freePort());
    const alertmanagerPort = await freePort();
    const alertmanagerAddress = `127.0.0.1:${alertmanagerPort}`;
    const prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
    const alertmanagerUrl = `http://${alertmanagerAddress}`;

    // JSON is YAML, so the configurations need no YAML writer.
    const amConfig = path.join(dir, 'alertmanager.yml');
    await writeFile(amConfig, alertmanagerConfig(options));
    const promConfig = path.join(dir, 'prometheus.yml');
    await writeFile(
      promConfig,
      prometheusConfig(options, alertmanagerAddress, options.rulesFile ?? REFERENCE_APP_RULES),
    );

    const storage = path.join(dir, 'prometheus-data');
    if (options.history && options.history.length > 0) {
      const backfill = path.join(dir, 'history.om');
      await writeFile(backfill, openMetricsHistory(options.history));
      await run('promtool backfill', binaries.promtool, [
        'tsdb',
        'create-blocks-from',
        'openmetrics',
        backfill,
        storage,
      ]);
    }

    const alertmanager = launch('Alertmanager', binaries.alertmanager, [
      `--config.file=${amConfig}`,
      `--storage.path=${path.join(dir, 'alertmanager-data')}`,
      `--web.listen-address=${alertmanagerAddress}`,
      // Empty turns clustering off; otherwise it binds 0.0.0.0:9094.
      '--cluster.listen-address=',
      `--web.external-url=${alertmanagerUrl}`,
    ]);
    children.push(alertmanager);
    const prometheus = launch('Prometheus', binaries.prometheus, [
      `--config.file=${promConfig}`,
      `--storage.tsdb.path=${storage}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
      `--web.external-url=${prometheusUrl}`,
    ]);
    children.push(prometheus);
    await Promise.all([waitReady(alertmanager, alertmanagerUrl), waitReady(prometheus, prometheusUrl)]);

    const api = async <T>(pathAndQuery: string): Promise<T> => {
      const response = await fetch(`${prometheusUrl}${pathAndQuery}`, { signal: AbortSignal.timeout(5_000) });
      const body = (await response.json()) as { status: string; data: T; error?: string };
      if (body.status !== 'success')
        throw new Error(`Prometheus ${pathAndQuery}: ${body.error ?? response.status}`);
      return body.data;
    };
    return {
      prometheusUrl,
      alertmanagerUrl,
      async query(promql) {
        const data = await api<{ result: PromSample[] }>(`/api/v1/query?query=${encodeURIComponent(promql)}`);
        return data.result;
      },
      async rules() {
        const data = await api<{ groups: Array<{ rules: PromRule[] }> }>('/api/v1/rules');
        return data.groups.flatMap((group) => group.rules);
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
