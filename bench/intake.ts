/**
 * Alertmanager intake benchmark: `npm run bench:intake -- [--seconds 20] [--concurrency 32] ...`
 * (`--help` lists every flag).
 *
 * Runs aisre as its own process (`node --import tsx src/cli/main.ts serve`) against a fresh
 * database on the local PostgreSQL, with the Slack emulator in this process, then:
 *   1. throughput: a closed loop of `--concurrency` keep-alive connections posting Alertmanager v4
 *      notifications for `--groups` alert groups for `--seconds`;
 *   2. latency: an open loop at `--rate` notifications/s for `--latency-seconds`, each latency
 *      measured from its scheduled send time, so a slow answer cannot hide the queue behind it;
 *   3. correctness: the occurrences and incidents in Postgres against what aisre accepted;
 *   4. Slack: waits for the outbox to drain and counts the Web API calls per incident.
 * Prints a table, writes bench/results/intake-latest.json, and exits 1 when an accepted alert was
 * lost or stored twice (or any other stored fact disagrees with what was sent).
 *
 * Slack: the emulator's chat.postMessage burst defaults to 100000, i.e. unthrottled, so the call
 * counts measure aisre's own coalescing (card and announcement edits at most ~1/s per message).
 * `--post-burst 5` is Slack-like (about 1 message/s per channel after a burst of 5): every
 * incident is announced in the one incidents channel, so G new incidents then take about G
 * seconds to announce, with 429s and retries counted as calls.
 *
 * The figures depend on the whole machine: aisre, Postgres and this process share its cores. The
 * bench waits for an idle machine first (`--wait-idle`), reports the CPU each party used per
 * phase, and warns when other processes took a share.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/db/database.js';
import type { ServiceProcess } from '../test/support/service-process.js';
import { type SlackEmulator, startSlackEmulator } from '../test/support/slack-emulator.js';
import { createTestDatabase } from '../test/support/test-database.js';
import {
  IDLE_CORES,
  log,
  outboxDepth,
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
import { countBy, cpuBetween, cpuSnapshot, type LatencySummary, round, summarize } from './support/stats.js';
import { databaseFailures, slackStats, verifyDatabase } from './support/verify.js';
import { type Delivery, type DeliveryKind, Workload } from './support/workload.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS_DIR = path.join(ROOT, 'bench', 'results');
const ALERTMANAGER_TOKEN = `bench-${randomBytes(8).toString('hex')}`;
const INCIDENTS_CHANNEL = 'C0INCIDENTS';
const TARGET_ALERTS_PER_SECOND = 2000;
const TARGET_P99_MS = 50;

const USAGE = `npm run bench:intake -- [flags]

  --seconds N           phase 1 (throughput) duration             default 20
  --concurrency N       phase 1 requests in flight                 default 32
  --warmup N            unmeasured closed-loop seconds before it   default 3
  --rate N              phase 2 notifications per second           default 100
  --latency-seconds N   phase 2 (fixed-rate latency) duration      default 15
  --pause N             seconds between the phases, after the Slack
                        outbox has drained                         default 3
  --groups N            alert groups (one incident each)           default 200
  --alerts N            most alerts in one notification            default 20
  --repeat-ratio F      share of byte-identical re-sends           default 0.3
  --post-burst N        emulator chat.postMessage burst per channel default 100000
                        (effectively unthrottled; 5 is Slack-like: ~1 message/s/channel,
                        so announcing G incidents in one channel takes ~G seconds)
  --drain-timeout N     seconds to wait for the Slack outbox       default 180
  --seed N              workload random seed                       default 1
  --wait-idle N         seconds to wait for an idle machine first  default 300
  --probe               instrument aisre (bench/support/probe.ts): SQL round trips per statement and
                        event-loop use, per phase, in bench/results/probe/ and the summary
  --cpu-prof            --probe plus a V8 CPU profile of aisre per phase
  --service-dir DIR     run aisre from another checkout (A/B runs); default this repository
  --keep-db             keep the bench database (its name is printed) for inspection
  --admin-url URL       PostgreSQL admin connection   default postgres://postgres@127.0.0.1:5432/postgres`;

interface Options {
  seconds: number;
  concurrency: number;
  warmup: number;
  rate: number;
  latencySeconds: number;
  pause: number;
  groups: number;
  alerts: number;
  repeatRatio: number;
  postBurst: number;
  drainTimeout: number;
  seed: number;
  waitIdle: number;
  probe: boolean;
  cpuProf: boolean;
  keepDb: boolean;
  serviceDir: string;
  adminUrl: string;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string', default: '20' },
      concurrency: { type: 'string', default: '32' },
      warmup: { type: 'string', default: '3' },
      rate: { type: 'string', default: '100' },
      'latency-seconds': { type: 'string', default: '15' },
      pause: { type: 'string', default: '3' },
      groups: { type: 'string', default: '200' },
      alerts: { type: 'string', default: '20' },
      'repeat-ratio': { type: 'string', default: '0.3' },
      'post-burst': { type: 'string', default: '100000' },
      'drain-timeout': { type: 'string', default: '180' },
      seed: { type: 'string', default: '1' },
      'wait-idle': { type: 'string', default: '300' },
      probe: { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      'keep-db': { type: 'boolean', default: false },
      'service-dir': { type: 'string', default: ROOT },
      'admin-url': {
        type: 'string',
        default: process.env.AISRE_BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
      },
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
  return {
    seconds: num('seconds', values.seconds, 1),
    concurrency: num('concurrency', values.concurrency, 1),
    warmup: num('warmup', values.warmup, 0),
    rate: num('rate', values.rate, 1),
    latencySeconds: num('latency-seconds', values['latency-seconds'], 1),
    pause: num('pause', values.pause, 0),
    groups: num('groups', values.groups, 1),
    alerts: num('alerts', values.alerts, 1),
    repeatRatio: num('repeat-ratio', values['repeat-ratio'], 0),
    postBurst: num('post-burst', values['post-burst'], 1),
    drainTimeout: num('drain-timeout', values['drain-timeout'], 1),
    seed: num('seed', values.seed, 0),
    waitIdle: num('wait-idle', values['wait-idle'], 0),
    probe: values.probe || values['cpu-prof'],
    cpuProf: values['cpu-prof'],
    keepDb: values['keep-db'],
    serviceDir: path.resolve(values['service-dir']),
    adminUrl: values['admin-url'],
  };
}

/** What one phase measured; latencies in ms. */
interface PhaseResult {
  seconds: number;
  deliveries: number;
  accepted: number;
  alertsAccepted: number;
  alertsPerSecond: number;
  deliveriesPerSecond: number;
  latency: LatencySummary;
  latencyByKind: Partial<Record<DeliveryKind, LatencySummary>>;
  statuses: Record<string, number>;
  kinds: Record<string, number>;
  cpu: ReturnType<typeof cpuBetween>;
  maxOutboxDepth: number;
  /** Slack Web API calls aisre made while the phase ran (its outbox works alongside intake). */
  slackCalls: Record<string, number>;
  /** The same requests timed by aisre itself (bucketed), without this process's own delays. */
  serverLatency?: ReturnType<typeof serverLatency>;
}

