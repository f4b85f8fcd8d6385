/**
 * Alert storm benchmark: `npm run bench:storm -- [--db both|postgres|pglite] ...` (`--help`
 * lists every flag).
 *
 * Runs aisre as its own process on a fresh database (the local PostgreSQL, or PGlite in a
 * temporary directory), wired to the Slack emulator in this process, and sends it 10,000 alerts
 * in 60 s across 200 Alertmanager groups (bench/support/storm.ts): byte-identical repeats, and
 * retries of notifications whose first send hung up before the answer. Throughout, a person uses
 * Slack (`/aisre list`, Acknowledge), and aisre's resident memory is sampled. Then it checks the
 * database: one incident per group, every accepted alert stored once with its last status.
 * Prints a table per database, writes bench/results/storm-latest.json and exits 1 when a
 * correctness target is missed: an incident too many or missing, an alert lost or doubled, a
 * Slack interaction answered late (3 s) or not at all, or Slack calls per incident unbounded.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/db/database.js';
import { startSlackEmulator } from '../test/support/slack-emulator.js';
import { createTestDatabase } from '../test/support/test-database.js';
import {
  IDLE_CORES,
  log,
  numberFlag,
  printReport,
  runBench,
  serverVersion,
  sourceState,
  startBenchService,
  waitForIdleMachine,
  waitForOutbox,
} from './support/harness.js';
import { probeLaunch } from './support/probe-report.js';
import { cpuBetween, cpuSnapshot, type LatencySummary, processMemory, round } from './support/stats.js';
import {
  type InteractionResult,
  interactionFailures,
  MAX_SLACK_CALLS_PER_INCIDENT,
  runStorm,
} from './support/storm.js';
import { databaseFailures, slackStats, verifyDatabase } from './support/verify.js';
import { Workload } from './support/workload.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS_DIR = path.join(ROOT, 'bench', 'results');
const ALERTMANAGER_TOKEN = `bench-${randomBytes(8).toString('hex')}`;
const SIGNING_SECRET = `bench-${randomBytes(8).toString('hex')}`;
const INCIDENTS_CHANNEL = 'C0INCIDENTS';

const USAGE = `npm run bench:storm -- [flags]

  --db KIND               postgres, pglite or both (one after the other)   default both
  --alerts N              alerts in the storm (repeats and retries count)   default 10000
  --seconds N             storm duration                                    default 60
  --groups N              Alertmanager groups (one incident each)           default 200
  --max-alerts N          most alerts in one notification                   default 20
  --repeat-ratio F        share of byte-identical repeat notifications      default 0.3
  --retry-ratio F         share of notifications first sent on a connection that
                          hangs up before the answer, then sent again       default 0.1
  --interaction-ms N      one Slack interaction this often (/aisre list and
                          Acknowledge, alternately)                         default 200
  --idle-seconds N        idle time after start before idle memory is read  default 5
  --drain-timeout N       seconds to wait for the Slack outbox afterwards   default 180
  --seed N                workload random seed                              default 1
  --wait-idle N           seconds to wait for an idle machine first         default 60
  --admin-url URL         PostgreSQL admin connection   default postgres://postgres@127.0.0.1:5432/postgres`;

type DbKind = 'postgres' | 'pglite';

interface Options {
  dbs: DbKind[];
  alerts: number;
  seconds: number;
  groups: number;
  maxAlerts: number;
  repeatRatio: number;
  retryRatio: number;
  interactionMs: number;
  idleSeconds: number;
  drainTimeout: number;
  seed: number;
  waitIdle: number;
  adminUrl: string;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      db: { type: 'string', default: 'both' },
      alerts: { type: 'string', default: '10000' },
      seconds: { type: 'string', default: '60' },
      groups: { type: 'string', default: '200' },
      'max-alerts': { type: 'string', default: '20' },
      'repeat-ratio': { type: 'string', default: '0.3' },
      'retry-ratio': { type: 'string', default: '0.1' },
      'interaction-ms': { type: 'string', default: '200' },
      'idle-seconds': { type: 'string', default: '5' },
      'drain-timeout': { type: 'string', default: '180' },
      seed: { type: 'string', default: '1' },
      'wait-idle': { type: 'string', default: '60' },
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
  const dbs: Record<string, DbKind[]> = {
    both: ['postgres', 'pglite'],
    postgres: ['postgres'],
    pglite: ['pglite'],
  };
  const chosen = dbs[values.db];
  if (!chosen) throw new Error('--db must be postgres, pglite or both');
  return {
    dbs: chosen,
    alerts: numberFlag('alerts', values.alerts, 1),
    seconds: numberFlag('seconds', values.seconds, 1),
    groups: numberFlag('groups', values.groups, 1),
    maxAlerts: numberFlag('max-alerts', values['max-alerts'], 1),
    repeatRatio: numberFlag('repeat-ratio', values['repeat-ratio'], 0),
    retryRatio: numberFlag('retry-ratio', values['retry-ratio'], 0),
    interactionMs: numberFlag('interaction-ms', values['interaction-ms'], 10),
    idleSeconds: numberFlag('idle-seconds', values['idle-seconds'], 0),
    drainTimeout: numberFlag('drain-timeout', values['drain-timeout'], 1),
    seed: numberFlag('seed', values.seed, 0),
    waitIdle: numberFlag('wait-idle', values['wait-idle'], 0),
    adminUrl: values['admin-url'],
  };
}

/**
 * One storm on one database, start to verdict. What it starts goes on `cleanups` (so Ctrl-C
 * undoes it) and is undone before it returns, so the next database starts on an idle machine.
 */
