import { afterEach, describe, expect, it } from 'vitest';
import { type ActionStand, openActionIncident, startActionStand } from '../support/action-support.js';
import { eventually } from '../support/polling.js';
import { type ServiceProcess, startServiceProcess } from '../support/service-process.js';
import { type SlackEmulator, startSlackEmulator } from '../support/slack-emulator.js';
import { blockActionsBody, postSigned } from '../support/slack-requests.js';
import { createTestDatabase, TEST_DB_KIND, type TestDatabase } from '../support/test-database.js';
import {
  ALERTMANAGER_TOKEN,
  API_TOKEN,
  BOT_TOKEN,
  INCIDENTS_CHANNEL,
  SIGNING_SECRET,
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

interface RunJson {
  id: number;
  status: string;
}
interface AuditJson {
  runId: number;
  event: string;
}

async function api<T>(aisre: ServiceProcess, path: string): Promise<T> {
  const response = await fetch(`${aisre.url}${path}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
  if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}`);
  return (await response.json()) as T;
}

/** A signed click on an action button, as Slack would post it to the process. */
async function click(aisre: ServiceProcess, userId: string, actionId: string, value: string): Promise<void> {
  const response = await postSigned(`${aisre.url}/slack/events`, {
    signingSecret: SIGNING_SECRET,
    body: blockActionsBody({
      userId,
      channelId: INCIDENTS_CHANNEL,
      messageTs: '1700000000.000100',
      actions: [{ action_id: actionId, value }],
    }),
  });
  expect(response.status).toBe(200);
}

describe(`an action interrupted by a crash (${TEST_DB_KIND})`, { timeout: 120_000 }, () => {
  it('resumes after SIGKILL and restart: delivered again with the same delivery id, executed once', async () => {
    database = await createTestDatabase();
    emulator = await startSlackEmulator({
      channels: [{ id: INCIDENTS_CHANNEL, name: 'incidents' }],
      postMessageBurst: Number.POSITIVE_INFINITY,
    });
    stand = await startActionStand();
    const env = {
      ...database.env,
      ...stand.env,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: emulator.apiUrl,
      SLACK_INCIDENTS_CHANNEL: INCIDENTS_CHANNEL,
      SLACK_APP_TOKEN: '',
      SLACK_RESPONDERS: '',
      ALERTMANAGER_TOKEN,
      AISRE_API_TOKEN: API_TOKEN,
      AISRE_AUTO_DIAGNOSE: 'true',
      AISRE_ACTION_LEASE: '2s',
      AISRE_ACTION_EXECUTORS: '',
      AISRE_ACTION_APPROVERS: '',
      LOG_LEVEL: 'warn',
    };
    const first = await startServiceProcess({ env });
    children.push(first);

    const incidentId = await openActionIncident(first.url);
    const sessionId = await eventually('the diagnosis to conclude', async () => {
      const { incident } = await api<{
        incident: { diagnosis: { sessionId: number; status: string } | null };
      }>(first, `/api/incidents/${incidentId}`);
      return incident.diagnosis?.status === 'concluded' ? incident.diagnosis.sessionId : undefined;
    });
    const runs = () =>
      api<{ runs: RunJson[]; audit: AuditJson[] }>(first, `/api/incidents/${incidentId}/actions`);

    // The webhook (high risk): requested by one person, approved by another, and the receiver hangs.
    stand.webhook.holdNext();
    await click(
      first,
      'U0ALICE',
      'action.preview',
      JSON.stringify({ incident: incidentId, session: sessionId, index: 2 }),
    );
    const run = await eventually('the preview', async () => (await runs()).runs[0]);
    await click(first, 'U0ALICE', 'action.execute', String(run.id));
    await eventually(
      'the approval request',
      async () => (await runs()).runs[0]?.status === 'awaiting_approval',
    );
    await click(first, 'U0BOB', 'action.approve', String(run.id));
    await eventually('the delivery to reach the receiver', () => stand!.webhook.deliveries.length === 1);

    await first.kill();
    const second = await startServiceProcess({ env });
    children.push(second);
    const finished = await eventually('the resumed run to finish', async () => {
      const state = await api<{ runs: RunJson[]; audit: AuditJson[] }>(
        second,
        `/api/incidents/${incidentId}/actions`,
      );
      return ['verifying', 'recovered', 'not_recovered'].includes(state.runs[0]?.status ?? '')
        ? state
        : undefined;
    });

    const [held, resumed] = stand.webhook.deliveries;
    expect(stand.webhook.deliveries).toHaveLength(2);
    expect(resumed?.headers['x-aisre-delivery']).toBe(held?.headers['x-aisre-delivery']);
    expect(resumed?.rawBody).toBe(held?.rawBody);
    const events = finished.audit.filter((entry) => entry.runId === run.id).map((entry) => entry.event);
    expect(events.filter((event) => event === 'executing')).toHaveLength(1);
    expect(events.filter((event) => event === 'resumed')).toHaveLength(1);
    expect(events.filter((event) => event === 'executed')).toHaveLength(1);
  });
});