interface Tally {
  samples: number[];
  byKind: Map<DeliveryKind, number[]>;
  statuses: Record<string, number>;
  deliveries: number;
  accepted: number;
  alertsAccepted: number;
  newOccurrences: number;
  resolvedOccurrences: number;
  opened: number;
  errors: string[];
}

const newTally = (): Tally => ({
  samples: [],
  byKind: new Map(),
  statuses: {},
  deliveries: 0,
  accepted: 0,
  alertsAccepted: 0,
  newOccurrences: 0,
  resolvedOccurrences: 0,
  opened: 0,
  errors: [],
});

/** Sends one delivery and records it; `from` is when it was due (scheduled or actually sent). */
async function send(client: KeepAliveClient, delivery: Delivery, from: number, tally: Tally): Promise<void> {
  tally.deliveries += 1;
  try {
    const response = await client.post('/alertmanager', delivery.body);
    const ms = response.endedAt - from;
    tally.samples.push(ms);
    const kindSamples = tally.byKind.get(delivery.kind) ?? [];
    kindSamples.push(ms);
    tally.byKind.set(delivery.kind, kindSamples);
    tally.statuses[response.status] = (tally.statuses[response.status] ?? 0) + 1;
    if (response.status >= 200 && response.status < 300) {
      delivery.accept();
      tally.accepted += 1;
      tally.alertsAccepted += delivery.alerts;
      const result = JSON.parse(response.body) as {
        opened: boolean;
        newOccurrences: number;
        resolvedOccurrences: number;
      };
      tally.newOccurrences += result.newOccurrences;
      tally.resolvedOccurrences += result.resolvedOccurrences;
      if (result.opened) tally.opened += 1;
    } else if (tally.errors.length < 5) {
      tally.errors.push(`${response.status} ${response.body.slice(0, 300)}`);
    }
  } catch (err) {
    tally.statuses.network_error = (tally.statuses.network_error ?? 0) + 1;
    if (tally.errors.length < 5) tally.errors.push(String(err));
  } finally {
    delivery.release();
  }
}

