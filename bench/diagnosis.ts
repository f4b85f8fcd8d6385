/**
 * Diagnosis benchmark: `npm run bench:diagnosis -- [--prometheus=standin|real] [--rounds 5] ...`
 * (`--help` lists every flag).
 *
 * Runs aisre as its own process (`node --import tsx src/cli/main.ts serve`, AISRE_AUTO_DIAGNOSE=true)
 * against a fresh database on the local PostgreSQL, with the Slack emulator and a Prometheus router
 * (bench/support/diagnosis-prometheus.ts) in this process. Every test/scenarios scenario gets a
 * service of its own whose metrics turn bad at the moment its incidents started; its change events
 * are recorded with `POST /changes` first. Then:
 *   1. time to conclusion: for each scenario the tree concludes on its own, one incident at a time
 *      (Alertmanager v4 over HTTP), from sending the notification to seeing the session concluded
 *      in Postgres (polled every 5 ms; concluded_at gives the figure without polling); `--rounds`
 *      times each, after an unmeasured warm-up round;
 *   2. checks against overhead: the same incidents against a Prometheus that answers at once (and,
 *      with a real one, the 5–20 ms stand-in), taking turns incident by incident with part 1 so a
 *      busy machine weighs on each alike; each diagnosis split into alert → session, each node
 *      (`diagnosis_steps` started_at → finished_at) with the Prometheus wait in it (the router's
 *      record of the queries), and the last commit; plus aisre and Postgres CPU and SQL statements
 *      per diagnosis (bench/support/probe.ts, preloaded into aisre);
 *   3. `--concurrent` incidents (every scenario, asking ones included) opened at once;
 *   4. with `--prometheus=real`, parts 1 and 3 query a real Prometheus backfilled with the scenario
 *      metrics (bench/support/diagnosis-real-prometheus.ts), checked query by query against the
 *      stand-ins first; if it cannot start, the bench says so loudly and uses the stand-ins.
 * Every outcome is compared with what the in-memory scenario runner reaches for the same scenario.
 * Prints a table, writes bench/results/diagnosis-latest.json, and exits 1 when the 2 s target is
 * missed or anything went wrong (an HTTP error, a session that did not settle as expected, a check
 * that errored, an aisre error log line, a dead Slack message).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadDefaultRunbook, runScenario } from '../test/scenarios/scenario-runner.js';
import { freePort } from '../test/support/service-process.js';
import { type SlackEmulator, startSlackEmulator } from '../test/support/slack-emulator.js';
import { createTestDatabase } from '../test/support/test-database.js';
import { queryActivity, startPrometheusRouter, type Upstream } from './support/diagnosis-prometheus.js';
import {
  compareWithStandIns,
  type RealPrometheus,
  startRealPrometheus,
} from './support/diagnosis-real-prometheus.js';
import {
  alertBody,
  changeBodies,
  concludes,
  type ExpectedOutcome,
  expectedOutcome,
  type ScenarioService,
  scenarioServices,
} from './support/diagnosis-workload.js';
import {
  IDLE_CORES,
  log,
  printReport,
  runBench,
  serverVersion,
  sourceState,
  startBenchService,
  waitForIdleMachine,
  waitForOutbox,
} from './support/harness.js';
import { KeepAliveClient } from './support/http.js';
import { probeLaunch, readProbe } from './support/probe-report.js';
import {
  type CpuUsage,
  countBy,
  cpuBetween,
  cpuSnapshot,
  type LatencySummary,
  round,
  summarize,
} from './support/stats.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS_DIR = path.join(ROOT, 'bench', 'results');
const PROBE_DIR = path.join(RESULTS_DIR, 'probe-diagnosis');
const ALERTMANAGER_TOKEN = `bench-${randomBytes(8).toString('hex')}`;
const API_TOKEN = `bench-api-${randomBytes(8).toString('hex')}`;
const INCIDENTS_CHANNEL = 'C0INCIDENTS';
/** Part 1's target: the whole tree, alert sent to conclusion, at p99. */
const TARGET_MS = 2000;
/** Every incident started this long before the bench: the scenario runner's 11:30 → 11:50. */
const INCIDENT_AGE_MS = 20 * 60_000;

const USAGE = `npm run bench:diagnosis -- [flags]

  --prometheus standin|real  what parts 1 and 3 query                      default standin
                        standin: the scenario stand-ins behind the bench's router, with --latency;
                        real: a local Prometheus (Debian package) backfilled with the scenario
                        metrics; falls back to standin, loudly, if it cannot start
  --rounds N            incidents per conclusive scenario and upstream   default 5
                        in parts 1 and 2
  --warmup-rounds N     unmeasured rounds before part 1                  default 1
  --latency MIN-MAX     stand-in answer time in ms (uniform)             default 5-20
  --concurrent N        part 3 incidents opened at once                  default 100
  --settle-timeout N    seconds a diagnosis may take before it counts as failed   default 60
  --post-burst N        emulator chat.postMessage burst per channel      default 100000
  --drain-timeout N     seconds to wait for the Slack outbox at the end  default 180
  --wait-idle N         seconds to wait for an idle machine first        default 60
  --no-probe            do not preload bench/support/probe.ts into aisre (SQL statements
                        per diagnosis and event-loop use, per part)
  --cpu-prof            also write a V8 CPU profile of aisre per part to ${path.relative(ROOT, PROBE_DIR)}/
  --seed N              stand-in latency seed                            default 1
  --keep-db             keep the bench database (its name is printed)`;

