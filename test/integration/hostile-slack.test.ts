import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/incidents/incident.js';
import { type ActionStand, AGENT_KEY, PROMPT, startActionStand } from '../support/action-support.js';
import { FUZZ, garbage, weirdString } from '../support/hostile-values.js';
import {
  listIncidents,
  openIncident,
  responseUrl,
  type SlackFlow,
  startSlackFlow,
} from '../support/slack-flow.js';
import {
  blockActionsBody,
  eventBody,
  postSigned,
  signSlackRequest,
  slashCommandBody,
  viewSubmissionBody,
} from '../support/slack-requests.js';
import { STATE_TABLES, tableSnapshot } from '../support/table-snapshot.js';
import { TEST_DB_KIND } from '../support/test-database.js';
import { SIGNING_SECRET } from '../support/test-service.js';

const ALICE: Actor = { kind: 'slack', userId: 'U0ALICE' };
/** In no list: may neither execute nor approve. */
const MALLORY = 'U0MALLORY';

let stand: ActionStand;
let flow: SlackFlow;
/** The incident every test acts on, its channel, and two action runs on it. */
let incident: { id: number; channelId: string; cardTs: string };
let runs: { previewed: number; awaitingApproval: number };

beforeAll(async () => {
  stand = await startActionStand();
  flow = await startSlackFlow({
    env: { ...stand.env, AISRE_ACTION_EXECUTORS: 'U0ALICE', AISRE_ACTION_APPROVERS: 'U0CAROL' },
  });
  const opened = await openIncident(flow, {
    labels: { service: 'svc-actions', prompt: PROMPT, litellm_key: AGENT_KEY },
  });
  incident = { id: opened.id, channelId: opened.channelId, cardTs: opened.card.ts };
  const { aisre } = flow.service;
  const started = await aisre.diagnosis.start(incident.id, ALICE);
  await aisre.diagnosis.settled(started.session!.id);
  const { sessionId } = (await aisre.actions.recommendations(incident.id))!;
  const previewed = await aisre.actions.preview(
    { incidentId: incident.id, recommendation: { sessionId, index: 0 } },
    ALICE,
  );
  const webhook = await aisre.actions.preview(
    { incidentId: incident.id, recommendation: { sessionId, index: 2 } },
    ALICE,
  );
  await aisre.actions.execute(webhook.id, ALICE);
  runs = { previewed: previewed.id, awaitingApproval: webhook.id };
}, 60_000);

afterAll(async () => {
  await flow?.dispose();
  await stand?.close();
});

/** Every state table once the Slack outbox is idle, so that only a request can change a row. */
async function settledSnapshot(): Promise<Record<string, string[]>> {
  await flow.service.aisre.outbox.drain();
  await flow.service.aisre.actions.settled();
  return tableSnapshot(flow.service.aisre.db.knex, STATE_TABLES);
}

/** What aisre privately told the person, and that it is a refusal they can act on. */
async function expectRefusal(reply: Promise<{ body: unknown }>): Promise<string> {
  const { body } = (await reply) as { body: { response_type?: string; text?: string } };
  expect(body.response_type).toBe('ephemeral');
  expect(body.text).not.toMatch(/Something went wrong/);
  return body.text ?? '';
}

/** A value that names nothing that exists: not a small id, so no generated click can hit a real record. */
const unknownValue = fc
  .oneof(
    weirdString,
    garbage.map((value) => JSON.stringify(value) ?? ''),
    fc.bigInt({ min: 1_000n, max: 10n ** 20n }).map(String),
    fc.constantFrom(
      '0',
      '-1',
      '1e3',
      '2147483648',
      '99999999999999999999',
      '{"incident":1,"session":1,"index":99}',
    ),
  )
  .filter((value) => !/^\s*[1-9]\d{0,2}\s*$/.test(value));

const BUTTONS = [
  'incident.acknowledge',
  'incident.start_diagnosis',
  'incident.resolve',
  'diagnosis.answer.0',
  'action.preview',
  'action.execute',
  'action.approve',
  'action.reject',
  'action.cancel',
  'action.undo',
  'postmortem.edit',
  'postmortem.redraft',
];
const MENUS = ['incident.change_severity', 'diagnosis.override', 'action.pick'];

