import { afterEach, describe, expect, it } from 'vitest';
import { waitForOutbox } from '../../bench/support/harness.js';
import {
  clickOnEvery,
  interactionFailures,
  MAX_SLACK_CALLS_PER_INCIDENT,
  runStorm,
} from '../../bench/support/storm.js';
import { databaseFailures, slackStats, verifyDatabase } from '../../bench/support/verify.js';
import { Workload } from '../../bench/support/workload.js';
import { openDatabase } from '../../src/db/database.js';
import {
  type ActionStand,
  AGENT_KEY,
  EVAL_QUERY,
  openActionIncident,
  startActionStand,
} from '../support/action-support.js';
import { eventually } from '../support/polling.js';
import { type ServiceProcess, startServiceProcess } from '../support/service-process.js';
import { type SlackEmulator, startSlackEmulator } from '../support/slack-emulator.js';
import { createTestDatabase, TEST_DB_KIND, type TestDatabase } from '../support/test-database.js';
import {
  ALERTMANAGER_TOKEN,
  apiGet,
  INCIDENTS_CHANNEL,
  SIGNING_SECRET,
  serviceProcessEnv,
} from '../support/test-service.js';

const children: ServiceProcess[] = [];
let database: TestDatabase | undefined;
let emulator: SlackEmulator | undefined;
let stand: ActionStand | undefined;

afterEach(async () => {
  for (const child of children.splice(0)) await child.kill();
  await database?.drop();
  database = undefined;
  await emulator?.close();
  emulator = undefined;
  await stand?.close();
  stand = undefined;
});

/** Two aisre processes on one fresh database, each with `env` on top of the usual. */
async function twoReplicas(env: Record<string, string> = {}): Promise<[ServiceProcess, ServiceProcess]> {
  database = await createTestDatabase();
  emulator = await startSlackEmulator({
    channels: [{ id: INCIDENTS_CHANNEL, name: 'incidents' }],
    postMessageBurst: Number.POSITIVE_INFINITY,
  });
  const full = { ...serviceProcessEnv(database, emulator), ...env };
  // One after the other: the first applies the migrations.
  for (let i = 0; i < 2; i++) children.push(await startServiceProcess({ env: full }));
  return [children[0]!, children[1]!];
}

const api = <T>(aisre: ServiceProcess, path: string) => apiGet<T>(aisre.url, path);

/** The same click posted to every replica at once; each answers 200. */
async function clickOnAll(
  replicas: readonly ServiceProcess[],
  userId: string,
  actionId: string,
  value: string,
): Promise<void> {
  const statuses = await clickOnEvery(
    replicas.map((aisre) => aisre.url),
    {
      signingSecret: SIGNING_SECRET,
      channelId: INCIDENTS_CHANNEL,
      responseUrl: emulator!.responseUrl(),
      userId,
      actionId,
      value,
    },
  );
  expect(statuses).toEqual(replicas.map(() => 200));
}

interface Diagnosis {
  sessionId: number;
  status: string;
  node: string;
}
const diagnosisOf = async (aisre: ServiceProcess, id: number) =>
  (await api<{ incident: { diagnosis: Diagnosis | null } }>(aisre, `/api/incidents/${id}`)).incident
    .diagnosis;

interface Actions {
  runs: Array<{ id: number; status: string; actionId: string }>;
  audit: Array<{ runId: number; event: string }>;
}

