import { afterEach, describe, expect, it } from 'vitest';
import { waitForOutbox } from '../../bench/support/harness.js';
import { interactionFailures, MAX_SLACK_CALLS_PER_INCIDENT, runStorm } from '../../bench/support/storm.js';
import { databaseFailures, slackStats, verifyDatabase } from '../../bench/support/verify.js';
import { Workload } from '../../bench/support/workload.js';
import { openDatabase } from '../../src/db/database.js';
import { type ServiceProcess, startServiceProcess } from '../support/service-process.js';
import { type SlackEmulator, startSlackEmulator } from '../support/slack-emulator.js';
import { createTestDatabase, TEST_DB_KIND, type TestDatabase } from '../support/test-database.js';
import {
  ALERTMANAGER_TOKEN,
  INCIDENTS_CHANNEL,
  SIGNING_SECRET,
  serviceProcessEnv,
} from '../support/test-service.js';

const GROUPS = 20;

let child: ServiceProcess | undefined;
let database: TestDatabase | undefined;
let emulator: SlackEmulator | undefined;

afterEach(async () => {
  await child?.kill();
  child = undefined;
  await database?.drop();
  database = undefined;
  await emulator?.close();
  emulator = undefined;
});

// The storm benchmark (bench/storm.ts) scaled down to run in CI: 1,000 alerts in 10 s.
describe(`an alert storm (${TEST_DB_KIND})`, () => {
  it('opens one incident per group, stores every alert once and answers Slack in time throughout', async () => {
    database = await createTestDatabase();
    emulator = await startSlackEmulator({
      channels: [{ id: INCIDENTS_CHANNEL, name: 'incidents' }],
      postMessageBurst: Number.POSITIVE_INFINITY,
    });
    child = await startServiceProcess({ env: serviceProcessEnv(database, emulator) });
    const workload = new Workload({
      groups: GROUPS,
      maxAlerts: 20,
      repeatRatio: 0.3,
      seed: 7,
      openAllFirst: true,
    });

    const storm = await runStorm({
      workload,
      targets: [child.url],
      alertmanagerToken: ALERTMANAGER_TOKEN,
      alerts: 1000,
      seconds: 10,
      retryRatio: 0.15,
      seed: 7,
      slack: { emulator, signingSecret: SIGNING_SECRET, channelId: INCIDENTS_CHANNEL, everyMs: 100 },
    });
    expect(await waitForOutbox(child.url, 30_000)).toMatchObject({ drained: true, dead: 0 });
    expect((await child.stop()).code).toBe(0);

    expect(storm.alertsSent).toBeGreaterThanOrEqual(1000);
    expect(storm.kinds.repeat).toBeGreaterThan(0);
    expect(storm.hungUp).toBeGreaterThan(0);
    expect(interactionFailures(storm)).toEqual([]);
    expect(storm.interactions?.list.count).toBeGreaterThan(20);
    expect(storm.interactions?.acknowledge.count).toBeGreaterThan(20);

    const handle = await openDatabase(database.config, { poolMax: 1 });
    const check = await verifyDatabase(handle.knex, workload).finally(() => handle.close());
    expect(databaseFailures(check)).toEqual([]);
    expect(check).toMatchObject({ incidents: GROUPS, lost: 0, duplicated: 0 });
    expect(check.expectedOccurrences).toBeGreaterThan(GROUPS * 10);

    const slack = slackStats(emulator, check.incidents);
    expect(slack.callsPerIncident).toBeLessThanOrEqual(MAX_SLACK_CALLS_PER_INCIDENT);
    expect(slack.perIncident['conversations.create']).toBe(1);
  }, 60_000);
});