async function stormOn(kind: DbKind, options: Options, cleanups: Array<() => Promise<unknown>>) {
  const depth = cleanups.length;
  try {
    const database = await createTestDatabase(kind, options.adminUrl);
    cleanups.push(() => database.drop());
    const emulator = await startSlackEmulator({
      channels: [{ id: INCIDENTS_CHANNEL, name: 'incidents' }],
      postMessageBurst: 100_000,
    });
    cleanups.push(() => emulator.close());
    const { service, stop } = await startBenchService({
      cwd: ROOT,
      env: { ...database.env, ALERTMANAGER_TOKEN, AISRE_API_TOKEN: '', SLACK_SIGNING_SECRET: SIGNING_SECRET },
      slack: { apiUrl: emulator.apiUrl, incidentsChannel: INCIDENTS_CHANNEL },
      probing: probeLaunch({ enabled: false, dir: RESULTS_DIR, cpuProfile: false }),
      cleanups,
    });
    await delay(options.idleSeconds * 1000);
    const idle = processMemory(service.pid);
    log(`${kind}: aisre idle at ${idle?.rss} MiB; storm of ${options.alerts} alerts in ${options.seconds} s`);

    const workload = new Workload({
      groups: options.groups,
      maxAlerts: options.maxAlerts,
      repeatRatio: options.repeatRatio,
      seed: options.seed,
      openAllFirst: true,
    });
    const cpuStart = cpuSnapshot(service.pid);
    const storm = await runStorm({
      workload,
      targets: [service.url],
      alertmanagerToken: ALERTMANAGER_TOKEN,
      alerts: options.alerts,
      seconds: options.seconds,
      retryRatio: options.retryRatio,
      seed: options.seed,
      slack: {
        emulator,
        signingSecret: SIGNING_SECRET,
        channelId: INCIDENTS_CHANNEL,
        everyMs: options.interactionMs,
      },
      memoryPids: [service.pid],
    });
    const cpu = cpuBetween(cpuStart, cpuSnapshot(service.pid));
    log(`  ${storm.alertsPerSecond} alerts/s, p99 ${storm.latency.p99} ms; waiting for the Slack outbox`);
    const drain = await waitForOutbox(service.url, options.drainTimeout * 1000);
    const afterStorm = processMemory(service.pid);
    const stopped = await stop();
    const serviceLogs = service.logCounts();

    const handle = await openDatabase(database.config, { poolMax: 1 });
    const db = await verifyDatabase(handle.knex, workload).finally(() => handle.close());
    const slack = slackStats(emulator, db.incidents);
    const failures = [...databaseFailures(db), ...interactionFailures(storm)];
    if (db.incidents !== options.groups) failures.push(`${db.incidents} incidents, not ${options.groups}`);
    if (!drain.drained) failures.push(`the Slack outbox did not drain within ${options.drainTimeout} s`);
    if (slack.callsPerIncident > MAX_SLACK_CALLS_PER_INCIDENT) {
      failures.push(
        `${slack.callsPerIncident} Slack calls per incident (bound ${MAX_SLACK_CALLS_PER_INCIDENT})`,
      );
    }
    if (stopped.code !== 0) failures.push(`aisre exited with code ${stopped.code} (${stopped.signal})`);
    const warnings =
      cpu.otherCores > IDLE_CORES ? [`other processes used ${cpu.otherCores} cores; figures are skewed`] : [];
    return {
      db: kind,
      storm,
      cpu,
      memoryMb: {
        idle: idle?.rss ?? null,
        peakDuringStorm: Math.max(...storm.peakRssMb),
        afterStorm: afterStorm?.rss ?? null,
        highWaterMark: afterStorm?.hwm ?? null,
      },
      correctness: db,
      slack: { drain, ...slack },
      service: { exit: stopped, logs: serviceLogs },
      warnings: warnings.map((warning) => `${kind}: ${warning}`),
      failures: failures.map((failure) => `${kind}: ${failure}`),
    };
  } finally {
    while (cleanups.length > depth) {
      await cleanups.pop()!().catch((err: unknown) => log(`cleanup: ${String(err)}`));
    }
  }
}