interface Options {
  prometheus: 'standin' | 'real';
  rounds: number;
  warmupRounds: number;
  latency: { minMs: number; maxMs: number };
  concurrent: number;
  settleTimeout: number;
  postBurst: number;
  drainTimeout: number;
  waitIdle: number;
  probe: boolean;
  cpuProf: boolean;
  seed: number;
  keepDb: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      prometheus: { type: 'string', default: 'standin' },
      rounds: { type: 'string', default: '5' },
      'warmup-rounds': { type: 'string', default: '1' },
      latency: { type: 'string', default: '5-20' },
      concurrent: { type: 'string', default: '100' },
      'settle-timeout': { type: 'string', default: '60' },
      'post-burst': { type: 'string', default: '100000' },
      'drain-timeout': { type: 'string', default: '180' },
      'wait-idle': { type: 'string', default: '60' },
      'no-probe': { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      seed: { type: 'string', default: '1' },
      'keep-db': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const num = (name: string, raw: string, min: number) => {
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be a number ≥ ${min}`);
    return value;
  };
  if (values.prometheus !== 'standin' && values.prometheus !== 'real') {
    throw new Error('--prometheus must be standin or real');
  }
  const latency = /^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(values.latency);
  if (!latency) throw new Error('--latency must be MIN-MAX milliseconds, e.g. 5-20 or 0');
  const minMs = Number(latency[1]);
  const maxMs = Number(latency[2] ?? latency[1]);
  if (maxMs < minMs) throw new Error('--latency: MAX must be ≥ MIN');
  return {
    prometheus: values.prometheus,
    rounds: num('rounds', values.rounds, 1),
    warmupRounds: num('warmup-rounds', values['warmup-rounds'], 0),
    latency: { minMs, maxMs },
    concurrent: num('concurrent', values.concurrent, 1),
    settleTimeout: num('settle-timeout', values['settle-timeout'], 1),
    postBurst: num('post-burst', values['post-burst'], 1),
    drainTimeout: num('drain-timeout', values['drain-timeout'], 1),
    waitIdle: num('wait-idle', values['wait-idle'], 0),
    probe: !values['no-probe'] || values['cpu-prof'],
    cpuProf: values['cpu-prof'],
    seed: num('seed', values.seed, 0),
    keepDb: values['keep-db'],
  };
}

const wallNow = () => performance.timeOrigin + performance.now();

/** A scenario outcome as the bench compares it: `concluded:<node>/<layer>` or `waiting:<node>`. */
const describe = (outcome: { status: string | null; node: string | null; layer?: string | null }) =>
  outcome.status === 'concluded'
    ? `concluded:${outcome.node}/${outcome.layer ?? '?'}`
    : `${outcome.status ?? 'none'}:${outcome.node ?? '?'}`;
const describeExpected = (expected: ExpectedOutcome) =>
  describe({
    status: expected.status,
    node: expected.node,
    layer: 'layer' in expected ? expected.layer : null,
  });

/** One incident the bench opened and what became of its diagnosis; times are wall-clock ms. */
interface DiagnosisRun {
  key: string;
  scenario: string;
  service: string;
  /** What the scenario expects, and what the in-memory scenario runner reaches. */
  expected: string;
  reference: string;
  httpStatus: number;
  incidentId: number | null;
  sentAt: number;
  settledAt: number | null;
  /** Alert sent → session seen settled (concluded or asking) in Postgres. */
  ms: number | null;
  status: string | null;
  node: string | null;
  layer: string | null;
  error: string | null;
  /** Filled in from the database after the part. */
  detail?: RunDetail;
}

interface RunDetail {
  startedBy: string;
  /** Alert sent → session row created (intake, incident opened, diagnosis started). */
  toSessionMs: number;
  /** Session created → concluded, by aisre's clock (concluded_at, stamped in the last transaction). */
  treeMs: number | null;
  /** Alert sent → concluded_at: the figure without the bench's polling. */
  engineStampedMs: number | null;
  /** concluded_at → seen by the bench: the last transaction's commit, plus ≤ 5 ms of polling. */
  concludedToSeenMs: number | null;
  /** The first node (triage, every layer's checks): step started_at → finished_at, and Prometheus in it. */
  triageMs: number | null;
  triagePrometheusMs: number | null;
  /** The decision nodes after it, the same way. */
  nextNodesMs: number | null;
  nextNodesPrometheusMs: number | null;
  /** Prometheus queries in the diagnosis's window, and the wall time some query was in flight. */
  queries: number;
  prometheusBusyMs: number;
  checkErrors: string[];
}

/** Posts to aisre with the API or Alertmanager token. */
class Api {
  readonly alerts: KeepAliveClient;
  readonly api: KeepAliveClient;

  constructor(
    readonly url: string,
    maxSockets: number,
  ) {
    this.alerts = new KeepAliveClient(url, { authorization: `Bearer ${ALERTMANAGER_TOKEN}` }, maxSockets);
    this.api = new KeepAliveClient(url, { authorization: `Bearer ${API_TOKEN}` }, 8);
  }

  async incident(
    id: number,
  ): Promise<{ status: number; diagnosis: { status?: string; node?: string } | null }> {
    const response = await fetch(`${this.url}/api/incidents/${id}`, {
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    if (response.status !== 200) return { status: response.status, diagnosis: null };
    const body = (await response.json()) as {
      incident: { diagnosis: { status?: string; node?: string } | null };
    };
    return { status: 200, diagnosis: body.incident.diagnosis };
  }

  close() {
    this.alerts.close();
    this.api.close();
  }
}

interface Bench {
  options: Options;
  api: Api;
  db: pg.Client;
  cutoff: Date;
  /** In-memory scenario runner outcome per scenario name. */
  reference: Map<string, string>;
  log: (line: string) => void;
}

async function openIncident(bench: Bench, entry: ScenarioService, key: string): Promise<DiagnosisRun> {
  const body = alertBody(entry, key, bench.cutoff);
  const run: DiagnosisRun = {
    key,
    scenario: entry.scenario.name,
    service: entry.service,
    expected: describeExpected(expectedOutcome(entry)),
    reference: bench.reference.get(entry.scenario.name) ?? '?',
    httpStatus: 0,
    incidentId: null,
    sentAt: wallNow(),
    settledAt: null,
    ms: null,
    status: null,
    node: null,
    layer: null,
    error: null,
  };
  try {
    const response = await bench.api.alerts.post('/alertmanager', body);
    run.httpStatus = response.status;
    if (response.status !== 200) {
      run.error = `POST /alertmanager ${response.status}: ${response.body.slice(0, 200)}`;
      return run;
    }
    const result = JSON.parse(response.body) as { opened: boolean; incidentId: number | null };
    run.incidentId = result.incidentId;
    if (!result.opened || result.incidentId === null) run.error = 'the notification opened no incident';
  } catch (err) {
    run.error = `POST /alertmanager: ${String(err)}`;
  }
  return run;
}

interface SessionRow {
  incident_id: number;
  status: string;
  current_node: string;
  layer: string | null;
}

function settle(run: DiagnosisRun, row: SessionRow, at: number) {
  run.settledAt = at;
  run.ms = round(at - run.sentAt);
  run.status = row.status;
  run.node = row.current_node;
  run.layer = row.layer;
  if (describe(run) !== run.reference) {
    run.error = `settled ${describe(run)}, the scenario runner reaches ${run.reference}`;
  }
}

/** Polls Postgres until every run's session has concluded or is asking, or the deadline passes. */
async function waitSettled(bench: Bench, runs: DiagnosisRun[], intervalMs: number): Promise<void> {
  const pending = new Map(
    runs.filter((run) => run.incidentId !== null && !run.error).map((run) => [run.incidentId!, run]),
  );
  const deadline = performance.now() + bench.options.settleTimeout * 1000;
  while (pending.size > 0) {
    const { rows } = await bench.db.query<SessionRow>(
      `select incident_id, status, current_node, conclusion->>'layer' as layer
         from diagnosis_sessions
        where incident_id = any($1::int[]) and status in ('concluded', 'waiting')`,
      [[...pending.keys()]],
    );
    const at = wallNow();
    for (const row of rows) {
      const run = pending.get(row.incident_id);
      if (!run) continue;
      settle(run, row, at);
      pending.delete(row.incident_id);
    }
    if (pending.size === 0) break;
    if (performance.now() > deadline) {
      for (const run of pending.values()) {
        run.error = `not settled within ${bench.options.settleTimeout} s`;
      }
      break;
    }
    await delay(intervalMs);
  }
}

/** Fills in each run's detail: session and step times, Prometheus activity, errored checks. */
async function loadDetails(
  bench: Bench,
  runs: DiagnosisRun[],
  queries: Parameters<typeof queryActivity>[0],
  sequential: boolean,
) {
  const ids = runs.filter((run) => run.incidentId !== null).map((run) => run.incidentId!);
  if (ids.length === 0) return;
  const sessions = await bench.db.query<{
    id: number;
    incident_id: number;
    started_by: string;
    started_at: Date;
    concluded_at: Date | null;
  }>(
    'select id, incident_id, started_by, started_at, concluded_at from diagnosis_sessions where incident_id = any($1::int[])',
    [ids],
  );
  const steps = await bench.db.query<{
    session_id: number;
    seq: number;
    started_at: Date;
    finished_at: Date | null;
    node_id: string;
    results: Record<string, { status: string; summary: string }>;
  }>(
    `select st.session_id, st.seq, st.started_at, st.finished_at, st.node_id, st.results
       from diagnosis_steps st join diagnosis_sessions s on s.id = st.session_id
      where s.incident_id = any($1::int[])`,
    [ids],
  );
  const stepsBySession = new Map<number, typeof steps.rows>();
  for (const row of steps.rows)
    stepsBySession.set(row.session_id, [...(stepsBySession.get(row.session_id) ?? []), row]);
  const byIncident = new Map(sessions.rows.map((row) => [row.incident_id, row]));
  for (const run of runs) {
    const session = run.incidentId === null ? undefined : byIncident.get(run.incidentId);
    if (!session) {
      if (run.incidentId !== null && !run.error) run.error = 'no diagnosis session was started';
      continue;
    }
    const sessionSteps = stepsBySession.get(session.id) ?? [];
    const finished = sessionSteps.filter((step) => step.finished_at !== null).sort((a, b) => a.seq - b.seq);
    const checkErrors = sessionSteps.flatMap((step) =>
      Object.entries(step.results)
        .filter(([, result]) => result.status === 'error')
        .map(([id, result]) => `${step.node_id}.${id}: ${result.summary}`),
    );
    // With one diagnosis at a time every query in its window is its own; concurrently they mix.
    const own = sequential && run.settledAt !== null;
    const activity = own
      ? queryActivity(queries, run.sentAt, run.settledAt!)
      : { count: Number.NaN, busyMs: Number.NaN };
    const span = (list: typeof finished) =>
      list.length === 0
        ? { ms: null, prometheusMs: null }
        : {
            ms: list.reduce(
              (sum, step) => sum + (step.finished_at!.getTime() - step.started_at.getTime()),
              0,
            ),
            prometheusMs: own
              ? round(
                  list.reduce(
                    (sum, step) =>
                      sum +
                      queryActivity(queries, step.started_at.getTime(), step.finished_at!.getTime()).busyMs,
                    0,
                  ),
                )
              : null,
          };
    const triage = span(finished.slice(0, 1));
    const next = span(finished.slice(1));
    const concludedAt = session.concluded_at?.getTime() ?? null;
    run.detail = {
      startedBy: session.started_by,
      toSessionMs: session.started_at.getTime() - run.sentAt,
      treeMs: concludedAt === null ? null : concludedAt - session.started_at.getTime(),
      engineStampedMs: concludedAt === null ? null : round(concludedAt - run.sentAt),
      concludedToSeenMs:
        concludedAt === null || run.settledAt === null ? null : round(run.settledAt - concludedAt),
      triageMs: triage.ms,
      triagePrometheusMs: triage.prometheusMs,
      nextNodesMs: next.ms,
      nextNodesPrometheusMs: next.prometheusMs,
      queries: activity.count,
      prometheusBusyMs: round(activity.busyMs),
      checkErrors,
    };
    if (checkErrors.length > 0 && !run.error)
      run.error = `errored checks: ${checkErrors.slice(0, 3).join('; ')}`;
    if (session.started_by !== 'system' && !run.error)
      run.error = `diagnosis started by ${session.started_by}`;
  }
}

/** Where CPU went during a part, in cores on average; the real Prometheus is taken out of "other". */
type PartCpu = CpuUsage & { prometheusCores: number };

/** CPU milliseconds summed over a part's blocks. */
interface CpuTally {
  wallMs: number;
  benchMs: number;
  serviceMs: number;
  postgresMs: number;
  machineMs: number;
  otherMs: number;
  prometheusMs: number;
}

const newCpuTally = (): CpuTally => ({
  wallMs: 0,
  benchMs: 0,
  serviceMs: 0,
  postgresMs: 0,
  machineMs: 0,
  otherMs: 0,
  prometheusMs: 0,
});

function addCpu(tally: CpuTally, usage: CpuUsage, wallMs: number, prometheusMs: number): void {
  tally.wallMs += wallMs;
  tally.benchMs += usage.benchCores * wallMs;
  tally.serviceMs += usage.serviceCores * wallMs;
  tally.postgresMs += usage.postgresCores * wallMs;
  tally.machineMs += usage.machineBusyCores * wallMs;
  tally.otherMs += Math.max(0, usage.otherCores * wallMs - prometheusMs);
  tally.prometheusMs += prometheusMs;
}

function scaleCpu(tally: CpuTally, share: number): CpuTally {
  return Object.fromEntries(
    Object.entries(tally).map(([key, ms]) => [key, ms * share]),
  ) as unknown as CpuTally;
}

function cpuUsage(tally: CpuTally): PartCpu {
  const cores = (ms: number) => round(ms / Math.max(1, tally.wallMs));
  return {
    benchCores: cores(tally.benchMs),
    serviceCores: cores(tally.serviceMs),
    postgresCores: cores(tally.postgresMs),
    machineBusyCores: cores(tally.machineMs),
    otherCores: cores(tally.otherMs),
    prometheusCores: cores(tally.prometheusMs),
  };
}

/** CPU time (ms) a process has used, from /proc; 0 where that cannot be read. */
function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

interface PartResult {
  name: string;
  prometheus: string;
  diagnoses: number;
  wallMs: number;
  latency: LatencySummary;
  engineStamped: LatencySummary;
  breakdownMeanMs: {
    toSession: number;
    triage: number;
    triagePrometheus: number;
    nextNodes: number;
    nextNodesPrometheus: number;
    concludedToSeen: number;
    prometheusBusy: number;
    /** e2e − Prometheus busy: everything but waiting for Prometheus. */
    notPrometheus: number;
  };
  prometheusShareOfE2e: number;
  queriesPerDiagnosis: number;
  /** CPU time per diagnosis while the part ran (aisre's Slack outbox work included). */
  cpuMsPerDiagnosis: { aisre: number; postgres: number };
  accuracy: {
    conclusive: number;
    layerCorrect: number;
    conclusionCorrect: number;
    matchesScenarioRunner: number;
  };
  errors: number;
  cpu: PartCpu;
  slackCalls: Record<string, number>;
}

const mean = (values: number[]) =>
  values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length;

/** Mean of the values present; NaN when there are none. */
const meanOf = (details: RunDetail[], pick: (detail: RunDetail) => number | null) =>
  round(mean(details.map(pick).filter((value): value is number => value !== null && Number.isFinite(value))));

function partResult(
  name: string,
  prometheus: string,
  runs: DiagnosisRun[],
  wallMs: number,
  cpu: PartResult['cpu'],
  slackCalls: Record<string, number>,
): PartResult {
  const settled = runs.filter((run) => run.ms !== null);
  const details = settled
    .map((run) => run.detail)
    .filter((detail): detail is RunDetail => detail !== undefined);
  const e2e = settled.map((run) => run.ms!);
  const conclusive = runs.filter((run) => run.expected.startsWith('concluded:'));
  const layerOf = (text: string) => text.split('/')[1];
  return {
    name,
    prometheus,
    diagnoses: runs.length,
    wallMs: Math.round(wallMs),
    latency: summarize(e2e),
    engineStamped: summarize(
      details.map((detail) => detail.engineStampedMs).filter((ms): ms is number => ms !== null),
    ),
    breakdownMeanMs: {
      toSession: round(mean(details.map((detail) => detail.toSessionMs))),
      triage: meanOf(details, (detail) => detail.triageMs),
      triagePrometheus: meanOf(details, (detail) => detail.triagePrometheusMs),
      nextNodes: meanOf(details, (detail) => detail.nextNodesMs),
      nextNodesPrometheus: meanOf(details, (detail) => detail.nextNodesPrometheusMs),
      concludedToSeen: meanOf(details, (detail) => detail.concludedToSeenMs),
      prometheusBusy: round(mean(details.map((detail) => detail.prometheusBusyMs))),
      notPrometheus: round(
        mean(settled.map((run) => run.ms! - (run.detail?.prometheusBusyMs ?? Number.NaN))),
      ),
    },
    prometheusShareOfE2e: round(mean(details.map((detail) => detail.prometheusBusyMs)) / mean(e2e), 3),
    queriesPerDiagnosis: round(mean(details.map((detail) => detail.queries)), 1),
    cpuMsPerDiagnosis: {
      aisre: round((cpu.serviceCores * wallMs) / Math.max(1, runs.length), 1),
      postgres: round((cpu.postgresCores * wallMs) / Math.max(1, runs.length), 1),
    },
    accuracy: {
      conclusive: conclusive.length,
      layerCorrect: conclusive.filter(
        (run) => run.status === 'concluded' && run.layer === layerOf(run.expected),
      ).length,
      conclusionCorrect: conclusive.filter((run) => describe(run) === run.expected).length,
      matchesScenarioRunner: runs.filter((run) => run.ms !== null && describe(run) === run.reference).length,
    },
    errors: runs.filter((run) => run.error !== null).length,
    cpu,
    slackCalls,
  };
}

/** One incident at a time: open it, wait for its diagnosis to settle, next. */
async function sequentialPart(
  bench: Bench,
  name: string,
  entries: readonly ScenarioService[],
  rounds: number,
): Promise<DiagnosisRun[]> {
  const runs: DiagnosisRun[] = [];
  for (let roundIndex = 0; roundIndex < rounds; roundIndex++) {
    for (const [index, entry] of entries.entries()) {
      const key = rounds > 1 ? `${name}-r${roundIndex}-${index}` : `${name}-${index}`;
      const run = await openIncident(bench, entry, key);
      runs.push(run);
      if (!run.error) await waitSettled(bench, [run], 5);
    }
  }
  return runs;
}

/** `count` incidents cycling through every scenario, all sent at once. */
async function concurrentPart(bench: Bench, entries: readonly ScenarioService[], count: number) {
  const plans = Array.from({ length: count }, (_, index) => entries[index % entries.length]!);
  const runs = await Promise.all(
    plans.map((entry, index) => openIncident(bench, entry, `concurrent-${index}`)),
  );
  await waitSettled(bench, runs, 10);
  return runs;
}

/** Which part of aisre a statement serves, by the table it names. */
function sqlArea(sql: string): string {
  const text = sql.toLowerCase();
  if (/^(begin|commit|rollback);?$/.test(text)) return 'begin/commit';
  for (const table of [
    'slack_',
    'diagnosis_steps',
    'diagnosis_sessions',
    'incident_timeline',
    'change_events',
    'alert_occurrences',
    'incidents',
    'pg_advisory',
  ]) {
    if (text.includes(table)) return table === 'slack_' ? 'slack outbox/sync' : table;
  }
  return 'other';
}

/** What bench/support/probe.ts wrote for one part, per diagnosis. */
function probeSummary(segment: string, diagnoses: number) {
  // A part run in blocks has one segment per block (`part1~0`, `part1~1`…): add them up.
  const names = existsSync(PROBE_DIR)
    ? readdirSync(PROBE_DIR)
        .filter((file) => file.endsWith('.loop.json'))
        .map((file) => file.slice(0, -'.loop.json'.length))
        .filter((name) => name === segment || name.startsWith(`${segment}~`))
    : [];
  const probe = readProbe(PROBE_DIR, names);
  if (!probe) return undefined;
  const { statements } = probe;
  const per = (n: number) => round(n / Math.max(1, diagnoses), 1);
  const areas: Record<string, { statements: number; ms: number }> = {};
  for (const row of statements) {
    const area = areas[sqlArea(row.sql)] ?? { statements: 0, ms: 0 };
    areas[sqlArea(row.sql)] = area;
    area.statements += row.calls;
    area.ms += row.totalMs;
  }
  return {
    eventLoopUtilization: probe.eventLoopUtilization,
    eventLoopDelayMs: probe.eventLoopDelayMs,
    statementsPerDiagnosis: per(probe.calls),
    transactionsPerDiagnosis: per(probe.transactions),
    /** Σ send→result of every statement (they overlap when checks run in parallel). */
    sqlMsPerDiagnosis: per(probe.totalMs),
    meanRoundTripMs: probe.meanRoundTripMs,
    byArea: Object.fromEntries(
      Object.entries(areas)
        .sort(([, a], [, b]) => b.statements - a.statements)
        .map(([area, totals]) => [area, { statements: per(totals.statements), ms: per(totals.ms) }]),
    ),
    top: statements.slice(0, 10).map((row) => ({
      sql: row.sql.slice(0, 110),
      perDiagnosis: per(row.calls),
      meanMs: row.meanMs,
    })),
  };
}

const lat = (summary: LatencySummary) => `${summary.p50} / ${summary.p95} / ${summary.p99} / ${summary.max}`;
const counts = (record: Record<string, number>) =>
  Object.entries(record)
    .map(([key, n]) => `${key}: ${n}`)
    .join(', ') || '-';
const loadavg = () => os.loadavg().map((value) => round(value, 2));

async function main(cleanups: Array<() => Promise<unknown>>): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const loadBefore = loadavg();
  const busyBefore = await waitForIdleMachine(options.waitIdle);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const warnings: string[] = [];
  const failures: string[] = [];

  // What the tree reaches for each scenario with no database, HTTP or concurrency in the way.
  const runbook = await loadDefaultRunbook();
  const services = scenarioServices();
  const reference = new Map<string, string>();
  for (const entry of services) {
    const outcome = await runScenario(entry.scenario, runbook);
    reference.set(
      entry.scenario.name,
      outcome.concludedNode
        ? describe({ status: 'concluded', node: outcome.concludedNode, layer: outcome.layer ?? null })
        : describe({ status: 'waiting', node: outcome.askedAt ?? null }),
    );
  }
  const disagreeing = services.filter(
    (entry) => reference.get(entry.scenario.name) !== describeExpected(expectedOutcome(entry)),
  );
  for (const entry of disagreeing) {
    warnings.push(
      `scenario ${entry.scenario.name}: expected ${describeExpected(expectedOutcome(entry))}, the tree reaches ${reference.get(entry.scenario.name)} even in memory`,
    );
  }
  const conclusive = services.filter(concludes);
  log(
    `${services.length} scenarios, ${conclusive.length} conclusive; scenario runner agrees with ${services.length - disagreeing.length}`,
  );

  const benchStart = new Date();
  const cutoff = new Date(benchStart.getTime() - INCIDENT_AGE_MS);
  const standinUpstream: Upstream = { kind: 'standin', ...options.latency };
  const router = await startPrometheusRouter({
    services,
    cutoff,
    upstream: standinUpstream,
    seed: options.seed,
  });
  cleanups.push(() => router.close());

  let real: RealPrometheus | undefined;
  let realFailure: string | undefined;
  let fidelity: Awaited<ReturnType<typeof compareWithStandIns>> | undefined;
  if (options.prometheus === 'real') {
    log('real Prometheus: backfilling the scenario metrics');
    try {
      real = await startRealPrometheus({
        services,
        cutoff,
        from: new Date(cutoff.getTime() - 25 * 3_600_000),
        until: new Date(benchStart.getTime() + 2 * 3_600_000),
        port: await freePort(),
        log,
      });
      cleanups.push(() => real!.close());
      fidelity = await compareWithStandIns({
        realUrl: real.url,
        services,
        standIn: router.standIn,
        runbook,
        now: new Date(),
      });
      log(
        `  ${fidelity.compared} query evaluations compared with the stand-ins: ${fidelity.mismatches.length} differ`,
      );
      if (fidelity.mismatches.length > 0) {
        failures.push(
          `the backfilled Prometheus answers ${fidelity.mismatches.length} queries unlike the scenarios say`,
        );
      }
      router.setUpstream({ kind: 'real', url: real.url });
    } catch (err) {
      realFailure = err instanceof Error ? err.message : String(err);
      log(`REAL PROMETHEUS UNAVAILABLE, falling back to the stand-ins: ${realFailure}`);
      warnings.push(
        `--prometheus=real requested but unavailable (${realFailure}); every part used the stand-ins`,
      );
    }
  }
  const primary = router.upstream();
  const describeUpstream = (upstream: Upstream) =>
    upstream.kind === 'real'
      ? `real Prometheus ${/version (\S+)/.exec(real?.version ?? '')?.[1] ?? '?'}`
      : upstream.maxMs === 0
        ? 'stand-in, instant'
        : `stand-in, ${upstream.minMs}–${upstream.maxMs} ms`;

  const database = await createTestDatabase('postgres');
  const databaseName = database.env.DATABASE_URL!.replace(/^.*\//, '');
  cleanups.push(async () => {
    if (options.keepDb) log(`kept database ${databaseName}: ${database.env.DATABASE_URL}`);
    else await database.drop();
  });
  log(`database ${databaseName} created`);

  const emulator: SlackEmulator = await startSlackEmulator({
    channels: [{ id: INCIDENTS_CHANNEL, name: 'incidents' }],
    postMessageBurst: options.postBurst,
  });
  cleanups.push(() => emulator.close());

  const { service, stop, mark } = await startBenchService({
    cwd: ROOT,
    env: {
      DATABASE_URL: database.env.DATABASE_URL!,
      ALERTMANAGER_TOKEN,
      AISRE_API_TOKEN: API_TOKEN,
      AISRE_AUTO_DIAGNOSE: 'true',
      // No question is brought up again while the bench runs: asking sessions stay put.
      AISRE_DIAGNOSIS_RECHECK: '1h',
      AISRE_RUNBOOKS_DIR: path.join(ROOT, 'runbooks'),
      PROMETHEUS_URL: router.url,
      PROMETHEUS_PUBLIC_URL: '',
      PROMETHEUS_BEARER_TOKEN: '',
      LLM_BASE_URL: '',
      LLM_API_KEY: '',
    },
    slack: { apiUrl: emulator.apiUrl, incidentsChannel: INCIDENTS_CHANNEL },
    probing: probeLaunch({ enabled: options.probe, dir: PROBE_DIR, cpuProfile: options.cpuProf }),
    cleanups,
  });

  const api = new Api(service.url, Math.max(16, options.concurrent));
  cleanups.push(async () => api.close());
  const db = new pg.Client({ connectionString: database.env.DATABASE_URL });
  await db.connect();
  cleanups.push(() => db.end());
  const bench: Bench = { options, api, db, cutoff, reference, log };

  // Change events: every scenario's deploys, recorded as CI would, before any incident.
  const changeStatuses: Record<string, number> = {};
  for (const entry of services) {
    for (const change of changeBodies(entry, cutoff)) {
      const response = await api.api.post('/changes', Buffer.from(JSON.stringify(change)));
      changeStatuses[response.status] = (changeStatuses[response.status] ?? 0) + 1;
      if (response.status !== 201)
        failures.push(`POST /changes answered ${response.status}: ${response.body.slice(0, 200)}`);
    }
  }
  log(`recorded change events: ${counts(changeStatuses)}`);

  const allRuns: DiagnosisRun[] = [];
  const parts: PartResult[] = [];
  /** A part's diagnoses and resources, gathered over blocks that may be interleaved with others. */
  interface PartTally {
    name: string;
    upstream: Upstream;
    runs: DiagnosisRun[];
    cpu: CpuTally;
    slackCalls: Record<string, number>;
  }
  const newTally = (name: string, upstream: Upstream): PartTally => ({
    name,
    upstream,
    runs: [],
    cpu: newCpuTally(),
    slackCalls: {},
  });
  /** Runs one block of a part: its diagnoses, against its upstream, in a probe segment of its own. */
  const runBlock = async (tally: PartTally, segmentName: string, body: () => Promise<DiagnosisRun[]>) => {
    router.setUpstream(tally.upstream);
    await mark(segmentName);
    const firstCall = emulator.calls.length;
    const cpuStart = cpuSnapshot(service.pid);
    const prometheusStart = real ? processCpuMs(real.pid) : 0;
    const started = performance.now();
    const runs = await body();
    const wallMs = performance.now() - started;
    addCpu(
      tally.cpu,
      cpuBetween(cpuStart, cpuSnapshot(service.pid)),
      wallMs,
      real ? processCpuMs(real.pid) - prometheusStart : 0,
    );
    for (const call of emulator.calls.slice(firstCall)) {
      tally.slackCalls[call.method] = (tally.slackCalls[call.method] ?? 0) + 1;
    }
    tally.runs.push(...runs);
  };
  const finishPart = async (tally: PartTally, sequential: boolean): Promise<PartResult> => {
    await loadDetails(bench, tally.runs, router.queries, sequential);
    allRuns.push(...tally.runs);
    const result = partResult(
      tally.name,
      describeUpstream(tally.upstream),
      tally.runs,
      tally.cpu.wallMs,
      cpuUsage(tally.cpu),
      tally.slackCalls,
    );
    log(
      `  ${tally.name}: ${tally.runs.length} diagnoses, ms p50/p95/p99/max ${lat(result.latency)}, ${result.errors} errors`,
    );
    return result;
  };

  if (options.warmupRounds > 0) {
    log(
      `warm-up: ${options.warmupRounds} round(s) of ${conclusive.length} conclusive scenarios (not measured)`,
    );
    const warmup = newTally('warmup', primary);
    await runBlock(warmup, 'warmup', () => sequentialPart(bench, 'warmup', conclusive, options.warmupRounds));
    const result = await finishPart(warmup, true);
    if (result.errors > 0) failures.push(`warm-up: ${result.errors} diagnoses failed`);
  }
  // Parts 1 and 2 take turns incident by incident, in a rotating order, so background load (a
  // shared machine) and the database growing weigh on each upstream alike. SQL and CPU are
  // therefore measured for the sequential parts together: they do not depend on the upstream.
  const sequentialTallies = [
    newTally('part1', primary),
    newTally('part2-instant', { kind: 'standin', minMs: 0, maxMs: 0 }),
    ...(primary.kind === 'real' ? [newTally('part2-standin', standinUpstream)] : []),
  ];
  log(
    `parts 1 and 2: ${options.rounds} rounds × ${conclusive.length} conclusive scenarios, one incident at a time, against ${sequentialTallies.map((tally) => describeUpstream(tally.upstream)).join(' / ')} in turn`,
  );
  const realQueriesBefore = real ? await real.queryCount() : undefined;
  const sequential = newTally('sequential', primary);
  await runBlock(sequential, 'sequential', async () => {
    const runs: DiagnosisRun[] = [];
    for (let roundIndex = 0; roundIndex < options.rounds; roundIndex++) {
      for (const [index, entry] of conclusive.entries()) {
        for (let turn = 0; turn < sequentialTallies.length; turn++) {
          const tally = sequentialTallies[(roundIndex + index + turn) % sequentialTallies.length]!;
          router.setUpstream(tally.upstream);
          const run = await openIncident(bench, entry, `${tally.name}-r${roundIndex}-${index}`);
          runs.push(run);
          tally.runs.push(run);
          if (!run.error) await waitSettled(bench, [run], 5);
        }
      }
      log(`  round ${roundIndex + 1}/${options.rounds} done, load ${loadavg().join(' ')}`);
    }
    return runs;
  });
  await mark('between');
  const realQueries =
    real && realQueriesBefore !== undefined ? (await real.queryCount()) - realQueriesBefore : undefined;
  for (const tally of sequentialTallies) {
    // Each part gets its share of the common wall time, so its CPU per diagnosis is the common one.
    const share = tally.runs.length / Math.max(1, sequential.runs.length);
    tally.cpu = scaleCpu(sequential.cpu, share);
    tally.slackCalls = sequential.slackCalls;
    parts.push(await finishPart(tally, true));
  }
  const part1 = { result: parts[0]! };
  const sequentialCpu = cpuUsage(sequential.cpu);

  log('waiting for the Slack outbox to drain before part 3');
  const beforePart3 = await waitForOutbox(service.url, options.drainTimeout * 1000);
  if (!beforePart3.drained)
    warnings.push(`Slack outbox not drained before part 3 (${beforePart3.pending} pending)`);
  log(
    `part 3: ${options.concurrent} incidents at once (every scenario, asking ones included), ${describeUpstream(primary)}`,
  );
  const part3Tally = newTally('part3', primary);
  await runBlock(part3Tally, 'part3', () => concurrentPart(bench, services, options.concurrent));
  await mark('drain');
  const part3 = { runs: part3Tally.runs, result: await finishPart(part3Tally, false) };
  parts.push(part3.result);
  const part3Queries = router.queries.filter(
    (query) => query.start >= Math.min(...part3.runs.map((run) => run.sentAt)) - 1,
  ).length;

  log(`waiting for the Slack outbox to drain (up to ${options.drainTimeout} s)`);
  const drain = await waitForOutbox(service.url, options.drainTimeout * 1000);

  // The API must tell what Postgres says.
  let apiDisagreements = 0;
  const apiSamples: string[] = [];
  for (const run of allRuns) {
    if (run.incidentId === null || run.status === null) continue;
    const answer = await api.incident(run.incidentId);
    if (answer.diagnosis?.status !== run.status || answer.diagnosis?.node !== run.node) {
      apiDisagreements += 1;
      if (apiSamples.length < 3) {
        apiSamples.push(
          `INC-${run.incidentId}: API ${answer.status} ${JSON.stringify(answer.diagnosis)} vs ${describe(run)}`,
        );
      }
    }
  }
  const slackByMethod = countBy(emulator.calls, (call) => call.method);
  const slackOutcomes = countBy(emulator.calls, (call) => {
    if (call.status === null) return 'dropped';
    const body = call.response as { ok?: boolean; error?: string } | null;
    return body?.ok ? `${call.status} ok` : `${call.status} ${body?.error ?? 'error'}`;
  });
  const routerFailures = router.queries.filter((query) => query.status !== 200).length;

  const stopped = await stop();
  const serviceLogs = service.logCounts();
  const loadAfter = loadavg();

  // Targets and errors.
  const p1 = part1.result;
  const targetMet = p1.latency.count > 0 && p1.latency.p99 < TARGET_MS;
  if (!targetMet) failures.push(`part 1 p99 ${p1.latency.p99} ms is not under ${TARGET_MS} ms`);
  for (const part of parts) {
    if (part.errors > 0) failures.push(`${part.name}: ${part.errors} of ${part.diagnoses} diagnoses failed`);
  }
  const failedRuns = allRuns.filter((run) => run.error !== null);
  const checkErrors = allRuns.flatMap((run) => run.detail?.checkErrors ?? []);
  if (checkErrors.length > 0) failures.push(`${checkErrors.length} check results were errors`);
  if (routerFailures > 0) failures.push(`${routerFailures} Prometheus queries were not answered 200`);
  if (apiDisagreements > 0)
    failures.push(`GET /api/incidents/:id disagrees with Postgres for ${apiDisagreements} incidents`);
  const errorLogs = Object.entries(serviceLogs).filter(
    ([key]) => /^(error|fatal):/.test(key) || key === 'non-json output',
  );
  if (errorLogs.length > 0)
    failures.push(`aisre logged ${errorLogs.map(([key, n]) => `${n}× ${key}`).join('; ')}`);
  if (drain.dead > 0) failures.push(`${drain.dead} Slack messages are dead`);
  if (!drain.drained)
    warnings.push(`Slack outbox not drained after ${options.drainTimeout} s (${drain.pending} pending)`);
  if (stopped.code !== 0) failures.push(`aisre exited with code ${stopped.code} (${stopped.signal})`);
  if (p1.accuracy.layerCorrect < p1.accuracy.conclusive) {
    warnings.push(
      `layer accuracy ${p1.accuracy.layerCorrect}/${p1.accuracy.conclusive}: see scenario warnings`,
    );
  }
  for (const [name, cpu] of [
    ['parts 1–2', sequentialCpu],
    ['part 3', part3.result.cpu],
  ] as const) {
    if (cpu.otherCores > IDLE_CORES) {
      warnings.push(`${name}: other processes used ${cpu.otherCores} of the 2 cores; its figures are skewed`);
    }
  }
  if (real && Date.now() > new Date(real.backfill.until).getTime() - INCIDENT_AGE_MS) {
    warnings.push('the bench outlived the backfilled data; late diagnoses saw no data');
  }

  const probe = options.probe
    ? {
        sequential: probeSummary('sequential', sequential.runs.length),
        part3: probeSummary('part3', part3.result.diagnoses),
      }
    : undefined;
  const p3 = part3.result;
  const p3Runs = part3.runs;
  const p3Outcomes = countBy(p3Runs, (run) => (run.error ? 'failed' : (run.status ?? 'none')));
  const results = {
    finishedAt: new Date().toISOString(),
    command: `npm run bench:diagnosis -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGb: round(os.totalmem() / 2 ** 30, 1),
      node: process.version,
      postgres: (await serverVersion(database.env.DATABASE_URL!).catch(() => 'unknown')) as string,
      busyCoresBeforeStart: busyBefore,
      loadavgBefore: loadBefore,
      loadavgAfter: loadAfter,
    },
    options,
    source: sourceState(ROOT),
    prometheus: {
      requested: options.prometheus,
      used: primary.kind,
      primary: describeUpstream(primary),
      realFailure: realFailure ?? null,
      real: real
        ? {
            version: real.version,
            backfill: real.backfill,
            queriesAnsweredInParts1And2: realQueries,
          }
        : null,
      fidelity: fidelity
        ? { compared: fidelity.compared, mismatches: fidelity.mismatches.slice(0, 20) }
        : null,
      note: 'aisre reaches every Prometheus through the bench router (one extra loopback hop), which records each query',
      routerRetries: router.retries(),
    },
    scenarios: {
      total: services.length,
      conclusive: conclusive.length,
      scenarioRunnerDisagreesWithExpectation: disagreeing.map((entry) => entry.scenario.name),
    },
    changeEvents: changeStatuses,
    targets: { part1P99Ms: { target: TARGET_MS, actual: p1.latency.p99, met: targetMet } },
    parts,
    part3: {
      incidents: options.concurrent,
      wallMs: p3.wallMs,
      outcomes: p3Outcomes,
      prometheusQueries: part3Queries,
      queriesPerDiagnosis: round(part3Queries / Math.max(1, options.concurrent), 1),
    },
    slack: { byMethod: slackByMethod, outcomes: slackOutcomes, drain, beforePart3 },
    apiDisagreements: { count: apiDisagreements, samples: apiSamples },
    probe,
    service: { exit: stopped, logs: serviceLogs },
    failedRuns: failedRuns.slice(0, 30).map(({ detail: _detail, ...run }) => run),
    runs: allRuns.map((run) => ({
      key: run.key,
      scenario: run.scenario,
      incidentId: run.incidentId,
      ms: run.ms,
      outcome: describe(run),
      error: run.error,
      ...(run.detail
        ? {
            toSessionMs: run.detail.toSessionMs,
            treeMs: run.detail.treeMs,
            triageMs: run.detail.triageMs,
            nextNodesMs: run.detail.nextNodesMs,
            concludedToSeenMs: run.detail.concludedToSeenMs,
            queries: run.detail.queries,
            prometheusBusyMs: run.detail.prometheusBusyMs,
          }
        : {}),
    })),
    warnings,
    failures,
  };
  const resultsPath = path.join(RESULTS_DIR, 'diagnosis-latest.json');
  writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);

  const prometheusLine = realFailure
    ? `REQUESTED real, UNAVAILABLE → stand-in (${realFailure.slice(0, 80)})`
    : primary.kind === 'real'
      ? `${describeUpstream(primary)}, ${real!.backfill.series} series × 15 s over ${round((new Date(real!.backfill.until).getTime() - new Date(real!.backfill.from).getTime()) / 3_600_000, 1)} h; ${fidelity!.compared - fidelity!.mismatches.length}/${fidelity!.compared} query evaluations match the stand-ins`
      : `stand-in (loopback, real HTTP API), ${options.latency.minMs}–${options.latency.maxMs} ms per query`;
  const rows: Array<Array<string | number>> = [
    [
      'machine',
      `${os.cpus().length} cores; busy before start ${busyBefore}; loadavg before ${loadBefore.join(' ')}, after ${loadAfter.join(' ')}`,
    ],
    ['prometheus (parts 1, 3)', prometheusLine],
    [
      'scenarios',
      `${services.length} (${conclusive.length} conclusive); change events ${counts(changeStatuses)}`,
    ],
    [
      'part 1: alert → concluded',
      `${p1.diagnoses} diagnoses one at a time (${options.rounds} rounds), ${p1.prometheus}`,
    ],
    ['  ms p50/p95/p99/max', lat(p1.latency)],
    ['  same, by concluded_at (no polling)', lat(p1.engineStamped)],
    ['  target', `p99 ${p1.latency.p99} < ${TARGET_MS} ms: ${targetMet ? 'met' : 'MISSED'}`],
    [
      '  layer accuracy; exact conclusion',
      `${p1.accuracy.layerCorrect}/${p1.accuracy.conclusive} (${round((100 * p1.accuracy.layerCorrect) / Math.max(1, p1.accuracy.conclusive), 1)}%); ${p1.accuracy.conclusionCorrect}/${p1.accuracy.conclusive}`,
    ],
    ['  errors', p1.errors],
    ['part 2: where the time goes', 'mean ms per diagnosis'],
    [
      '  prometheus',
      'e2e p50 / p99 | alert→session | triage node (Prometheus) | next node (Prometheus) | concluded→seen | Prometheus busy (share) | not Prometheus | queries',
    ],
    ...parts
      .filter((part) => part.name !== 'part3')
      .map((part) => [
        `  ${part.prometheus}`,
        `${part.latency.p50} / ${part.latency.p99} | ${part.breakdownMeanMs.toSession} | ${part.breakdownMeanMs.triage} (${part.breakdownMeanMs.triagePrometheus}) | ${part.breakdownMeanMs.nextNodes} (${part.breakdownMeanMs.nextNodesPrometheus}) | ${part.breakdownMeanMs.concludedToSeen} | ${part.breakdownMeanMs.prometheusBusy} (${round(part.prometheusShareOfE2e * 100)}%) | ${part.breakdownMeanMs.notPrometheus} | ${part.queriesPerDiagnosis}`,
      ]),
    [
      '  CPU ms per diagnosis (parts 1–2)',
      `aisre ${round((sequentialCpu.serviceCores * sequential.cpu.wallMs) / Math.max(1, sequential.runs.length), 1)} / postgres ${round((sequentialCpu.postgresCores * sequential.cpu.wallMs) / Math.max(1, sequential.runs.length), 1)} (Slack outbox work included); cores used by others' work ${sequentialCpu.otherCores}`,
    ],
    ...(probe?.sequential
      ? [
          [
            '  SQL per diagnosis (parts 1–2)',
            `${probe.sequential.statementsPerDiagnosis} statements, ${probe.sequential.transactionsPerDiagnosis} transactions, Σ ${probe.sequential.sqlMsPerDiagnosis} ms (mean ${probe.sequential.meanRoundTripMs} ms); aisre event loop ${Math.round(probe.sequential.eventLoopUtilization * 100)}% busy`,
          ],
          [
            '    by area',
            Object.entries(probe.sequential.byArea)
              .map(([area, totals]) => `${area} ${totals.statements}`)
              .join(', '),
          ],
        ]
      : []),
    ['part 3: concurrent', `${options.concurrent} incidents at once, ${p3.prometheus}`],
    ['  wall (first sent → last settled)', `${round(p3.wallMs / 1000, 2)} s`],
    ['  ms p50/p95/p99/max per diagnosis', lat(p3.latency)],
    ['  outcomes', counts(p3Outcomes)],
    ['  errors', p3.errors],
    ['  Prometheus queries / diagnosis', round(part3Queries / Math.max(1, options.concurrent), 1)],
    [
      '  CPU ms per diagnosis: aisre / postgres',
      `${p3.cpuMsPerDiagnosis.aisre} / ${p3.cpuMsPerDiagnosis.postgres} (Slack work partly deferred past the part)`,
    ],
    [
      `  CPU cores: aisre / postgres / bench${real ? ' / prometheus' : ''} / others' work`,
      `${p3.cpu.serviceCores} / ${p3.cpu.postgresCores} / ${p3.cpu.benchCores}${real ? ` / ${p3.cpu.prometheusCores}` : ''} / ${p3.cpu.otherCores} of ${os.cpus().length}`,
    ],
    ['  Slack calls during part 3', counts(p3.slackCalls)],
    ...(probe?.part3
      ? [
          [
            '  aisre event loop; SQL per diagnosis',
            `${Math.round(probe.part3.eventLoopUtilization * 100)}% busy, delay p99 ${probe.part3.eventLoopDelayMs.p99} ms; ${probe.part3.statementsPerDiagnosis} statements (mean ${probe.part3.meanRoundTripMs} ms)`,
          ],
        ]
      : []),
    [
      'slack (whole run)',
      `${emulator.calls.length} calls; outbox ${drain.drained ? 'drained' : 'NOT drained'} in ${round(drain.ms / 1000, 1)} s, ${drain.dead} dead`,
    ],
    ['  outcomes', counts(slackOutcomes)],
    [
      'bench router',
      `${router.queries.length} Prometheus queries, ${routerFailures} not answered 200, ${router.retries()} re-sent to a stand-in after a stale kept-alive socket`,
    ],
    ['errors', failures.length === 0 ? 'none' : `${failures.length} (below)`],
  ];
  return printReport({
    rows,
    root: ROOT,
    resultsPath,
    probeDir: options.probe ? PROBE_DIR : undefined,
    serviceLogs,
    notes: failedRuns
      .slice(0, 5)
      .map((run) => `failed: ${run.key} ${run.scenario} INC-${run.incidentId ?? '?'}: ${run.error}`),
    warnings,
    failures,
  });
}

runBench('stopping aisre and Prometheus, dropping the bench database', main);