function phaseResult(
  tally: Tally,
  wallMs: number,
  cpu: PhaseResult['cpu'],
  maxOutboxDepth: number,
  kinds: Record<string, number>,
  slackCalls: Record<string, number>,
): PhaseResult {
  const seconds = wallMs / 1000;
  return {
    seconds: round(seconds),
    deliveries: tally.deliveries,
    accepted: tally.accepted,
    alertsAccepted: tally.alertsAccepted,
    alertsPerSecond: Math.round(tally.alertsAccepted / seconds),
    deliveriesPerSecond: round(tally.accepted / seconds, 1),
    latency: summarize(tally.samples),
    latencyByKind: Object.fromEntries([...tally.byKind].map(([kind, samples]) => [kind, summarize(samples)])),
    statuses: tally.statuses,
    kinds,
    cpu,
    maxOutboxDepth,
    slackCalls,
  };
}

/** Samples the outbox depth once a second while a phase runs (one /metrics scrape a second). */
function watchOutbox(url: string): { stop(): Promise<number> } {
  let max = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const depth = await outboxDepth(url).catch(() => undefined);
      if (depth !== undefined) max = Math.max(max, depth.pending);
      await delay(1000);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return max;
    },
  };
}

/** Cumulative counts of aisre's own request-duration histogram for POST /alertmanager, by bucket (s). */
async function serverHistogram(url: string): Promise<Map<number, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const buckets = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('aisre_http_request_duration_seconds_bucket{')) continue;
    if (!line.includes('method="POST"') || !line.includes('route="/alertmanager"')) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (!le) continue;
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + value);
  }
  return buckets;
}

/**
 * aisre's own view of a phase (from its histogram, so without this process's delays): the share
 * answered within the target and percentiles interpolated within buckets, in ms.
 */
function serverLatency(before: Map<number, number>, after: Map<number, number>) {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const cumulative = bounds.map((bound) => (after.get(bound) ?? 0) - (before.get(bound) ?? 0));
  const total = cumulative.at(-1) ?? 0;
  const percentile = (q: number) => {
    const rank = q * total;
    for (let i = 0; i < bounds.length; i++) {
      if (cumulative[i]! >= rank) {
        const upper = bounds[i]!;
        const lower = i === 0 ? 0 : bounds[i - 1]!;
        const below = i === 0 ? 0 : cumulative[i - 1]!;
        if (!Number.isFinite(upper)) return Number.POSITIVE_INFINITY;
        const share = (rank - below) / Math.max(1, cumulative[i]! - below);
        return round((lower + (upper - lower) * share) * 1000, 1);
      }
    }
    return Number.NaN;
  };
  const within = (seconds: number) => {
    const index = bounds.indexOf(seconds);
    return index < 0 || total === 0 ? Number.NaN : round((cumulative[index]! / total) * 100, 2);
  };
  return { requests: total, p50: percentile(0.5), p99: percentile(0.99), percentWithin50ms: within(0.05) };
}

/** Phase 1 (and the warm-up): `concurrency` workers, each sending its next delivery on an answer. */
async function closedLoop(
  emulator: SlackEmulator,
  service: ServiceProcess,
  client: KeepAliveClient,
  workload: Workload,
  seconds: number,
  concurrency: number,
): Promise<{ tally: Tally; result: PhaseResult }> {
  const tally = newTally();
  const kinds: DeliveryKind[] = [];
  const watcher = watchOutbox(service.url);
  const cpuStart = cpuSnapshot(service.pid);
  const firstCall = emulator.calls.length;
  const started = performance.now();
  const end = started + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const delivery = workload.next();
      if (!delivery) {
        // Every group has a notification in flight (only with --groups below --concurrency).
        await delay(1);
        continue;
      }
      kinds.push(delivery.kind);
      await send(client, delivery, performance.now(), tally);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wallMs = performance.now() - started;
  const cpu = cpuBetween(cpuStart, cpuSnapshot(service.pid));
  const slackCalls = countBy(emulator.calls.slice(firstCall), (call) => call.method);
  const maxDepth = await watcher.stop();
  return {
    tally,
    result: phaseResult(
      tally,
      wallMs,
      cpu,
      maxDepth,
      countBy(kinds, (kind) => kind),
      slackCalls,
    ),
  };
}

