import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { serveScenarioMetrics } from '../scenarios/scenario-runner.js';
import {
  diagnosisRecords,
  postAlertBody,
  RUNBOOKS_DIR,
  scenarioNamed,
  serviceAlertBody,
  statuses,
} from '../support/diagnosis-support.js';
import { eventually } from '../support/polling.js';
import { type PrometheusStandIn, startPrometheusStandIn } from '../support/prometheus-stand-in.js';
import { type ServiceProcess, startServiceProcess } from '../support/service-process.js';
import { type EmulatedMessage, type SlackEmulator, startSlackEmulator } from '../support/slack-emulator.js';
import {
  actionsBlock,
  blocksOf,
  element,
  findCard,
  type IncidentDetailJson,
  succeeded,
  updatesOf,
} from '../support/slack-flow.js';
import { blockActionsBody, postSigned } from '../support/slack-requests.js';
import { createTestDatabase, TEST_DB_KIND, type TestDatabase } from '../support/test-database.js';
import {
  ALERTMANAGER_TOKEN,
  API_TOKEN,
  BOT_TOKEN,
  INCIDENTS_CHANNEL,
  SIGNING_SECRET,
} from '../support/test-service.js';

/** Everything a test started, so `afterEach` can take it all down whatever happened. */
const children: ServiceProcess[] = [];
let database: TestDatabase | undefined;
let emulator: SlackEmulator | undefined;
let standIn: PrometheusStandIn | undefined;

afterEach(async () => {
  for (const child of children.splice(0)) await child.kill();
  await database?.drop();
  database = undefined;
  await emulator?.close();
  emulator = undefined;
  await standIn?.close();
  standIn = undefined;
});

interface Setup {
  db: TestDatabase;
  slack: SlackEmulator;
  prom: PrometheusStandIn;
  env: Record<string, string>;
}

async function setUp(): Promise<Setup> {
  database = await createTestDatabase();
  emulator = await startSlackEmulator({
    channels: [{ id: INCIDENTS_CHANNEL, name: 'incidents' }],
    postMessageBurst: Number.POSITIVE_INFINITY,
  });
  standIn = await startPrometheusStandIn();
  const env = {
    ...database.env,
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: emulator.apiUrl,
    SLACK_INCIDENTS_CHANNEL: INCIDENTS_CHANNEL,
    SLACK_APP_TOKEN: '',
    SLACK_RESPONDERS: '',
    ALERTMANAGER_TOKEN,
    ALERTMANAGER_ALLOW_UNAUTHENTICATED: '',
    AISRE_API_TOKEN: API_TOKEN,
    PROMETHEUS_URL: standIn.url,
    PROMETHEUS_PUBLIC_URL: '',
    PROMETHEUS_BEARER_TOKEN: '',
    AISRE_RUNBOOKS_DIR: RUNBOOKS_DIR,
    AISRE_AUTO_DIAGNOSE: 'false',
    AISRE_DIAGNOSIS_RECHECK: '',
    LLM_BASE_URL: '',
    LLM_API_KEY: '',
    LOG_LEVEL: 'info',
  };
  return { db: database, slack: emulator, prom: standIn, env };
}

async function spawnAisre(env: Record<string, string>): Promise<ServiceProcess> {
  const child = await startServiceProcess({ env });
  children.push(child);
  return child;
}

type IncidentDetail = IncidentDetailJson & {
  incident: { diagnosis: { sessionId: number; status: string; node: string } | null };
};

async function detail(aisre: ServiceProcess, id: number): Promise<IncidentDetail> {
  const response = await fetch(`${aisre.url}/api/incidents/${id}`, {
    headers: { authorization: `Bearer ${API_TOKEN}` },
  });
  if (response.status !== 200) throw new Error(`GET /api/incidents/${id} answered ${response.status}`);
  return (await response.json()) as IncidentDetail;
}

