import { afterEach, describe, expect, it } from 'vitest';
import { serveScenarioMetrics } from '../scenarios/scenario-runner.js';
import { RUNBOOKS_DIR, scenarioNamed } from '../support/diagnosis-support.js';
import { type PrometheusStandIn, startPrometheusStandIn } from '../support/prometheus-stand-in.js';
import type { EmulatedMessage, RecordedCall, SlackEmulator } from '../support/slack-emulator.js';
import {
  actionsBlock,
  blocksOf,
  clickOn as click,
  controlLabels,
  element,
  type IncidentDetailJson,
  incidentDetail,
  openIncident,
  responseUrl,
  type SlackFlow,
  startSlackFlow,
  succeeded,
  updatesOf,
  waitForUpdate,
} from '../support/slack-flow.js';
import { type BlockActionInput, slashCommandBody } from '../support/slack-requests.js';
import { TEST_DB_KIND } from '../support/test-database.js';
import { INCIDENTS_CHANNEL } from '../support/test-service.js';

let flow: SlackFlow | undefined;
let standIn: PrometheusStandIn | undefined;
afterEach(async () => {
  await flow?.dispose();
  flow = undefined;
  await standIn?.close();
  standIn = undefined;
});

/** The incidents' alerts fire from the stand-in's point of view 20 minutes before now. */
const startedAt = () => new Date(Date.now() - 20 * 60_000);

async function start(): Promise<{ flow: SlackFlow; prom: PrometheusStandIn }> {
  standIn = await startPrometheusStandIn();
  flow = await startSlackFlow({
    env: { PROMETHEUS_URL: standIn.url, AISRE_RUNBOOKS_DIR: RUNBOOKS_DIR },
  });
  return { flow, prom: standIn };
}

const text = (blocks: unknown) => JSON.stringify(blocks ?? []);

/** Replies in the thread under the card, in posting order. */
function threadMessages(emulator: SlackEmulator, channelId: string, cardTs: string): EmulatedMessage[] {
  return emulator.messages(channelId).filter((message) => message.thread_ts === cardTs);
}

/** `chat.postMessage` calls that posted into the card's thread. */
function threadPosts(emulator: SlackEmulator, channelId: string, cardTs: string): RecordedCall[] {
  return emulator
    .callsTo('chat.postMessage')
    .filter((call) => call.args.channel === channelId && call.args.thread_ts === cardTs && succeeded(call));
}

/** Top-level posts in the incident channel: the card only. */
function topLevelPosts(emulator: SlackEmulator, channelId: string): RecordedCall[] {
  return emulator
    .callsTo('chat.postMessage')
    .filter((call) => call.args.channel === channelId && !call.args.thread_ts && succeeded(call));
}

/** Waits for the emulator's state (not only its calls) to satisfy `predicate`. */
function waitUntil<T>(
  emulator: SlackEmulator,
  predicate: () => T,
  timeoutMs = 15_000,
): Promise<NonNullable<T>> {
  return emulator.waitFor(() => predicate(), timeoutMs);
}

function startButton(card: EmulatedMessage): BlockActionInput {
  const control = element(card.blocks, 'incident.start_diagnosis');
  return {
    action_id: 'incident.start_diagnosis',
    block_id: actionsBlock(card.blocks)!.block_id!,
    value: control.value!,
  };
}

/** The answer button labelled `label` on a question message. */
function answerButton(message: EmulatedMessage, label: string): BlockActionInput {
  const block = blocksOf(message.blocks).find((b) => b.block_id?.startsWith('diagnosis_question:'));
  const button = block?.elements?.find((e) => e.text?.text === label);
  if (!block || !button) throw new Error(`no answer "${label}" on ${text(message.blocks)}`);
  return { action_id: button.action_id!, block_id: block.block_id!, value: button.value! };
}