/**
 * Phase 2: one delivery every 1/rate s on a fixed schedule, however long earlier ones take
 * (open loop). Latency runs from the scheduled time, so if the sender or the service falls
 * behind, the wait counts (no coordinated omission).
 */
async function openLoop(
  emulator: SlackEmulator,
  service: ServiceProcess,
  client: KeepAliveClient,
  workload: Workload,
  rate: number,
  seconds: number,
): Promise<{ tally: Tally; result: PhaseResult; lateness: LatencySummary; raced: number }> {
  const tally = newTally();
  const kinds: DeliveryKind[] = [];
  const lateness: number[] = [];
  let raced = 0;
  const watcher = watchOutbox(service.url);
  const cpuStart = cpuSnapshot(service.pid);
  const firstCall = emulator.calls.length;
  const period = 1000 / rate;
  const total = Math.round(rate * seconds);
  const started = performance.now() + 20;
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const scheduled = started + i * period;
    const wait = scheduled - performance.now();
    if (wait >= 1) await delay(Math.floor(wait));
    while (performance.now() < scheduled) {
      // Spin the last sub-millisecond: timers only have millisecond resolution.
    }
    let delivery = workload.next();
    if (!delivery) {
      // Every group busy: send a retry of some group's last body, as Alertmanager would retry.
      delivery = workload.anyRepeat();
      raced += 1;
    }
    if (!delivery) continue;
    kinds.push(delivery.kind);
    lateness.push(performance.now() - scheduled);
    inFlight.push(send(client, delivery, scheduled, tally));
  }
  await Promise.all(inFlight);
  const wallMs = performance.now() - started;
  const cpu = cpuBetween(cpuStart, cpuSnapshot(service.pid));
  const slackCalls = countBy(emulator.calls.slice(firstCall), (call) => call.method);
  const maxDepth = await watcher.stop();
  return {
    tally,
    result: phaseResult(
      tally,
      wallMs,
      cpu,
      maxDepth,
      countBy(kinds, (kind) => kind),
      slackCalls,
    ),
    lateness: summarize(lateness),
    raced,
  };
}

/** What bench/support/probe.ts saw during one phase, per accepted delivery where it helps. */
function probeSummary(probeDir: string, segment: string, accepted: number) {
  const probe = readProbe(probeDir, [segment]);
  if (!probe) return undefined;
  const perDelivery = (n: number) => round(n / Math.max(1, accepted), 2);
  return {
    eventLoopUtilization: probe.eventLoopUtilization,
    eventLoopDelayMs: probe.eventLoopDelayMs,
    statements: probe.calls,
    statementsPerDelivery: perDelivery(probe.calls),
    transactions: probe.transactions,
    meanRoundTripMs: probe.meanRoundTripMs,
    top: probe.statements.slice(0, 12).map((row) => ({
      sql: row.sql.slice(0, 120),
      perDelivery: perDelivery(row.calls),
      meanMs: row.meanMs,
      totalMs: row.totalMs,
    })),
  };
}

const fmt = (value: number) => value.toLocaleString('en-US');
const lat = (summary: LatencySummary) => `${summary.p50} / ${summary.p95} / ${summary.p99} / ${summary.max}`;
const serverSide = (summary: PhaseResult['serverLatency']) =>
  summary ? `~${summary.p50} / ~${summary.p99} ms (bucketed), ${summary.percentWithin50ms}%` : '-';
const statuses = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([status, n]) => `${status}: ${fmt(n)}`)
    .join(', ');

