/**
 * Two-replica benchmark: `npm run bench:replicas -- [...]` (`--help` lists every flag).
 *
 * Runs two aisre processes on one fresh PostgreSQL database, wired to the Slack emulator and to
 * the action test's integrations (LiteLLM and Langfuse fakes, a webhook receiver, a Prometheus
 * stand-in), then:
 *   1. storm: the storm of bench/storm.ts, notifications round robin over both replicas and a
 *      share sent to both at once, Slack interactions spread over both; checks one incident per
 *      group and every alert stored once;
 *   2. actions: on `--action-incidents` incidents, a diagnosis concludes, then Execute and Approve
 *      of a gateway rate limit and of a high-risk webhook are clicked on both replicas at the same
 *      moment; counts the side effects at the LiteLLM fake and the webhook receiver;
 *   3. failover: `--sessions` diagnoses run on replica A while a check hangs, A is SIGKILLed, and
 *      replica B must conclude every one (after A's leases run out); reports how long that took.
 * Prints a table, writes bench/results/replicas-latest.json and exits 1 when anything was
 * duplicated, lost, executed twice or left unfinished.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/db/database.js';
import {
  type ActionStand,
  EVAL_QUERY,
  openActionIncident,
  startActionStand,
} from '../test/support/action-support.js';
import { eventually } from '../test/support/polling.js';
import type { ServiceProcess } from '../test/support/service-process.js';
import { type SlackEmulator, startSlackEmulator } from '../test/support/slack-emulator.js';
import { createTestDatabase } from '../test/support/test-database.js';
// openActionIncident posts with the test token.
import { ALERTMANAGER_TOKEN, API_TOKEN, apiGet } from '../test/support/test-service.js';
import {
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
import { type LatencySummary, processMemory, summarize } from './support/stats.js';
import { clickOnEvery, interactionFailures, runStorm, type StormResult } from './support/storm.js';
import { databaseFailures, slackStats, verifyDatabase } from './support/verify.js';
import { Workload } from './support/workload.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS_DIR = path.join(ROOT, 'bench', 'results');
const SIGNING_SECRET = `bench-${randomBytes(8).toString('hex')}`;
const INCIDENTS_CHANNEL = 'C0INCIDENTS';

const USAGE = `npm run bench:replicas -- [flags]

  --alerts N              storm alerts                                  default 10000
  --seconds N             storm duration                                default 60
  --groups N              storm Alertmanager groups                     default 200
  --every-ratio F         share of notifications sent to both replicas  default 0.2
  --retry-ratio F         share first sent on a connection that hangs up default 0.1
  --action-incidents N    incidents whose actions are clicked on both   default 10
  --sessions N            diagnoses running on the replica killed       default 20
  --lease D               AISRE_DIAGNOSIS_LEASE of both replicas        default 15s
  --seed N                workload random seed                          default 1
  --wait-idle N           seconds to wait for an idle machine first     default 60
  --admin-url URL         PostgreSQL admin connection   default postgres://postgres@127.0.0.1:5432/postgres`;

function parseOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      alerts: { type: 'string', default: '10000' },
      seconds: { type: 'string', default: '60' },
      groups: { type: 'string', default: '200' },
      'every-ratio': { type: 'string', default: '0.2' },
      'retry-ratio': { type: 'string', default: '0.1' },
      'action-incidents': { type: 'string', default: '10' },
      sessions: { type: 'string', default: '20' },
      lease: { type: 'string', default: '15s' },
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
  return {
    alerts: numberFlag('alerts', values.alerts, 1),
    seconds: numberFlag('seconds', values.seconds, 1),
    groups: numberFlag('groups', values.groups, 1),
    everyRatio: numberFlag('every-ratio', values['every-ratio'], 0),
    retryRatio: numberFlag('retry-ratio', values['retry-ratio'], 0),
    actionIncidents: numberFlag('action-incidents', values['action-incidents'], 1),
    sessions: numberFlag('sessions', values.sessions, 1),
    lease: values.lease,
    seed: numberFlag('seed', values.seed, 0),
    waitIdle: numberFlag('wait-idle', values['wait-idle'], 0),
    adminUrl: values['admin-url'],
  };
}

type Options = ReturnType<typeof parseOptions>;

interface World {
  replicas: [ServiceProcess, ServiceProcess];
  emulator: SlackEmulator;
  stand: ActionStand;
}

interface Diagnosis {
  sessionId: number;
  status: string;
  node: string;
}

interface Actions {
  runs: Array<{ id: number; status: string }>;
  audit: Array<{ runId: number; event: string }>;
}

const diagnosisOf = async (aisre: ServiceProcess, id: number) =>
  (await apiGet<{ incident: { diagnosis: Diagnosis | null } }>(aisre.url, `/api/incidents/${id}`)).incident
    .diagnosis;

/** Clicks on both replicas at the same moment; returns the slower answer's time, ms. */
async function clickBoth(world: World, userId: string, actionId: string, value: string): Promise<number> {
  const started = performance.now();
  const statuses = await clickOnEvery(
    world.replicas.map((aisre) => aisre.url),
    {
      signingSecret: SIGNING_SECRET,
      channelId: INCIDENTS_CHANNEL,
      responseUrl: world.emulator.responseUrl(),
      userId,
      actionId,
      value,
    },
  );
  if (statuses.some((status) => status !== 200))
    throw new Error(`${actionId} answered ${statuses.join(', ')}`);
  return performance.now() - started;
}

