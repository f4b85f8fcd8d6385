import { afterEach, describe, expect, it } from 'vitest';
import { type ActionStand, openActionIncident, PROMPT, startActionStand } from '../support/action-support.js';
import { eventually } from '../support/polling.js';
import { type ServiceProcess, startServiceProcess } from '../support/service-process.js';
import { type SlackEmulator, startSlackEmulator } from '../support/slack-emulator.js';
import { blockActionsBody, postSigned } from '../support/slack-requests.js';
import { createTestDatabase, TEST_DB_KIND, type TestDatabase } from '../support/test-database.js';
import { apiGet, INCIDENTS_CHANNEL, SIGNING_SECRET, serviceProcessEnv } from '../support/test-service.js';

// What action-restart.test.ts and diagnosis-restart.test.ts leave out: a SIGKILL after a side
// effect landed at the integration but before the process heard back (a run that read the state
// again on resuming would roll the prompt back a second version), and one that catches an
// automatic action between the diagnosis's conclusion and its first write.

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
  previousState: { fromVersion?: number; toVersion?: number } | null;
}
interface AuditJson {
  runId: number;
  event: string;
}

/** The incident's action runs and their audit, as a process's API shows them. */
const actionsOf = (incidentId: number) => (aisre: ServiceProcess) =>
  apiGet<{ runs: RunJson[]; audit: AuditJson[] }>(aisre.url, `/api/incidents/${incidentId}/actions`);

/** Waits until the incident's only run has executed, and returns the runs and audit. */
function executed(aisre: ServiceProcess, incidentId: number) {
  return eventually(
    'the run to finish',
    async () => {
      const current = await actionsOf(incidentId)(aisre);
      return ['verifying', 'recovered', 'not_recovered'].includes(current.runs[0]?.status ?? '')
        ? current
        : undefined;
    },
    60_000,
  );
}

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

/** A running aisre whose diagnosis of a fresh incident has concluded (the evals fail). */
async function concludedIncident(
  options: { autoRollback?: boolean; beforeOpen?: (stand: ActionStand) => void } = {},
) {
  database = await createTestDatabase();
  emulator = await startSlackEmulator({
    channels: [{ id: INCIDENTS_CHANNEL, name: 'incidents' }],
    postMessageBurst: Number.POSITIVE_INFINITY,
  });
  const actions = await startActionStand(options);
  stand = actions;
  const env = {
    ...serviceProcessEnv(database, emulator),
    ...actions.env,
    AISRE_AUTO_DIAGNOSE: 'true',
    AISRE_ACTION_LEASE: '2s',
    AISRE_ACTION_EXECUTORS: '',
    AISRE_ACTION_APPROVERS: '',
  };

  const first = await startServiceProcess({ env });
  children.push(first);
  options.beforeOpen?.(actions);
  const incidentId = await openActionIncident(first.url);
  const sessionId = await eventually(
    'the diagnosis to conclude',
    async () => {
      const { incident } = await apiGet<{
        incident: { diagnosis: { sessionId: number; status: string } | null };
      }>(first.url, `/api/incidents/${incidentId}`);
      return incident.diagnosis?.status === 'concluded' ? incident.diagnosis.sessionId : undefined;
    },
    60_000,
  );
  return { first, incidentId, sessionId, env, stand: actions };
}

describe(`a process SIGKILLed mid-action (${TEST_DB_KIND})`, {
  // Each test starts aisre twice as a child process; PGlite on a loaded 2-core machine took 70 s.
  timeout: 180_000,
}, () => {
  it('resumes the prompt rollback from what it read before the kill: the label moves once, to v2, never to v1', async () => {
    const { first, incidentId, sessionId, env, stand } = await concludedIncident();
    const state = actionsOf(incidentId);

    await click(
      first,
      'U0ALICE',
      'action.preview',
      JSON.stringify({ incident: incidentId, session: sessionId, index: 0 }),
    );
    const run = await eventually('the preview', async () => (await state(first)).runs[0]);
    // Langfuse moves the label, and the answer never comes back: the process dies waiting for it.
    const applied = stand.langfuse.applyNextWithoutAnswer({ method: 'PATCH' });
    await click(first, 'U0ALICE', 'action.execute', String(run.id));
    await applied;
    expect(stand.langfuse.labelled(PROMPT, 'production')).toBe(2);
    await first.kill();

    const second = await startServiceProcess({ env });
    children.push(second);
    const finished = await executed(second, incidentId);

    // Applied once in effect: the resumed run sent the same absolute change, not a second rollback.
    expect(stand.langfuse.labelled(PROMPT, 'production')).toBe(2);
    const patches = stand.langfuse.requests.filter((request) => request.method === 'PATCH');
    expect(patches.map((request) => request.path)).toEqual([
      `/api/public/v2/prompts/${PROMPT}/versions/2`,
      `/api/public/v2/prompts/${PROMPT}/versions/2`,
    ]);
    // Neither lost nor doubled on record: one execution, resumed once, executed once, and the
    // state before it (v3) kept for the undo.
    const events = finished.audit.filter((entry) => entry.runId === run.id).map((entry) => entry.event);
    expect(events.filter((event) => event === 'executing')).toHaveLength(1);
    expect(events.filter((event) => event === 'resumed')).toHaveLength(1);
    expect(events.filter((event) => event === 'executed')).toHaveLength(1);
    expect(finished.runs).toHaveLength(1);
    expect(finished.runs[0]!.previousState).toMatchObject({ fromVersion: 3, toVersion: 2 });
  });

  it('starts an automatic rollback once after a kill that caught it mid-preview, right after the conclusion', async () => {
    let read: Promise<void> | undefined;
    const { first, incidentId, env, stand } = await concludedIncident({
      autoRollback: true,
      // The diagnosis reads Prometheus only: the first read of Langfuse is the automatic run's.
      beforeOpen: (actions) => {
        read = actions.langfuse.applyNextWithoutAnswer({ method: 'GET' });
      },
    });
    await read;
    await first.kill();
    expect(stand.langfuse.labelled(PROMPT, 'production')).toBe(3);

    const second = await startServiceProcess({ env });
    children.push(second);
    const finished = await executed(second, incidentId);
    expect(finished.runs).toHaveLength(1);
    expect(stand.langfuse.labelled(PROMPT, 'production')).toBe(2);
    expect(stand.langfuse.requests.filter((request) => request.method === 'PATCH')).toHaveLength(1);
    const events = finished.audit.map((entry) => entry.event);
    expect(events.filter((event) => event === 'executed')).toHaveLength(1);
  });
});