async function sessionOf(flow: SlackFlow, incidentId: number): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { incident } = (await incidentDetail(flow.service, incidentId)) as IncidentDetailJson & {
      incident: { diagnosis: { sessionId: number } | null };
    };
    if (incident.diagnosis) return incident.diagnosis.sessionId;
    if (Date.now() > deadline) throw new Error(`INC-${incidentId} has no diagnosis`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits until the incident's diagnosis stands at `node`. */
async function nodeReached(flow: SlackFlow, incidentId: number, node: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { incident } = (await incidentDetail(flow.service, incidentId)) as IncidentDetailJson & {
      incident: { diagnosis: { node: string } | null };
    };
    if (incident.diagnosis?.node === node) return;
    if (Date.now() > deadline) throw new Error(`INC-${incidentId} never reached ${node}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Reply {
  response_type?: string;
  replace_original?: boolean;
  text: string;
}

/** Runs `/aisre <text>` and returns the private reply. */
async function aisre(
  flow: SlackFlow,
  command: string,
  channelId: string,
  userId = 'U0ALICE',
): Promise<Reply> {
  const reply = responseUrl(flow.emulator);
  const response = await flow.slack(
    slashCommandBody({ text: command, userId, channelId, responseUrl: reply.url }),
  );
  expect(response.status).toBe(200);
  const body = (await reply.reply()).body as Reply;
  expect(body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
  return body;
}

describe(`diagnosis in Slack (${TEST_DB_KIND})`, { timeout: 60_000 }, () => {
  it('runs the tree from the card’s Start diagnosis button, one thread message per step, edited in place', async () => {
    const { flow, prom } = await start();
    const { emulator, service } = flow;
    const since = startedAt();
    serveScenarioMetrics(prom, scenarioNamed('index-job-failing'), {
      service: 'rag-assistant',
      cutoff: since,
    });
    // One triage check answers slowly, so its step is posted before every result is in.
    prom.respond((query) => query.includes('rag_retrieval_hit_ratio'), {
      delayMs: 3000,
      answer: [{ labels: {}, value: 0.66 }],
    });
    const { id, channelId, card } = await openIncident(flow, { startsAt: since.toISOString() });
    expect(threadMessages(emulator, channelId, card.ts)).toEqual([]);

    const clicked = await flow.slack(click(card, channelId, 'U0ALICE', startButton(card)));
    expect(clicked.status).toBe(200);
    const sessionId = await sessionOf(flow, id);

    // Step 1 appears under the card while its checks run…
    const firstPost = await waitUntil(emulator, () => threadPosts(emulator, channelId, card.ts)[0]);
    expect(firstPost.args.text).toBe('Diagnosis step 1: Which layer failed? (running checks)');
    expect(text(firstPost.args.blocks)).toContain('⏳ *Retrieval hit rate* running…');
    // …and the card says so, without its Start diagnosis button.
    const running = await waitForUpdate(emulator, card.ts, (blocks) =>
      text(blocks).includes('🔎 *Diagnosing:* running the checks of “Which layer failed?”'),
    );
    expect(controlLabels(running.args.blocks)).not.toContain('Start diagnosis');

    // The card ends on the conclusion.
    const concluded = await waitForUpdate(emulator, card.ts, (blocks) =>
      text(blocks).includes('🎯 *Diagnosis: retrieval layer* · data failure'),
    );
    expect(text(concluded.args.blocks)).toContain('*Recommended:* `http.webhook`');
    expect(controlLabels(concluded.args.blocks)).toContain('Start diagnosis');
    await service.aisre.diagnosis.settled(sessionId);
    await waitUntil(emulator, () =>
      threadMessages(emulator, channelId, card.ts)[0]?.blocks?.some((b) =>
        JSON.stringify(b).includes('➡️ *Retrieval - what broke it?*'),
      ),
    );
    await waitUntil(emulator, () => threadMessages(emulator, channelId, card.ts).length === 3);
    await service.aisre.outbox.drain();

    // One message per step, posted once each, in order, in the card's thread.
    const posts = threadPosts(emulator, channelId, card.ts);
    expect(posts.map((post) => post.args.text)).toEqual([
      'Diagnosis step 1: Which layer failed? (running checks)',
      expect.stringMatching(/^Diagnosis step 2: Retrieval - what broke it\? \(/),
      expect.stringMatching(/^Diagnosis concluded: retrieval layer\. The index has not refreshed/),
    ]);
    const [triage, retrieval, conclusion] = threadMessages(emulator, channelId, card.ts);
    expect(topLevelPosts(emulator, channelId)).toHaveLength(1);

    // Step 1 was edited in place as its checks finished: every result, then the move.
    expect(updatesOf(emulator, triage!.ts).length).toBeGreaterThanOrEqual(1);
    const triageText = text(triage!.blocks);
    expect(triageText).not.toContain('running…');
    expect(triageText).toContain('❌ *Retrieval hit rate* · fail');
    expect(triageText).toContain('✅ *Online eval pass rate* · pass');
    expect(triageText).toContain('service=\\"rag-assistant\\"');
    expect(triageText).toContain('➡️ *Retrieval - what broke it?* · retrieval hit rate dropped');
    expect(text(retrieval!.blocks)).toContain('❌ *Index freshness* · fail');
    expect(text(retrieval!.blocks)).toContain('➡️ *Index stale* · the index has not refreshed for over a day');
    const conclusionText = text(conclusion!.blocks);
    expect(conclusionText).toContain('🎯 *Step 3 · Index stale*');
    expect(conclusionText).toContain(`"block_id":"diagnosis_override:${sessionId}"`);

    const { timeline } = await incidentDetail(service, id);
    expect(timeline.filter((e) => e.kind.startsWith('diagnosis.')).map((e) => [e.kind, e.actor])).toEqual([
      ['diagnosis.started', 'slack:U0ALICE'],
      ['diagnosis.step', 'system'],
      ['diagnosis.step', 'system'],
      ['diagnosis.concluded', 'system'],
    ]);
  });

  it('lets one of two simultaneous answers move the tree and tells the other privately who was first', async () => {
    const { flow } = await start();
    const { emulator, service } = flow;
    // No metrics at all: the tree asks at triage.
    const { id, channelId, card } = await openIncident(flow, { startsAt: startedAt().toISOString() });
    await flow.slack(click(card, channelId, 'U0ALICE', startButton(card)));
    const sessionId = await sessionOf(flow, id);
    await service.aisre.diagnosis.settled(sessionId);
    const question = await waitUntil(emulator, () =>
      threadMessages(emulator, channelId, card.ts).find((message) =>
        text(message.blocks).includes(`"block_id":"diagnosis_question:${sessionId}:1"`),
      ),
    );
    expect(text(question.blocks)).toContain(
      '🙋 *The checks could not tell which layer failed. Which one looks broken to you?*',
    );
    await waitForUpdate(emulator, card.ts, (blocks) =>
      text(blocks).includes('🙋 *Diagnosis needs an answer* at “Which layer failed?”'),
    );

    const clicks = [
      { user: 'U0ALICE', label: 'Retrieval', next: 'Retrieval - what broke it?' },
      { user: 'U0BOB', label: 'Not an AI-layer problem', next: 'Not an AI-layer failure' },
    ].map((c) => ({ ...c, reply: responseUrl(emulator) }));
    const responses = await Promise.all(
      clicks.map((c) =>
        flow.slack(click(question, channelId, c.user, answerButton(question, c.label), c.reply.url)),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual([200, 200]);

    // Exactly one of them hears back: the one who was second.
    const reply = await waitUntil(emulator, () => emulator.responses[0]);
    await service.aisre.diagnosis.settled(sessionId);
    await service.aisre.outbox.drain();
    expect(emulator.responses).toHaveLength(1);
    const loser = clicks.find((c) => c.reply.url.endsWith(`/${reply.id}`))!;
    const winner = clicks.find((c) => c !== loser)!;
    expect(reply.body).toEqual({
      response_type: 'ephemeral',
      replace_original: false,
      text: `<@${winner.user}> already answered “${winner.label}”.`,
    });

    // The question is replaced by the move, in place; the tree moved once, the winner's way.
    const answered = await waitUntil(emulator, () => {
      const blocks = threadMessages(emulator, channelId, card.ts)[0]!.blocks;
      return text(blocks).includes('➡️') ? blocks : undefined;
    });
    expect(text(answered)).toContain(`➡️ *${winner.next}* · answered “${winner.label}” (<@${winner.user}>)`);
    expect(text(answered)).not.toContain('diagnosis_question:');
    await waitUntil(emulator, () => threadMessages(emulator, channelId, card.ts).length === 2);
    await service.aisre.outbox.drain();
    expect(threadPosts(emulator, channelId, card.ts)).toHaveLength(2);
    expect(threadMessages(emulator, channelId, card.ts)[1]!.text).toContain(
      winner.user === 'U0ALICE' ? 'Diagnosis step 2: Retrieval' : 'Diagnosis concluded: infrastructure layer',
    );
    const { timeline } = await incidentDetail(service, id);
    const moves = timeline.filter((entry) => entry.kind === 'diagnosis.step');
    expect(moves).toHaveLength(1);
    expect(moves[0]).toMatchObject({
      actor: `slack:${winner.user}`,
      data: { from: 'triage', via: 'answer' },
    });
  });

  it('moves a conclusion with the override menu and records it on the timeline', async () => {
    const { flow, prom } = await start();
    const { emulator, service } = flow;
    const since = startedAt();
    serveScenarioMetrics(prom, scenarioNamed('index-job-failing'), {
      service: 'rag-assistant',
      cutoff: since,
    });
    const { id, channelId, card } = await openIncident(flow, { startsAt: since.toISOString() });
    await flow.slack(click(card, channelId, 'U0ALICE', startButton(card)));
    const sessionId = await sessionOf(flow, id);
    expect(await service.aisre.diagnosis.settled(sessionId)).toMatchObject({ currentNode: 'index_stale' });
    const conclusion = await waitUntil(emulator, () =>
      threadMessages(emulator, channelId, card.ts).find((message) =>
        text(message.blocks).includes(`"block_id":"diagnosis_override:${sessionId}"`),
      ),
    );
    const menu = blocksOf(conclusion.blocks).find((b) => b.block_id === `diagnosis_override:${sessionId}`)!;
    const accessory = (menu as { accessory?: { action_id: string; options: Array<{ value: string }> } })
      .accessory!;
    expect(accessory.action_id).toBe('diagnosis.override');
    expect(accessory.options.map((o) => o.value)).toContain('generation');

    // Carol thinks it is the prompt: she sends the diagnosis to the generation node.
    const carol = responseUrl(emulator);
    const picked = await flow.slack(
      click(
        conclusion,
        channelId,
        'U0CAROL',
        {
          action_id: 'diagnosis.override',
          block_id: `diagnosis_override:${sessionId}`,
          selected_option: { value: 'generation' },
        },
        carol.url,
      ),
    );
    expect(picked.status).toBe(200);
    // Slack is acknowledged first; the override runs right after.
    await nodeReached(flow, id, 'generation');
    const moved = await service.aisre.diagnosis.settled(sessionId);
    expect(moved).toMatchObject({ status: 'waiting', currentNode: 'generation' });

    // The conclusion message now says where it went and by whom, and offers no menu.
    const edited = await waitForUpdate(emulator, conclusion.ts, (blocks) => text(blocks).includes('➡️'));
    expect(text(edited.args.blocks)).toContain(
      '➡️ *Generation - prompt, model output or evals?* · overridden (<@U0CAROL>)',
    );
    expect(text(edited.args.blocks)).not.toContain('diagnosis_override:');
    // The generation node ran its checks in a new step of the same thread.
    const step4 = await waitUntil(emulator, () =>
      threadMessages(emulator, channelId, card.ts).find((message) =>
        message.text.startsWith('Diagnosis step 4: Generation'),
      ),
    );
    await waitUntil(emulator, () => {
      const latest = threadMessages(emulator, channelId, card.ts).find((m) => m.ts === step4.ts);
      return text(latest?.blocks).includes('*Eval pass rate against yesterday* · pass');
    });
    await waitForUpdate(emulator, card.ts, (blocks) =>
      text(blocks).includes(
        '🙋 *Diagnosis needs an answer* at “Generation - prompt, model output or evals?”',
      ),
    );
    const { timeline } = await incidentDetail(service, id);
    const overridden = timeline.filter((entry) => entry.kind === 'diagnosis.overridden');
    expect(overridden).toHaveLength(1);
    expect(overridden[0]).toMatchObject({
      actor: 'slack:U0CAROL',
      data: { sessionId, from: 'index_stale', to: 'generation', via: 'override' },
    });
    expect(emulator.responses).toEqual([]);

    // A value the runbook does not know is refused, privately.
    const bob = responseUrl(emulator);
    await flow.slack(
      click(
        conclusion,
        channelId,
        'U0BOB',
        {
          action_id: 'diagnosis.override',
          block_id: `diagnosis_override:${sessionId}`,
          selected_option: { value: 'nowhere' },
        },
        bob.url,
      ),
    );
    expect((await bob.reply()).body).toMatchObject({
      response_type: 'ephemeral',
      text: ':warning: The runbook has no node "nowhere".',
    });
    expect((await service.aisre.diagnosis.settled(sessionId)).currentNode).toBe('generation');
  });

  it('starts with `/aisre diagnose INC-n` and says so when a diagnosis already runs', async () => {
    const { flow } = await start();
    const { emulator, service } = flow;
    const { id, channelId, card } = await openIncident(flow, { startsAt: startedAt().toISOString() });

    const unknown = await aisre(flow, `diagnose INC-${id} no_such_runbook`, INCIDENTS_CHANNEL);
    expect(unknown.text).toBe(
      ':warning: There is no runbook "no_such_runbook". Known runbooks: ai_incident.',
    );

    const started = await aisre(flow, `diagnose INC-${id}`, INCIDENTS_CHANNEL);
    expect(started.text).toBe(`Diagnosing INC-${id} with runbook "AI incident triage".`);
    const sessionId = await sessionOf(flow, id);
    // No data: it waits for an answer, so it is still under way.
    expect(await service.aisre.diagnosis.settled(sessionId)).toMatchObject({ status: 'waiting' });

    // Again, from inside the incident channel where the incident is implied.
    const again = await aisre(flow, 'diagnose', channelId, 'U0BOB');
    expect(again.text).toBe(`INC-${id} is already being diagnosed with runbook "ai_incident".`);
    // The card's button, clicked on a copy from before the diagnosis started, says the same.
    const bob = responseUrl(emulator);
    await flow.slack(click(card, channelId, 'U0BOB', startButton(card), bob.url));
    expect((await bob.reply()).body).toMatchObject({
      response_type: 'ephemeral',
      text: `INC-${id} is already being diagnosed with runbook "ai_incident".`,
    });

    await waitUntil(emulator, () => threadMessages(emulator, channelId, card.ts).length === 1);
    await service.aisre.outbox.drain();
    expect(threadPosts(emulator, channelId, card.ts)).toHaveLength(1);
    const detail = await incidentDetail(service, id);
    expect(detail.incident).toMatchObject({ status: 'investigating', commanderId: 'U0ALICE' });
    expect(detail.timeline.filter((entry) => entry.kind === 'diagnosis.started')).toHaveLength(1);
  });
});