/** Phase 1: the storm over both replicas, checked in the database. */
async function stormPhase(
  world: World,
  options: Options,
  databaseConfig: Parameters<typeof openDatabase>[0],
) {
  const workload = new Workload({
    groups: options.groups,
    maxAlerts: 20,
    repeatRatio: 0.3,
    seed: options.seed,
    openAllFirst: true,
  });
  const storm = await runStorm({
    workload,
    targets: world.replicas.map((aisre) => aisre.url),
    alertmanagerToken: ALERTMANAGER_TOKEN,
    alerts: options.alerts,
    seconds: options.seconds,
    retryRatio: options.retryRatio,
    everyTargetRatio: options.everyRatio,
    seed: options.seed,
    slack: {
      emulator: world.emulator,
      signingSecret: SIGNING_SECRET,
      channelId: INCIDENTS_CHANNEL,
      everyMs: 200,
    },
    memoryPids: world.replicas.map((aisre) => aisre.pid),
  });
  const drains = await Promise.all(world.replicas.map((aisre) => waitForOutbox(aisre.url, 180_000)));
  const handle = await openDatabase(databaseConfig, { poolMax: 1 });
  const db = await verifyDatabase(handle.knex, workload).finally(() => handle.close());
  const slack = slackStats(world.emulator, db.incidents);
  const failures = [...databaseFailures(db), ...interactionFailures(storm)];
  if (db.incidents !== options.groups) failures.push(`${db.incidents} incidents, not ${options.groups}`);
  if (drains.some((drain) => !drain.drained)) failures.push('the Slack outbox did not drain');
  return { storm, db, slack, drains, failures };
}

/**
 * Opens an incident of the action runbook, with a gateway key of its own (a rate limit already
 * in place is not written again), and starts its diagnosis by a click on `on`.
 */
async function diagnosedIncident(world: World, service: string, on: ServiceProcess): Promise<number> {
  const key = `sk-${service}`;
  world.stand.litellm.seedKey(key, { rpm_limit: 1000 });
  const id = await openActionIncident(on.url, { litellm_key: key }, service);
  await clickOnEvery([on.url], {
    signingSecret: SIGNING_SECRET,
    channelId: INCIDENTS_CHANNEL,
    responseUrl: world.emulator.responseUrl(),
    userId: 'U0ALICE',
    actionId: 'incident.start_diagnosis',
    value: String(id),
  });
  return id;
}