type Run = Awaited<ReturnType<typeof stormOn>>;

const fmt = (value: number) => value.toLocaleString('en-US');
const lat = (s: LatencySummary) => `${s.p50} / ${s.p95} / ${s.p99} / ${s.max}`;
const counts = (record: Record<string, number>) =>
  Object.entries(record)
    .map(([key, n]) => `${key}: ${fmt(n)}`)
    .join(', ');
const interaction = (i: InteractionResult) =>
  `${i.count} sent, ${counts(i.statuses)}; ack p50/p95/p99/max ${lat(i.ack)} ms`;

function rows(run: Run): Array<Array<string | number>> {
  const { storm, correctness: db, slack, memoryMb: mem, cpu } = run;
  return [
    [`${run.db}`, run.failures.length === 0 ? 'ok' : 'FAILED'],
    [
      '  storm',
      `${fmt(storm.alertsSent)} alerts in ${storm.seconds} s: ${fmt(storm.notifications)} notifications (${counts(storm.kinds)})`,
    ],
    [
      '  retries',
      `${storm.hungUp} sends hung up before the answer and sent again; ${storm.retriesAfterError} retries after an error`,
    ],
    ['  alerts/s; notifications/s', `${fmt(storm.alertsPerSecond)}; ${storm.notificationsPerSecond}`],
    ['  intake latency ms p50/p95/p99/max', lat(storm.latency)],
    ['  status codes', counts(storm.statuses)],
    ...(storm.interactions
      ? [
          ['  Slack /aisre list', interaction(storm.interactions.list)],
          [
            '    reply via response_url p50/p99 ms',
            `${storm.interactions.list.reply.p50} / ${storm.interactions.list.reply.p99}`,
          ],
          ['  Slack Acknowledge clicks', interaction(storm.interactions.acknowledge)],
        ]
      : []),
    ['  incidents (groups)', `${db.incidents} (${db.groupsSent})`],
    ['  occurrences expected / stored', `${fmt(db.expectedOccurrences)} / ${fmt(db.storedRows)}`],
    ['  lost / duplicated / wrong status', `${db.lost} / ${db.duplicated} / ${db.statusMismatches}`],
    ['  Slack calls / incident', `${slack.callsPerIncident} (${counts(slack.perIncident)})`],
    [
      '  Slack outbox',
      `${slack.drain.drained ? 'drained' : 'NOT drained'} ${round(slack.drain.ms / 1000, 1)} s after the storm, ${slack.drain.dead} dead`,
    ],
    [
      '  aisre RSS MiB idle / peak in storm / after',
      `${mem.idle} / ${mem.peakDuringStorm} / ${mem.afterStorm}`,
    ],
    [
      '  CPU cores: aisre / postgres / bench / other',
      `${cpu.serviceCores} / ${cpu.postgresCores} / ${cpu.benchCores} / ${cpu.otherCores} of ${os.cpus().length}`,
    ],
  ];
}

async function main(cleanups: Array<() => Promise<unknown>>): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const busyBefore = await waitForIdleMachine(options.waitIdle);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const runs: Run[] = [];
  for (const kind of options.dbs) runs.push(await stormOn(kind, options, cleanups));
  const results = {
    finishedAt: new Date().toISOString(),
    command: `npm run bench:storm -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGb: round(os.totalmem() / 2 ** 30, 1),
      node: process.version,
      postgres: options.dbs.includes('postgres') ? await serverVersion(options.adminUrl) : null,
      busyCoresBeforeStart: busyBefore,
    },
    options,
    source: sourceState(ROOT),
    runs,
  };
  const resultsPath = path.join(RESULTS_DIR, 'storm-latest.json');
  writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
  return printReport({
    rows: [
      ['machine busy before start', `${busyBefore} of ${os.cpus().length} cores`],
      ...runs.flatMap(rows),
    ],
    root: ROOT,
    resultsPath,
    probeDir: undefined,
    serviceLogs: Object.assign({}, ...runs.map((run) => run.service.logs)),
    notes: runs.flatMap((run) => run.storm.errors.map((error) => `${run.db}: ${error}`)),
    warnings: runs.flatMap((run) => run.warnings),
    failures: runs.flatMap((run) => run.failures),
  });
}

runBench('stopping aisre and dropping the bench databases', main);