const text = (blocks: unknown) => JSON.stringify(blocks ?? []);

function threadMessages(slack: SlackEmulator, channelId: string, cardTs: string): EmulatedMessage[] {
  return slack.messages(channelId).filter((message) => message.thread_ts === cardTs);
}

function threadPosts(slack: SlackEmulator, channelId: string, cardTs: string) {
  return slack
    .callsTo('chat.postMessage')
    .filter((call) => call.args.channel === channelId && call.args.thread_ts === cardTs && succeeded(call));
}

/** Opens an incident through Alertmanager and waits for its card in its own channel. */
async function openIncident(
  aisre: ServiceProcess,
  slack: SlackEmulator,
  startedAt: Date,
): Promise<{ id: number; channelId: string; card: EmulatedMessage }> {
  const id = await postAlertBody(aisre.url, serviceAlertBody('rag-assistant', { startsAt: startedAt }));
  return eventually('the incident card', async () => {
    const channelId = (await detail(aisre, id)).slack?.channelId;
    const card = channelId ? findCard(slack, channelId, id) : undefined;
    return channelId && card ? { id, channelId, card } : undefined;
  });
}

/** Clicks a control as `userId`, signed as Slack signs it, on a given aisre process. */
async function clickOn(
  aisre: ServiceProcess,
  message: EmulatedMessage,
  channelId: string,
  userId: string,
  action: { action_id: string; block_id: string; value: string },
  responseUrl?: string,
): Promise<void> {
  const body = blockActionsBody({
    userId,
    channelId,
    messageTs: message.ts,
    actions: [action],
    message: { blocks: message.blocks },
    ...(responseUrl ? { responseUrl } : {}),
  });
  const response = await postSigned(`${aisre.url}/slack/events`, { body, signingSecret: SIGNING_SECRET });
  expect(response.status).toBe(200);
}

function startButton(card: EmulatedMessage) {
  const control = element(card.blocks, 'incident.start_diagnosis');
  return {
    action_id: 'incident.start_diagnosis',
    block_id: actionsBlock(card.blocks)!.block_id!,
    value: control.value!,
  };
}

/** Reads the diagnosis records of the stopped service's database: for assertions only. */
async function recordsAfterStop(db: TestDatabase, incidentId: number) {
  const handle = await openDatabase(db.config);
  try {
    return await diagnosisRecords(handle.knex, incidentId);
  } finally {
    await handle.close();
  }
}

const resumedLine = (aisre: ServiceProcess) =>
  aisre.output().find((line) => line.includes('"msg":"resumed diagnosis sessions"'));