/** Phase 2: actions clicked on both replicas at once; every side effect counted. */
async function actionsPhase(world: World, options: Options) {
  const [a, b] = world.replicas;
  const webhookBefore = world.stand.webhook.deliveries.length;
  const writesBefore = world.stand.litellm.changedBy().length;
  const clickMs: number[] = [];
  const runs: Array<{ incidentId: number; runId: number; executing: number; executed: number }> = [];
  for (let i = 0; i < options.actionIncidents; i++) {
    const incidentId = await diagnosedIncident(world, `svc-actions-${i}`, i % 2 === 0 ? a : b);
    const session = await eventually('the diagnosis to conclude', async () => {
      const diagnosis = await diagnosisOf(b, incidentId);
      return diagnosis?.status === 'concluded' ? diagnosis : undefined;
    });
    const actions = () => apiGet<Actions>(a.url, `/api/incidents/${incidentId}/actions`);
    // The gateway rate limit, then the high-risk webhook that needs a second person's approval.
    for (const index of [1, 2]) {
      const seen = new Set((await actions()).runs.map((run) => run.id));
      await clickOnEvery([a.url], {
        signingSecret: SIGNING_SECRET,
        channelId: INCIDENTS_CHANNEL,
        responseUrl: world.emulator.responseUrl(),
        userId: 'U0ALICE',
        actionId: 'action.preview',
        value: JSON.stringify({ incident: incidentId, session: session.sessionId, index }),
      });
      const run = await eventually('the preview', async () =>
        (await actions()).runs.find((r) => !seen.has(r.id)),
      );
      clickMs.push(await clickBoth(world, 'U0ALICE', 'action.execute', String(run.id)));
      const status = await eventually('the run to move on', async () => {
        const now = (await actions()).runs.find((r) => r.id === run.id)?.status;
        return now !== 'previewed' && now !== 'executing' ? now : undefined;
      });
      if (status === 'awaiting_approval')
        clickMs.push(await clickBoth(world, 'U0BOB', 'action.approve', String(run.id)));
      const done = await eventually('the run to be executed', async () => {
        const state = await actions();
        const now = state.runs.find((r) => r.id === run.id)?.status ?? '';
        return ['verifying', 'recovered', 'not_recovered', 'failed'].includes(now) ? state : undefined;
      });
      const events = done.audit.filter((entry) => entry.runId === run.id).map((entry) => entry.event);
      runs.push({
        incidentId,
        runId: run.id,
        executing: events.filter((event) => event === 'executing').length,
        executed: events.filter((event) => event === 'executed').length,
      });
    }
  }
  const webhookDeliveries = world.stand.webhook.deliveries.length - webhookBefore;
  const gatewayWrites = world.stand.litellm
    .changedBy()
    .slice(writesBefore)
    .filter((write) => write.path === '/key/update').length;
  const failures: string[] = [];
  const doubled = runs.filter((run) => run.executing !== 1 || run.executed !== 1);
  if (doubled.length > 0) failures.push(`${doubled.length} action runs were not executed exactly once`);
  if (webhookDeliveries !== options.actionIncidents) {
    failures.push(`${webhookDeliveries} webhook deliveries for ${options.actionIncidents} approved webhooks`);
  }
  if (gatewayWrites !== options.actionIncidents) {
    failures.push(`${gatewayWrites} gateway writes for ${options.actionIncidents} rate limits`);
  }
  return {
    runs: runs.length,
    executedOnce: runs.length - doubled.length,
    webhookDeliveries,
    gatewayWrites,
    clickMs: summarize(clickMs),
    failures,
  };
}

/** Phase 3: diagnoses running on replica A when it is SIGKILLed; B must conclude them all. */
async function failoverPhase(world: World, options: Options) {
  const [a, b] = world.replicas;
  world.stand.prometheus.respond(EVAL_QUERY, { delayMs: 60_000, answer: [{ labels: {}, value: 0.6 }] });
  const ids: number[] = [];
  for (let i = 0; i < options.sessions; i++) ids.push(await diagnosedIncident(world, `svc-failover-${i}`, a));
  await eventually('every diagnosis to be running', async () => {
    const all = await Promise.all(ids.map((id) => diagnosisOf(b, id)));
    return all.every((diagnosis) => diagnosis?.status === 'running');
  });
  // Let the hanging checks reach the stand-in.
  await delay(500);
  const killedAt = performance.now();
  await a.kill();
  world.stand.evalsHealthy(false);
  const concludedAfterMs = new Map<number, number>();
  const deadlineMs = 120_000;
  while (concludedAfterMs.size < ids.length && performance.now() - killedAt < deadlineMs) {
    for (const id of ids) {
      if (concludedAfterMs.has(id)) continue;
      if ((await diagnosisOf(b, id))?.status === 'concluded')
        concludedAfterMs.set(id, performance.now() - killedAt);
    }
    await delay(100);
  }
  const timelines = await Promise.all(
    ids.map((id) => apiGet<{ timeline: Array<{ kind: string }> }>(b.url, `/api/incidents/${id}`)),
  );
  const doubleConclusions = timelines.filter(
    ({ timeline }) => timeline.filter((entry) => entry.kind === 'diagnosis.concluded').length !== 1,
  ).length;
  const failures: string[] = [];
  if (concludedAfterMs.size < ids.length) {
    failures.push(
      `${ids.length - concludedAfterMs.size} of ${ids.length} diagnoses never concluded after the kill`,
    );
  }
  if (doubleConclusions > 0)
    failures.push(`${doubleConclusions} incidents record their conclusion other than once`);
  return {
    sessions: ids.length,
    concluded: concludedAfterMs.size,
    takeoverMs: summarize([...concludedAfterMs.values()]),
    doubleConclusions,
    failures,
  };
}

const fmt = (value: number) => value.toLocaleString('en-US');
const lat = (s: LatencySummary) => `${s.p50} / ${s.p95} / ${s.p99} / ${s.max}`;
const counts = (record: Record<string, number>) =>
  Object.entries(record)
    .map(([key, n]) => `${key}: ${fmt(n)}`)
    .join(', ');