// PGlite is embedded in one process and locks its data directory: replicas need PostgreSQL.
describe.skipIf(TEST_DB_KIND === 'pglite')(`two replicas on one database (${TEST_DB_KIND})`, () => {
  it('turn a storm spread over both, and sent to both at once, into one incident per group', async () => {
    const [a, b] = await twoReplicas();
    const workload = new Workload({
      groups: 20,
      maxAlerts: 20,
      repeatRatio: 0.3,
      seed: 11,
      openAllFirst: true,
    });
    const storm = await runStorm({
      workload,
      targets: [a.url, b.url],
      alertmanagerToken: ALERTMANAGER_TOKEN,
      alerts: 600,
      seconds: 6,
      retryRatio: 0.15,
      everyTargetRatio: 0.25,
      seed: 11,
      slack: {
        emulator: emulator!,
        signingSecret: SIGNING_SECRET,
        channelId: INCIDENTS_CHANNEL,
        everyMs: 100,
      },
    });
    for (const replica of [a, b]) expect(await waitForOutbox(replica.url, 30_000)).toMatchObject({ dead: 0 });
    for (const replica of [a, b]) expect((await replica.stop()).code).toBe(0);

    expect(storm.toEveryTarget).toBeGreaterThan(0);
    expect(interactionFailures(storm)).toEqual([]);
    const handle = await openDatabase(database!.config, { poolMax: 1 });
    const check = await verifyDatabase(handle.knex, workload).finally(() => handle.close());
    expect(databaseFailures(check)).toEqual([]);
    expect(check).toMatchObject({ incidents: 20, lost: 0, duplicated: 0 });
    const slack = slackStats(emulator!, check.incidents);
    expect(slack.perIncident['conversations.create']).toBe(1);
    expect(slack.callsPerIncident).toBeLessThanOrEqual(MAX_SLACK_CALLS_PER_INCIDENT);
  }, 60_000);

  it('execute an action once when Execute and Approve are clicked on both at the same moment', async () => {
    stand = await startActionStand();
    const [a, b] = await twoReplicas({
      ...stand.env,
      AISRE_AUTO_DIAGNOSE: 'true',
      AISRE_ACTION_EXECUTORS: '',
      AISRE_ACTION_APPROVERS: '',
    });
    const incidentId = await openActionIncident(a.url);
    const session = await eventually('the diagnosis to conclude', async () => {
      const diagnosis = await diagnosisOf(b, incidentId);
      return diagnosis?.status === 'concluded' ? diagnosis : undefined;
    });
    const actions = () => api<Actions>(a, `/api/incidents/${incidentId}/actions`);

    // The gateway rate limit, then the high-risk webhook that needs a second person's approval.
    for (const index of [1, 2]) {
      await clickOnAll(
        [a],
        'U0ALICE',
        'action.preview',
        JSON.stringify({ incident: incidentId, session: session.sessionId, index }),
      );
      const run = await eventually('the preview', async () =>
        (await actions()).runs.find((r) => r.id > 0 && r.status === 'previewed'),
      );
      await clickOnAll([a, b], 'U0ALICE', 'action.execute', String(run.id));
      const next = await eventually('the run to move on', async () => {
        const status = (await actions()).runs.find((r) => r.id === run.id)?.status;
        return status !== 'previewed' && status !== 'executing' ? status : undefined;
      });
      if (next === 'awaiting_approval') await clickOnAll([a, b], 'U0BOB', 'action.approve', String(run.id));
      await eventually('the run to be executed', async () =>
        ['verifying', 'recovered', 'not_recovered'].includes(
          (await actions()).runs.find((r) => r.id === run.id)?.status ?? '',
        ),
      );
    }

    const { runs, audit } = await actions();
    expect(runs).toHaveLength(2);
    for (const run of runs) {
      const events = audit.filter((entry) => entry.runId === run.id).map((entry) => entry.event);
      expect(events.filter((event) => event === 'executing')).toHaveLength(1);
      expect(events.filter((event) => event === 'executed')).toHaveLength(1);
    }
    expect(stand.webhook.deliveries).toHaveLength(1);
    expect(stand.litellm.changedBy().filter((write) => write.path === '/key/update')).toHaveLength(1);
    expect(stand.litellm.key(AGENT_KEY)?.rpm_limit).toBe(60);
  }, 60_000);

  it('carry on a diagnosis when the replica running it is killed', async () => {
    stand = await startActionStand();
    const [a, b] = await twoReplicas({
      ...stand.env,
      AISRE_AUTO_DIAGNOSE: 'true',
      AISRE_DIAGNOSIS_LEASE: '1s',
    });
    // The deciding check hangs on the first replica, which dies while it waits.
    stand.prometheus.respond(EVAL_QUERY, { delayMs: 8000, answer: [{ labels: {}, value: 0.6 }] });
    const incidentId = await openActionIncident(a.url);
    await eventually('the check to be in flight', () =>
      stand!.prometheus.queries.some((query) => query.query.includes(EVAL_QUERY)),
    );
    expect(await diagnosisOf(b, incidentId)).toMatchObject({ status: 'running', node: 'look' });

    await a.kill();
    stand.evalsHealthy(false);
    const concluded = await eventually(
      'the other replica to conclude',
      async () => {
        const diagnosis = await diagnosisOf(b, incidentId);
        return diagnosis?.status === 'concluded' ? diagnosis : undefined;
      },
      15_000,
    );
    expect(concluded.node).toBe('prompt_bad');
    const { timeline } = await api<{ timeline: Array<{ kind: string }> }>(b, `/api/incidents/${incidentId}`);
    expect(
      timeline.filter((entry) => entry.kind.startsWith('diagnosis.')).map((entry) => entry.kind),
    ).toEqual(['diagnosis.started', 'diagnosis.step', 'diagnosis.concluded']);
  }, 60_000);
});