describe(`diagnosis across a killed process (${TEST_DB_KIND})`, () => {
  it('resumes a session killed while its checks ran: same session and step, message edited, then concludes', async () => {
    const { db, slack, prom, env } = await setUp();
    const startedAt = new Date(Date.now() - 20 * 60_000);
    serveScenarioMetrics(prom, scenarioNamed('index-job-failing'), {
      service: 'rag-assistant',
      cutoff: startedAt,
    });
    // One triage check hangs (below its 10 s timeout): the process dies while it is in flight.
    const slowQuery = (query: string) => query.includes('rag_retrieval_hit_ratio');
    prom.respond(slowQuery, { delayMs: 9000, answer: [{ labels: {}, value: 0.66 }] });

    const first = await spawnAisre(env);
    const { id, channelId, card } = await openIncident(first, slack, startedAt);
    await clickOn(first, card, channelId, 'U0ALICE', startButton(card));
    const sessionId = await eventually(
      'the session',
      async () => (await detail(first, id)).incident.diagnosis?.sessionId,
    );

    // Step 1 shows the fast checks' results while the slow one still runs: results are recorded.
    const inFlight = await eventually('step 1 with every result but one', () => {
      const [step] = threadMessages(slack, channelId, card.ts);
      const shown = text(step?.blocks);
      return shown.includes('⏳ *Retrieval hit rate* running…') &&
        shown.includes('✅ *Online eval pass rate* · pass') &&
        shown.includes('✅ *Changes in the last 6 hours* · pass') &&
        (shown.match(/running…/g) ?? []).length === 1
        ? step
        : undefined;
    });
    expect(prom.queries.some((query) => slowQuery(query.query))).toBe(true);
    const stepTs = inFlight.ts;
    expect(threadPosts(slack, channelId, card.ts)).toHaveLength(1);
    // Posted once (with the results in, or edited to them; delivery timing decides which).
    const editsBeforeKill = updatesOf(slack, stepTs).length;
    expect((await detail(first, id)).incident.diagnosis).toMatchObject({
      sessionId,
      status: 'running',
      node: 'triage',
    });
    // Let the delivery that made this edit finish; a crash inside one only delays the next by its lease.
    await delay(500);

    await first.kill();
    expect(first.child.signalCode).toBe('SIGKILL');
    // Prometheus is quick again; the restarted process runs the node's checks anew (they are read-only).
    prom.respond(slowQuery, [{ labels: {}, value: 0.66 }]);
    const second = await spawnAisre(env);
    expect(second.pid).not.toBe(first.pid);

    const concluded = await eventually('the conclusion', async () => {
      const diagnosis = (await detail(second, id)).incident.diagnosis;
      return diagnosis?.status === 'concluded' ? diagnosis : undefined;
    });
    expect(concluded).toMatchObject({ sessionId, node: 'index_stale' });
    expect(resumedLine(second)).toContain('"sessions":1');

    // Slack: the step 1 message is edited to its outcome, never posted again; steps 2 and 3 follow.
    await eventually('three steps in the thread, step 1 decided', () => {
      const messages = threadMessages(slack, channelId, card.ts);
      return messages.length === 3 && text(messages[0]!.blocks).includes('➡️ *Retrieval - what broke it?*');
    });
    await eventually('the card showing the conclusion', () =>
      text(findCard(slack, channelId, id)?.blocks).includes('🎯 *Diagnosis: retrieval layer*'),
    );
    const { timeline } = await detail(second, id);
    expect((await second.stop()).code).toBe(0);

    const messages = threadMessages(slack, channelId, card.ts);
    expect(messages[0]!.ts).toBe(stepTs);
    expect(threadPosts(slack, channelId, card.ts).map((call) => call.args.text)).toEqual([
      'Diagnosis step 1: Which layer failed? (running checks)',
      expect.stringMatching(/^Diagnosis step 2: Retrieval - what broke it\?/),
      expect.stringMatching(/^Diagnosis concluded: retrieval layer\./),
    ]);
    expect(updatesOf(slack, stepTs).length).toBeGreaterThan(editsBeforeKill);
    expect(text(messages[0]!.blocks)).toContain('❌ *Retrieval hit rate* · fail');
    expect(text(messages[0]!.blocks)).not.toContain('running…');
    expect(
      slack
        .callsTo('chat.postMessage')
        .filter((call) => call.args.channel === channelId && !call.args.thread_ts),
    ).toHaveLength(1);

    expect(timeline.filter((e) => e.kind.startsWith('diagnosis.')).map((e) => e.kind)).toEqual([
      'diagnosis.started',
      'diagnosis.step',
      'diagnosis.step',
      'diagnosis.concluded',
    ]);
    const records = await recordsAfterStop(db, id);
    expect(records).toHaveLength(1);
    expect(records[0]!.session).toMatchObject({
      id: sessionId,
      status: 'concluded',
      currentNode: 'index_stale',
    });
    expect(records[0]!.steps.map((step) => [step.seq, step.nodeId, step.status, step.nextNode])).toEqual([
      [1, 'triage', 'decided', 'retrieval'],
      [2, 'retrieval', 'decided', 'index_stale'],
      [3, 'index_stale', 'concluded', null],
    ]);
    expect(statuses(records[0]!.steps[0])).toMatchObject({ retrieval_hits: 'fail', eval_pass: 'pass' });
    expect(Object.keys(records[0]!.steps[0]!.results)).toHaveLength(12);
  }, 120_000);

  it('takes an answer after a restart that killed the process while it waited for one', async () => {
    const { db, slack, env } = await setUp();
    // No metrics: the tree asks at triage.
    const first = await spawnAisre(env);
    const { id, channelId, card } = await openIncident(first, slack, new Date(Date.now() - 10 * 60_000));
    await clickOn(first, card, channelId, 'U0ALICE', startButton(card));
    const sessionId = await eventually('the question', async () => {
      const diagnosis = (await detail(first, id)).incident.diagnosis;
      return diagnosis?.status === 'waiting' ? diagnosis.sessionId : undefined;
    });
    const question = await eventually('the question in the thread', () =>
      threadMessages(slack, channelId, card.ts).find((message) =>
        text(message.blocks).includes(`"block_id":"diagnosis_question:${sessionId}:1"`),
      ),
    );
    await eventually('the card asking for an answer', () =>
      text(findCard(slack, channelId, id)?.blocks).includes('🙋 *Diagnosis needs an answer*'),
    );
    await delay(500);

    await first.kill();
    const second = await spawnAisre(env);
    expect(resumedLine(second)).toContain('"sessions":1');

    // Bob answers on the message the first process posted.
    const block = blocksOf(question.blocks).find((b) => b.block_id === `diagnosis_question:${sessionId}:1`)!;
    const button = block.elements!.find((e) => e.text?.text === 'Not an AI-layer problem')!;
    const reply = slack.responseUrl('RBOB');
    await clickOn(
      second,
      question,
      channelId,
      'U0BOB',
      { action_id: button.action_id!, block_id: block.block_id!, value: button.value! },
      reply,
    );
    const concluded = await eventually('the conclusion', async () => {
      const diagnosis = (await detail(second, id)).incident.diagnosis;
      return diagnosis?.status === 'concluded' ? diagnosis : undefined;
    });
    expect(concluded).toMatchObject({ sessionId, node: 'not_ai_layer' });
    await eventually('the answered question and the conclusion in the thread', () => {
      const messages = threadMessages(slack, channelId, card.ts);
      return (
        messages.length === 2 &&
        text(messages[0]!.blocks).includes(
          '➡️ *Not an AI-layer failure* · answered “Not an AI-layer problem” (<@U0BOB>)',
        )
      );
    });
    const { timeline } = await detail(second, id);
    expect((await second.stop()).code).toBe(0);

    // Accepted, so Bob heard nothing privately; the question was edited, not posted again.
    expect(slack.responses).toEqual([]);
    expect(threadMessages(slack, channelId, card.ts)[0]!.ts).toBe(question.ts);
    expect(threadPosts(slack, channelId, card.ts)).toHaveLength(2);
    expect(text(threadMessages(slack, channelId, card.ts)[0]!.blocks)).not.toContain('diagnosis_question:');
    expect(timeline.filter((e) => e.kind.startsWith('diagnosis.')).map((e) => [e.kind, e.actor])).toEqual([
      ['diagnosis.started', 'slack:U0ALICE'],
      ['diagnosis.step', 'slack:U0BOB'],
      ['diagnosis.concluded', 'system'],
    ]);
    const records = await recordsAfterStop(db, id);
    expect(records).toHaveLength(1);
    expect(records[0]!.session).toMatchObject({ id: sessionId, status: 'concluded' });
    expect(records[0]!.steps.map((step) => [step.seq, step.nodeId, step.status, step.answeredBy])).toEqual([
      [1, 'triage', 'decided', 'U0BOB'],
      [2, 'not_ai_layer', 'concluded', null],
    ]);
  }, 120_000);
});