async function main(cleanups: Array<() => Promise<unknown>>): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const busyBefore = await waitForIdleMachine(options.waitIdle);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const database = await createTestDatabase('postgres', options.adminUrl);
  cleanups.push(() => database.drop());
  const emulator = await startSlackEmulator({
    channels: [{ id: INCIDENTS_CHANNEL, name: 'incidents' }],
    postMessageBurst: 100_000,
  });
  cleanups.push(() => emulator.close());
  const stand = await startActionStand();
  cleanups.push(() => stand.close());
  const start = () =>
    startBenchService({
      cwd: ROOT,
      env: {
        ...database.env,
        ...stand.env,
        ALERTMANAGER_TOKEN,
        AISRE_API_TOKEN: API_TOKEN,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        AISRE_DIAGNOSIS_LEASE: options.lease,
        AISRE_ACTION_EXECUTORS: '',
        AISRE_ACTION_APPROVERS: '',
      },
      slack: { apiUrl: emulator.apiUrl, incidentsChannel: INCIDENTS_CHANNEL },
      probing: probeLaunch({ enabled: false, dir: RESULTS_DIR, cpuProfile: false }),
      cleanups,
    });
  // One after the other: the first applies the migrations.
  const first = await start();
  const second = await start();
  const world: World = { replicas: [first.service, second.service], emulator, stand };
  await delay(2000);
  const idleRss = world.replicas.map((aisre) => processMemory(aisre.pid)?.rss ?? null);

  log(`phase 1: storm of ${options.alerts} alerts in ${options.seconds} s over both replicas`);
  const storm = await stormPhase(world, options, database.config);
  log(`phase 2: actions clicked on both replicas at once, ${options.actionIncidents} incidents`);
  const actions = await actionsPhase(world, options);
  log(`phase 3: ${options.sessions} diagnoses on replica A, A killed`);
  const failover = await failoverPhase(world, options);
  const survivor = await second.stop();
  const failures = [...storm.failures, ...actions.failures, ...failover.failures];
  if (survivor.code !== 0) failures.push(`replica B exited with code ${survivor.code} (${survivor.signal})`);

  const results = {
    finishedAt: new Date().toISOString(),
    command: `npm run bench:replicas -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      postgres: await serverVersion(options.adminUrl),
      busyCoresBeforeStart: busyBefore,
    },
    options,
    source: sourceState(ROOT),
    memoryMb: { idle: idleRss, peakDuringStorm: storm.storm.peakRssMb },
    storm: { ...storm.storm, correctness: storm.db, slack: storm.slack },
    actions,
    failover,
    failures,
  };
  const resultsPath = path.join(RESULTS_DIR, 'replicas-latest.json');
  writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
  const s: StormResult = storm.storm;
  return printReport({
    rows: [
      ['machine busy before start', `${busyBefore} of ${os.cpus().length} cores`],
      [
        'storm over 2 replicas',
        `${fmt(s.alertsSent)} alerts in ${s.seconds} s (${fmt(s.alertsPerSecond)}/s), ${fmt(s.notifications)} notifications`,
      ],
      ['  sent to both at once / hung up and retried', `${s.toEveryTarget} / ${s.hungUp}`],
      ['  intake latency ms p50/p95/p99/max', lat(s.latency)],
      ['  status codes', counts(s.statuses)],
      ['  Slack /aisre list ack p50/p95/p99/max', lat(s.interactions!.list.ack)],
      ['  Slack Acknowledge ack p50/p95/p99/max', lat(s.interactions!.acknowledge.ack)],
      ['  incidents (groups)', `${storm.db.incidents} (${storm.db.groupsSent})`],
      [
        '  lost / duplicated occurrences',
        `${storm.db.lost} / ${storm.db.duplicated} of ${fmt(storm.db.expectedOccurrences)}`,
      ],
      ['  Slack calls / incident', `${storm.slack.callsPerIncident} (${counts(storm.slack.perIncident)})`],
      [
        '  RSS MiB idle / peak, replica A; B',
        `${idleRss[0]} / ${s.peakRssMb[0]}; ${idleRss[1]} / ${s.peakRssMb[1]}`,
      ],
      ['actions clicked on both at once', `${actions.runs} runs on ${options.actionIncidents} incidents`],
      [
        '  executed exactly once',
        `${actions.executedOnce} of ${actions.runs} runs; webhook deliveries ${actions.webhookDeliveries}, gateway writes ${actions.gatewayWrites}`,
      ],
      ['  double click answered ms p50/p99', `${actions.clickMs.p50} / ${actions.clickMs.p99}`],
      [
        `failover (lease ${options.lease})`,
        `${failover.concluded} of ${failover.sessions} diagnoses concluded by B after A was killed`,
      ],
      ['  kill → concluded ms p50/max', `${failover.takeoverMs.p50} / ${failover.takeoverMs.max}`],
      ['  conclusions recorded other than once', failover.doubleConclusions],
      ['verdict', failures.length === 0 ? 'ok' : 'FAILED'],
    ],
    root: ROOT,
    resultsPath,
    probeDir: undefined,
    serviceLogs: { ...first.service.logCounts(), ...second.service.logCounts() },
    notes: s.errors,
    warnings: [],
    failures,
  });
}

runBench('stopping both replicas and dropping the bench database', main);