describe(`hostile input from Slack (${TEST_DB_KIND})`, { timeout: 60_000 }, () => {
  it('answers every generated button and menu click it cannot act on with a clear private refusal, and changes nothing', async () => {
    const clicks = fc.oneof(
      fc.record({ action_id: fc.constantFrom(...BUTTONS), value: unknownValue }),
      fc.record({
        action_id: fc.constantFrom(...MENUS),
        block_id: fc.oneof(
          unknownValue,
          unknownValue.map((id) => `incident_actions:${id}`),
          unknownValue.map((id) => `action_pick:${id}`),
        ),
        selected_option: fc.record({
          value: fc.oneof(unknownValue, fc.constantFrom('SEV1', 'http.webhook')),
        }),
      }),
    );
    const triggerPrefix = fc.oneof(fc.constantFrom('\u0000', '\ud800'), weirdString);
    let clickCount = 0;
    const before = await settledSnapshot();
    await fc.assert(
      fc.asyncProperty(
        clicks,
        fc.constantFrom(MALLORY, 'U0ALICE'),
        triggerPrefix,
        async (action, userId, prefix) => {
          const reply = responseUrl(flow.emulator);
          const body = blockActionsBody({
            // Unique, or aisre would rightly take the click for a retry of an earlier one.
            triggerId: `${prefix}${++clickCount}`,
            userId,
            channelId: incident.channelId,
            messageTs: incident.cardTs,
            actions: [action],
            responseUrl: reply.url,
          });
          const response = await flow.slack(body);
          expect(response.status).toBe(200);
          await expectRefusal(reply.reply());
        },
      ),
      FUZZ,
    );
    expect(await settledSnapshot()).toEqual(before);
  });

  it('answers every generated /aisre command about no incident with a clear private reply, and changes nothing', async () => {
    const subcommands = fc.constantFrom(
      'status',
      'ack',
      'resolve',
      'mitigate',
      'cancel',
      'sev',
      'diagnose',
      'postmortem',
      'report',
      'list',
      'help',
      'bogus',
    );
    const commands = fc.record({
      text: fc
        .tuple(
          subcommands,
          fc.array(
            fc.oneof(
              unknownValue,
              unknownValue.map((id) => `INC-${id}`),
            ),
            { maxLength: 3 },
          ),
        )
        .map(([subcommand, args]) => [subcommand, ...args].join(' ')),
      channelId: fc.oneof(fc.constantFrom('C0ELSEWHERE', '\u0000'), weirdString),
    });
    const before = await settledSnapshot();
    await fc.assert(
      fc.asyncProperty(commands, async ({ text, channelId }) => {
        const reply = responseUrl(flow.emulator);
        const response = await flow.slack(
          slashCommandBody({ text, userId: MALLORY, channelId, responseUrl: reply.url }),
        );
        expect(response.status).toBe(200);
        const { body } = (await reply.reply()) as { body: { text?: string } };
        expect(body.text, text).not.toMatch(/Something went wrong/);
      }),
      FUZZ,
    );
    expect(await settledSnapshot()).toEqual(before);
  });

  it('keeps every generated modal submission it cannot act on from changing anything', async () => {
    const textInput = fc.oneof(weirdString, garbage);
    const submissions = fc.oneof(
      fc.record({
        callbackId: fc.constant('incident.declare'),
        // A modal Slack never rendered: no severity it offers, so nothing can be declared.
        values: fc.record({
          title: fc.record({ title: weirdString }),
          severity: fc.record({
            severity: fc.oneof(
              weirdString.map((selected) => ({ selected })),
              garbage.map((selected_option) => ({ type: 'static_select', selected_option })),
            ),
          }),
        }),
        privateMetadata: weirdString,
      }),
      fc.record({
        callbackId: fc.constant('action.params'),
        values: fc.record({
          params: fc.record({
            params: fc.oneof(
              weirdString,
              textInput.map((v) => JSON.stringify(v) ?? ''),
            ),
          }),
        }),
        privateMetadata: fc.oneof(
          weirdString,
          fc
            .record({ incidentId: fc.oneof(fc.integer({ min: 1_000 }), garbage), actionId: weirdString })
            .map((m) => JSON.stringify(m)),
        ),
      }),
      fc.record({
        callbackId: fc.constant('postmortem.edit_view'),
        values: fc.dictionary(
          weirdString,
          fc.dictionary(
            weirdString,
            weirdString.map((value) => value),
            { maxKeys: 2 },
          ),
          { maxKeys: 3 },
        ),
        privateMetadata: fc.oneof(
          weirdString,
          fc
            .record({ incidentId: fc.oneof(fc.integer({ min: 1_000 }), garbage) })
            .map((m) => JSON.stringify(m)),
        ),
      }),
    );
    const before = await settledSnapshot();
    await fc.assert(
      fc.asyncProperty(submissions, async (submission) => {
        const response = await flow.slack(viewSubmissionBody({ userId: MALLORY, ...submission }));
        expect(response.status).toBe(200);
        const text = await response.text();
        if (text) {
          const answer = JSON.parse(text) as { response_action?: string; errors?: Record<string, string> };
          expect(answer.response_action).toBe('errors');
          for (const message of Object.values(answer.errors ?? {})) expect(message).toMatch(/\w/);
        }
      }),
      FUZZ,
    );
    expect(await settledSnapshot()).toEqual(before);
  });

  it('acknowledges every generated event, whatever its ids and fields, and changes nothing', async () => {
    const events = fc.record({
      eventId: fc.oneof(fc.constantFrom('Ev\u0000', 'Ev\ud800'), weirdString),
      event: fc.record({
        type: fc.oneof(fc.constantFrom('app_home_opened', 'message', 'member_joined_channel'), weirdString),
        // Bolt itself reads `event.user.id` when `user` is null and answers 500, before any of
        // aisre's code runs; Slack always sends a user id, so only the shapes it sends are varied.
        user: fc.oneof(fc.constant(MALLORY), weirdString, fc.record({ id: weirdString })),
        tab: fc.oneof(fc.constantFrom('home', 'messages'), garbage),
        channel: fc.oneof(fc.constant(incident.channelId), weirdString),
      }),
    });
    const before = await settledSnapshot();
    await fc.assert(
      fc.asyncProperty(events, async (input) => {
        const response = await flow.slack(eventBody(input));
        expect(response.status).toBe(200);
      }),
      FUZZ,
    );
    expect(await settledSnapshot()).toEqual(before);
  });

  it('keeps what a person types into a modal, NUL and lone surrogates made storable rather than the submission lost', async () => {
    const declared = await flow.slack(
      viewSubmissionBody({
        userId: 'U0ALICE',
        callbackId: 'incident.declare',
        values: {
          title: { title: 'Answers\u0000 cite \ud800 nothing' },
          severity: { severity: { selected: 'SEV2' } },
          service: { service: 'svc\u0000' },
        },
      }),
    );
    expect(declared.status).toBe(200);
    await expect
      .poll(async () => (await listIncidents(flow.service)).map((listed) => listed.title), {
        timeout: 10_000,
      })
      .toContain('Answers\ufffd cite \ufffd nothing');

    const submitted = await flow.slack(
      viewSubmissionBody({
        userId: 'U0ALICE',
        callbackId: 'action.params',
        privateMetadata: JSON.stringify({ incidentId: incident.id, actionId: 'http.webhook' }),
        values: { params: { params: '{"webhook": "reindex", "body": {"note": "a\\u0000b"}}' } },
      }),
    );
    expect(await submitted.text()).toBe('');
    await expect
      .poll(async () => (await flow.service.aisre.actions.runs(incident.id)).map((run) => run.params.body), {
        timeout: 10_000,
      })
      .toContainEqual({ note: 'a\ufffdb' });
  });

  it('refuses unsigned, mis-signed, replayed and oversized requests before any listener runs', async () => {
    const events = `${flow.service.url}/slack/events`;
    const reply = responseUrl(flow.emulator);
    const body = blockActionsBody({
      userId: 'U0ALICE',
      channelId: incident.channelId,
      messageTs: incident.cardTs,
      actions: [{ action_id: 'incident.acknowledge', value: String(incident.id) }],
      responseUrl: reply.url,
    });
    const now = Math.floor(Date.now() / 1000);
    const valid = signSlackRequest(SIGNING_SECRET, body, now);
    const headers = fc.oneof(
      fc.record({ 'x-slack-signature': weirdString, 'x-slack-request-timestamp': fc.constant(String(now)) }),
      fc.record({
        'x-slack-signature': fc.constant(valid['x-slack-signature']),
        'x-slack-request-timestamp': weirdString,
      }),
      // The right signature for another moment, or another moment's signature replayed now.
      fc
        .integer({ min: 1, max: 10 ** 6 })
        .map((shift) => ({ ...valid, 'x-slack-request-timestamp': String(now - shift) })),
      fc.integer({ min: 301, max: 10 ** 6 }).map((age) => signSlackRequest(SIGNING_SECRET, body, now - age)),
      fc.tuple(fc.nat(), fc.constantFrom(...'0123456789abcdef')).map(([at, digit]) => {
        const hex = valid['x-slack-signature'].slice(3);
        const i = at % hex.length;
        const changed =
          hex.slice(0, i) + (hex[i] === digit ? (digit === '0' ? '1' : '0') : digit) + hex.slice(i + 1);
        return { ...valid, 'x-slack-signature': `v0=${changed}` };
      }),
    );
    // Only what an HTTP header can carry.
    const printable = (value: { 'x-slack-signature': string; 'x-slack-request-timestamp': string }) =>
      Object.values(value).every((text) => /^[\x20-\x7e]*$/.test(text));
    const before = await settledSnapshot();
    await fc.assert(
      fc.asyncProperty(headers.filter(printable), async (signature) => {
        const response = await fetch(events, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...signature },
          body,
        });
        // 431: Node refuses a header over 16 KB before Bolt sees the request.
        expect([401, 431]).toContain(response.status);
      }),
      FUZZ,
    );
    // The exact request Slack signed five minutes and one second ago, replayed now.
    const replayed = await postSigned(events, { body, signingSecret: SIGNING_SECRET, timestamp: now - 301 });
    expect(replayed.status).toBe(401);
    // Over Bolt's 4 MB limit: refused before the signature is even computed.
    const huge = `payload=${'x'.repeat(5 * 1024 * 1024)}`;
    expect((await postSigned(events, { body: huge, signingSecret: SIGNING_SECRET })).status).toBe(413);

    expect(await settledSnapshot()).toEqual(before);
    expect(flow.emulator.responses.map((response) => response.id)).not.toContain(reply.url.split('/').at(-1));
  });

  it('refuses people outside AISRE_ACTION_EXECUTORS and AISRE_ACTION_APPROVERS privately, and changes nothing', async () => {
    const click = async (userId: string, actionId: string, runId: number) => {
      const reply = responseUrl(flow.emulator);
      const response = await flow.slack(
        blockActionsBody({
          userId,
          channelId: incident.channelId,
          messageTs: incident.cardTs,
          actions: [{ action_id: actionId, block_id: `action_run:${runId}`, value: String(runId) }],
          responseUrl: reply.url,
        }),
      );
      expect(response.status).toBe(200);
      return expectRefusal(reply.reply());
    };
    const before = await settledSnapshot();
    const deliveries = stand.webhook.deliveries.length;
    const notExecutor = 'You are not allowed to execute actions. Ask someone in <@U0ALICE>.';
    const notApprover = 'You are not allowed to approve actions. Ask someone in <@U0CAROL>.';
    expect(await click(MALLORY, 'action.execute', runs.previewed)).toBe(`:warning: ${notExecutor}`);
    expect(await click(MALLORY, 'action.cancel', runs.previewed)).toBe(`:warning: ${notExecutor}`);
    expect(await click('U0BOB', 'action.approve', runs.awaitingApproval)).toBe(`:warning: ${notApprover}`);
    expect(await click('U0BOB', 'action.reject', runs.awaitingApproval)).toBe(`:warning: ${notApprover}`);
    expect(await click('U0ALICE', 'action.approve', runs.awaitingApproval)).toContain(
      'someone else has to approve it',
    );
    expect(await settledSnapshot()).toEqual(before);
    expect(stand.webhook.deliveries).toHaveLength(deliveries);
    expect(stand.langfuse.labelled(PROMPT, 'production')).toBe(3);
  });
});