async function main(cleanups: Array<() => Promise<unknown>>): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const busyBefore = await waitForIdleMachine(options.waitIdle);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const database = await createTestDatabase('postgres', options.adminUrl);
  const databaseUrl = database.env.DATABASE_URL!;
  const databaseName = databaseUrl.replace(/^.*\//, '');
  cleanups.push(async () => {
    if (options.keepDb) log(`kept database ${databaseName}: ${databaseUrl}`);
    else await database.drop();
  });
  log(`database ${databaseName} created`);

  const emulator = await startSlackEmulator({
    channels: [{ id: INCIDENTS_CHANNEL, name: 'incidents' }],
    postMessageBurst: options.postBurst,
  });
  cleanups.push(() => emulator.close());

  const probeDir = path.join(RESULTS_DIR, 'probe');
  const { service, stop, mark } = await startBenchService({
    cwd: options.serviceDir,
    env: { DATABASE_URL: databaseUrl, ALERTMANAGER_TOKEN, AISRE_API_TOKEN: '' },
    slack: { apiUrl: emulator.apiUrl, incidentsChannel: INCIDENTS_CHANNEL },
    probing: probeLaunch({ enabled: options.probe, dir: probeDir, cpuProfile: options.cpuProf }),
    cleanups,
  });

  const workload = new Workload({
    groups: options.groups,
    maxAlerts: options.alerts,
    repeatRatio: options.repeatRatio,
    seed: options.seed,
  });
  const headers = { authorization: `Bearer ${ALERTMANAGER_TOKEN}` };
  const closedClient = new KeepAliveClient(service.url, headers, options.concurrency);
  const openClient = new KeepAliveClient(service.url, headers, Number.POSITIVE_INFINITY);
  cleanups.push(async () => {
    closedClient.close();
    openClient.close();
  });

  let warmup: Tally | undefined;
  if (options.warmup > 0) {
    log(`warm-up: ${options.warmup} s closed loop (not measured)`);
    await mark('warmup');
    warmup = (
      await closedLoop(emulator, service, closedClient, workload, options.warmup, options.concurrency)
    ).tally;
  }
  /** Runs a measured phase in a probe segment of its own, and adds aisre's own timing of it. */
  const measured = async <T extends { result: PhaseResult }>(name: string, run: () => Promise<T>) => {
    await mark(name);
    const before = await serverHistogram(service.url);
    const phase = await run();
    phase.result.serverLatency = serverLatency(before, await serverHistogram(service.url));
    await mark(`after-${name}`);
    return phase;
  };
  log(`phase 1: ${options.seconds} s closed loop, ${options.concurrency} in flight`);
  const phase1 = await measured('phase1', () =>
    closedLoop(emulator, service, closedClient, workload, options.seconds, options.concurrency),
  );
  log(
    `  ${fmt(phase1.result.alertsPerSecond)} alerts/s, ${phase1.result.deliveriesPerSecond} deliveries/s, p99 ${phase1.result.latency.p99} ms`,
  );
  // Phase 1 leaves a Slack backlog (the outbox gets few pool connections under full load); phase 2
  // measures the steady state at its own rate, so it starts once that backlog is delivered.
  log('waiting for the Slack outbox to drain before phase 2');
  const interPhaseDrain = await waitForOutbox(service.url, options.drainTimeout * 1000);
  log(`  drained in ${round(interPhaseDrain.ms / 1000, 1)} s`);
  if (options.pause > 0) await delay(options.pause * 1000);
  log(`phase 2: ${options.rate} deliveries/s for ${options.latencySeconds} s (open loop)`);
  const phase2 = await measured('phase2', () =>
    openLoop(emulator, service, openClient, workload, options.rate, options.latencySeconds),
  );
  log(`  p50 ${phase2.result.latency.p50} ms, p99 ${phase2.result.latency.p99} ms`);

  log(`waiting for the Slack outbox to drain (up to ${options.drainTimeout} s)`);
  const drain = await waitForOutbox(service.url, options.drainTimeout * 1000);
  const handle = await openDatabase(database.config, { poolMax: 1 });
  const db = await verifyDatabase(handle.knex, workload).finally(() => handle.close());
  const slack = slackStats(emulator, db.incidents);

  const stopped = await stop();
  const serviceLogs = service.logCounts();

  const tallies = [warmup, phase1.tally, phase2.tally].filter((t): t is Tally => t !== undefined);
  const sum = (pick: (t: Tally) => number) => tallies.reduce((total, t) => total + pick(t), 0);
  const intakeReported = {
    newOccurrences: sum((t) => t.newOccurrences),
    resolvedOccurrences: sum((t) => t.resolvedOccurrences),
    incidentsOpened: sum((t) => t.opened),
  };

  const warnings: string[] = [];
  for (const [name, phase] of [
    ['phase 1', phase1.result.cpu],
    ['phase 2', phase2.result.cpu],
  ] as const) {
    if (phase.otherCores > IDLE_CORES) {
      warnings.push(`${name}: other processes used ${phase.otherCores} cores; its figures are skewed`);
    }
  }
  const failures = databaseFailures(db);
  if (intakeReported.newOccurrences !== db.storedRows) {
    failures.push(`aisre reported ${intakeReported.newOccurrences} new occurrences, ${db.storedRows} stored`);
  }
  if (stopped.code !== 0) failures.push(`aisre exited with code ${stopped.code} (${stopped.signal})`);

  const p1 = phase1.result;
  const p2 = phase2.result;
  const targets = {
    alertsPerSecond: { target: TARGET_ALERTS_PER_SECOND, actual: p1.alertsPerSecond },
    phase2P99Ms: { target: TARGET_P99_MS, actual: p2.latency.p99 },
    met: p1.alertsPerSecond >= TARGET_ALERTS_PER_SECOND && p2.latency.p99 < TARGET_P99_MS,
  };
  const probe = options.probe
    ? {
        phase1: probeSummary(probeDir, 'phase1', phase1.tally.accepted),
        phase2: probeSummary(probeDir, 'phase2', phase2.tally.accepted),
      }
    : undefined;
  const results = {
    finishedAt: new Date().toISOString(),
    command: `npm run bench:intake -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGb: round(os.totalmem() / 2 ** 30, 1),
      node: process.version,
      postgres: await serverVersion(options.adminUrl),
      busyCoresBeforeStart: busyBefore,
    },
    options,
    source: sourceState(options.serviceDir),
    workload: {
      groups: options.groups,
      maxAlertsPerDelivery: options.alerts,
      meanAlertsPerAcceptedDelivery: round(
        sum((t) => t.alertsAccepted) /
          Math.max(
            1,
            sum((t) => t.accepted),
          ),
        1,
      ),
      repeatRatio: options.repeatRatio,
      slackPostMessageBurst: options.postBurst,
    },
    warmup: warmup ? { deliveries: warmup.deliveries, accepted: warmup.accepted } : null,
    phase1: p1,
    phase2: {
      ...p2,
      rate: options.rate,
      senderLateness: phase2.lateness,
      raced: phase2.raced,
      outboxDrainBeforeMs: interPhaseDrain.ms,
    },
    targets,
    correctness: { ...db, intakeReported },
    slack: { drain, ...slack },
    service: { exit: stopped, logs: serviceLogs },
    probe,
    warnings,
    failures,
  };
  const resultsPath = path.join(RESULTS_DIR, 'intake-latest.json');
  writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);

  const rows: Array<Array<string | number>> = [
    [
      'workload',
      `${options.groups} groups, ≤ ${options.alerts} alerts/delivery (mean ${results.workload.meanAlertsPerAcceptedDelivery}), ${Math.round(options.repeatRatio * 100)}% repeats, Slack postMessageBurst ${options.postBurst}`,
    ],
    ['machine busy before start', `${busyBefore} of ${os.cpus().length} cores`],
    ['phase 1: throughput', `${p1.seconds} s closed loop, ${options.concurrency} in flight`],
    ['  alerts/s (accepted)', fmt(p1.alertsPerSecond)],
    ['  deliveries/s', p1.deliveriesPerSecond],
    ['  latency ms p50/p95/p99/max', lat(p1.latency)],
    ['  status codes', statuses(p1.statuses)],
    ['  as timed by aisre: p50/p99, ≤ 50 ms', serverSide(p1.serverLatency)],
    ['  deliveries by kind', statuses(p1.kinds)],
    ...Object.entries(p1.latencyByKind).map(([kind, s]) => [`    ${kind} p50/p95/p99/max`, lat(s)]),
    [
      '  CPU ms per delivery: aisre / postgres',
      `${round((p1.cpu.serviceCores * 1000) / p1.deliveriesPerSecond)} / ${round((p1.cpu.postgresCores * 1000) / p1.deliveriesPerSecond)}`,
    ],
    [
      '  CPU cores: aisre / postgres / bench / other',
      `${p1.cpu.serviceCores} / ${p1.cpu.postgresCores} / ${p1.cpu.benchCores} / ${p1.cpu.otherCores} of ${os.cpus().length}`,
    ],
    ['  Slack calls during phase; max outbox depth', `${statuses(p1.slackCalls)}; ${p1.maxOutboxDepth}`],
    ['  Slack backlog after phase 1 drained in', `${round(interPhaseDrain.ms / 1000, 1)} s`],
    [
      'phase 2: latency',
      `${options.rate}/s for ${options.latencySeconds} s open loop (achieved ${p2.deliveriesPerSecond}/s, ${fmt(p2.alertsPerSecond)} alerts/s)`,
    ],
    ['  latency ms p50/p95/p99/max', lat(p2.latency)],
    ['  status codes', statuses(p2.statuses)],
    ['  as timed by aisre: p50/p99, ≤ 50 ms', serverSide(p2.serverLatency)],
    [
      '  sender lateness ms p50/p99/max',
      `${phase2.lateness.p50} / ${phase2.lateness.p99} / ${phase2.lateness.max}`,
    ],
    [
      '  CPU ms per delivery: aisre / postgres',
      `${round((p2.cpu.serviceCores * 1000) / p2.deliveriesPerSecond)} / ${round((p2.cpu.postgresCores * 1000) / p2.deliveriesPerSecond)}`,
    ],
    [
      '  CPU cores: aisre / postgres / bench / other',
      `${p2.cpu.serviceCores} / ${p2.cpu.postgresCores} / ${p2.cpu.benchCores} / ${p2.cpu.otherCores} of ${os.cpus().length}`,
    ],
    ['  Slack calls during phase; max outbox depth', `${statuses(p2.slackCalls)}; ${p2.maxOutboxDepth}`],
    [
      'targets',
      `${fmt(p1.alertsPerSecond)} ≥ ${fmt(TARGET_ALERTS_PER_SECOND)} alerts/s: ${p1.alertsPerSecond >= TARGET_ALERTS_PER_SECOND ? 'met' : 'MISSED'}; p99 ${p2.latency.p99} < ${TARGET_P99_MS} ms: ${p2.latency.p99 < TARGET_P99_MS ? 'met' : 'MISSED'}`,
    ],
    ['correctness', failures.length === 0 ? 'ok' : 'FAILED'],
    ['  occurrences expected / stored rows', `${fmt(db.expectedOccurrences)} / ${fmt(db.storedRows)}`],
    ['  lost / duplicated', `${db.lost} / ${db.duplicated}`],
    [
      '  unexpected / wrong status / bad counters',
      `${db.unexpected} / ${db.statusMismatches} / ${db.incidentCountersMismatched}`,
    ],
    ['  incidents (groups sent)', `${db.incidents} (${db.groupsSent})`],
    [
      'slack',
      `outbox ${drain.drained ? 'drained' : 'NOT drained'} in ${round(drain.ms / 1000, 1)} s, ${drain.dead} dead`,
    ],
    ['  calls / incident', `${slack.callsPerIncident} (${fmt(slack.calls)} calls)`],
    ...Object.entries(slack.perIncident).map(([method, n]) => [`    ${method}`, n]),
    ['  call outcomes', statuses(slack.outcomes)],
    [
      '  chat.update: max per message / min gap',
      `${slack.maxUpdatesPerMessage} / ${slack.minGapBetweenUpdatesOfOneMessageMs ?? '-'} ms over ${slack.slackActivitySeconds} s`,
    ],
  ];
  for (const [name, summary] of Object.entries(probe ?? {})) {
    if (!summary) continue;
    rows.push(
      [
        `probe ${name}: aisre event loop`,
        `${Math.round(summary.eventLoopUtilization * 100)}% busy, delay p50/p99/max ${summary.eventLoopDelayMs.p50} / ${summary.eventLoopDelayMs.p99} / ${summary.eventLoopDelayMs.max} ms`,
      ],
      [
        '  SQL statements / delivery',
        `${summary.statementsPerDelivery} (${fmt(summary.statements)} statements, mean ${summary.meanRoundTripMs} ms send→result)`,
      ],
      ...summary.top
        .slice(0, 8)
        .map((row) => [`    ${row.perDelivery}/delivery × ${row.meanMs} ms`, row.sql.slice(0, 90)]),
    );
  }
  const errors = tallies.flatMap((t) => t.errors).slice(0, 5);
  return printReport({
    rows,
    root: ROOT,
    resultsPath,
    probeDir: options.probe ? probeDir : undefined,
    serviceLogs,
    notes: errors.length > 0 ? [`first errors:\n  ${errors.join('\n  ')}`] : [],
    warnings,
    failures,
  });
}

runBench('stopping aisre and dropping the bench database', main);
