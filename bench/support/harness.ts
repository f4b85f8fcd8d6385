import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { freePort, type ServiceProcess, startServiceProcess } from '../../test/support/service-process.js';
import type { probeLaunch } from './probe-report.js';
import { machineBusyCores, table } from './stats.js';

/** Machine-wide busy cores below which the machine counts as idle (before start, during phases). */
export const IDLE_CORES = 0.3;

/** A benchmark's log line, on stderr so that stdout holds only the report. */
export const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/**
 * Runs a benchmark's `main` and exits with its code. `main` gets a stack of cleanups, run in
 * reverse order when it returns or throws and on Ctrl-C (`interrupted` says what is undone then),
 * so that no aisre process or bench database outlives the run.
 */
export function runBench(
  interrupted: string,
  main: (cleanups: Array<() => Promise<unknown>>) => Promise<number>,
): void {
  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanup = async () => {
    while (cleanups.length > 0) {
      await cleanups.pop()!().catch((err: unknown) => process.stderr.write(`cleanup: ${String(err)}\n`));
    }
  };
  process.once('SIGINT', () => {
    process.stderr.write(`\ninterrupted: ${interrupted}\n`);
    void cleanup().finally(() => process.exit(130));
  });
  main(cleanups)
    .finally(cleanup)
    .then(
      (code) => process.exit(code),
      (err: unknown) => {
        process.stderr.write(
          `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
        );
        process.exit(1);
      },
    );
}

/**
 * On a shared machine other work steals the cores aisre and Postgres need: waits up to
 * `seconds` for it to be idle, and returns how many cores were busy when the bench started.
 */
export async function waitForIdleMachine(seconds: number): Promise<number> {
  let busy = await machineBusyCores();
  const deadline = performance.now() + seconds * 1000;
  if (busy > IDLE_CORES && seconds > 0) {
    log(`${busy} cores busy before start: waiting up to ${seconds} s for the machine to be idle`);
    while (busy > IDLE_CORES && performance.now() < deadline) busy = await machineBusyCores(2000);
  }
  if (busy > IDLE_CORES)
    log(`warning: ${busy} cores already busy before the bench started; figures will be low`);
  return busy;
}

/** Which code was measured: the commit of `dir` and how many files differ from it. */
export function sourceState(dir: string): {
  dir: string;
  commit: string | null;
  changedFiles: number | null;
} {
  try {
    const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' });
    return {
      dir,
      commit: git('rev-parse', '--short', 'HEAD').trim(),
      changedFiles: git('status', '--porcelain').split('\n').filter(Boolean).length,
    };
  } catch {
    return { dir, commit: null, changedFiles: null };
  }
}

/** aisre started for a benchmark, and the one way to stop it (again, harmlessly, at cleanup). */
export interface BenchService {
  service: ServiceProcess;
  stop(): ReturnType<ServiceProcess['stop']>;
  /** Closes the probe's segment under way and opens `name` (see bench/support/probe.ts). */
  mark(name: string): Promise<void>;
}

/**
 * Starts aisre as its own process for a benchmark: wired to the Slack emulator, logging warnings
 * and errors only, preloaded with the probe if asked, plus the bench's own `env`. The cleanups
 * stop it should the bench end early.
 */
export async function startBenchService(options: {
  cwd: string;
  env: Record<string, string>;
  slack: { apiUrl: string; incidentsChannel: string };
  probing: ReturnType<typeof probeLaunch>;
  cleanups: Array<() => Promise<unknown>>;
}): Promise<BenchService> {
  const service = await startServiceProcess({
    cwd: options.cwd,
    nodeArgs: options.probing.nodeArgs,
    env: {
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      ALERTMANAGER_ALLOW_UNAUTHENTICATED: '',
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_SIGNING_SECRET: 'bench-signing-secret',
      SLACK_APP_TOKEN: '',
      SLACK_API_URL: options.slack.apiUrl,
      SLACK_INCIDENTS_CHANNEL: options.slack.incidentsChannel,
      SLACK_RESPONDERS: '',
      LOG_LEVEL: 'warn',
      ...options.env,
      ...options.probing.env,
    },
  });
  let stopping: ReturnType<ServiceProcess['stop']> | undefined;
  const stop = () => {
    stopping ??= service.stop();
    return stopping;
  };
  options.cleanups.push(stop);
  log(`aisre pid ${service.pid} ready at ${service.url}`);
  return { service, stop, mark: (name) => options.probing.mark(service.pid, name) };
}

/** The PostgreSQL server's version, for the results. */
export async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ server_version: string }>('show server_version')).rows[0]!.server_version;
  } finally {
    await client.end();
  }
}

/** aisre's Slack outbox as its /metrics reports it: operations still to deliver, and dead ones. */
export async function outboxDepth(url: string): Promise<{ pending: number; dead: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (metric: string) => {
    const match = new RegExp(`^${metric} (\\S+)$`, 'm').exec(text);
    return match ? Number(match[1]) : Number.NaN;
  };
  return { pending: read('aisre_slack_outbox_depth'), dead: read('aisre_slack_outbox_dead') };
}

/** Waits until aisre has delivered everything to Slack, or `timeoutMs` passes; says which, and when. */
export async function waitForOutbox(url: string, timeoutMs: number) {
  const started = performance.now();
  let last = { pending: Number.NaN, dead: Number.NaN };
  while (performance.now() - started < timeoutMs) {
    last = await outboxDepth(url);
    if (last.pending === 0) return { drained: true, ms: Math.round(performance.now() - started), ...last };
    await delay(250);
  }
  return { drained: false, ms: Math.round(performance.now() - started), ...last };
}

/**
 * Prints a benchmark's table and what follows it: where the results (and probe output) went,
 * aisre's log lines, `notes` (first errors, say), warnings and failures. Returns the exit code:
 * 1 when anything failed.
 */
export function printReport(report: {
  rows: Array<Array<string | number>>;
  root: string;
  resultsPath: string;
  probeDir: string | undefined;
  serviceLogs: Record<string, number>;
  notes: readonly string[];
  warnings: readonly string[];
  failures: readonly string[];
}): number {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`\n${table(report.rows)}\n\nresults: ${path.relative(report.root, report.resultsPath)}`);
  if (report.probeDir) out(`probe output: ${path.relative(report.root, report.probeDir)}/`);
  const logs = Object.entries(report.serviceLogs);
  if (logs.length > 0) out(`aisre logs: ${logs.map(([msg, n]) => `${n}× ${msg}`).join('; ')}`);
  for (const note of report.notes) out(note);
  for (const warning of report.warnings) out(`warning: ${warning}`);
  if (report.failures.length === 0) return 0;
  out(`\nFAILED: ${report.failures.join('; ')}`);
  return 1;
}

/** A benchmark's numeric flag `--name`, refused unless it is a number of at least `min`. */
export function numberFlag(name: string, raw: string, min: number): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be a number ≥ ${min}`);
  return value;
}
