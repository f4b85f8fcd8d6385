import type { AddressInfo } from 'node:net';
import { App, verifySlackRequest, webApi } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SlackEmulator, SlackEmulatorOptions } from '../../support/slack-emulator.js';
import {
  EMULATOR_BOT_USER_ID,
  EMULATOR_DEFAULT_TOKEN,
  startSlackEmulator,
} from '../../support/slack-emulator.js';
import {
  blockActionsBody,
  eventBody,
  postSigned,
  signSlackRequest,
  slashCommandBody,
  viewSubmissionBody,
} from '../../support/slack-requests.js';

const { WebClient } = webApi;

const noop = () => {};
/** WebClient logs the `[ERROR]` lines of refusals this suite provokes on purpose. */
const silentLogger: webApi.Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  setLevel: noop,
  getLevel: () => webApi.LogLevel.ERROR,
  setName: noop,
};

let emulator: SlackEmulator;

async function start(options: SlackEmulatorOptions = {}): Promise<webApi.WebClient> {
  emulator = await startSlackEmulator({ channels: [{ id: 'C0INCIDENTS', name: 'incidents' }], ...options });
  return client(EMULATOR_DEFAULT_TOKEN);
}

function client(token: string | undefined): webApi.WebClient {
  return new WebClient(token, {
    slackApiUrl: emulator.apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logger: silentLogger,
  });
}

/** The rejection of `promise`, so tests can assert on the fields WebClient puts on its errors. */
async function failure(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error as Record<string, unknown>,
  );
  if (!outcome) throw new Error('expected the call to fail');
  return outcome;
}

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });

describe('Slack emulator with WebClient', () => {
  let slack: webApi.WebClient;
  beforeEach(async () => {
    slack = await start();
  });
  afterEach(async () => {
    await emulator.close();
  });

  it('answers auth.test as the bot', async () => {
    const auth = await slack.auth.test();
    expect(auth).toMatchObject({ ok: true, user_id: 'U0BOT', bot_id: 'B0BOT' });
  });

  it('posts a message and updates it in place', async () => {
    const posted = await slack.chat.postMessage({
      channel: 'C0INCIDENTS',
      text: 'SEV2 opened',
      blocks: [section('*SEV2*')],
    });
    expect(posted.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(posted.message).toMatchObject({ text: 'SEV2 opened', user: EMULATOR_BOT_USER_ID });

    const updated = await slack.chat.update({
      channel: 'C0INCIDENTS',
      ts: posted.ts!,
      text: 'SEV2 resolved',
    });
    expect(updated).toMatchObject({ ok: true, ts: posted.ts, text: 'SEV2 resolved' });
    expect(emulator.messages('incidents')).toHaveLength(1);
    // Blocks survive an update that does not send them, as on Slack.
    expect(emulator.lastMessage('C0INCIDENTS')).toMatchObject({
      ts: posted.ts,
      text: 'SEV2 resolved',
      blocks: [section('*SEV2*')],
    });
    expect(emulator.callsTo('chat.postMessage')[0]?.args.blocks).toEqual([section('*SEV2*')]);
  });

  it('refuses to update what is missing or not the bot’s', async () => {
    const human = emulator.seedMessage('incidents', { text: 'hi', user: 'U0ALICE' });
    await expect(
      slack.chat.update({ channel: 'C0INCIDENTS', ts: '1.000001', text: 'x' }),
    ).rejects.toMatchObject({
      data: { error: 'message_not_found' },
    });
    await expect(
      slack.chat.update({ channel: 'C0INCIDENTS', ts: human.ts, text: 'x' }),
    ).rejects.toMatchObject({
      data: { error: 'cant_update_message' },
    });
  });

  it('threads replies and rejects unknown parents', async () => {
    const parent = await slack.chat.postMessage({ channel: 'C0INCIDENTS', text: 'parent' });
    const reply = await slack.chat.postMessage({
      channel: 'C0INCIDENTS',
      text: 'reply',
      thread_ts: parent.ts!,
    });
    expect(reply.message?.thread_ts).toBe(parent.ts);
    await expect(
      slack.chat.postMessage({ channel: 'C0INCIDENTS', text: 'orphan', thread_ts: '1.000001' }),
    ).rejects.toMatchObject({ data: { error: 'thread_not_found' } });
    const link = await slack.chat.getPermalink({ channel: 'C0INCIDENTS', message_ts: reply.ts! });
    expect(link.permalink).toContain(`thread_ts=${parent.ts}`);
  });

  it('answers channel and content errors', async () => {
    await expect(slack.chat.postMessage({ channel: 'C0NOPE', text: 'x' })).rejects.toMatchObject({
      code: 'slack_webapi_platform_error',
      data: { error: 'channel_not_found' },
    });
    await expect(slack.chat.postMessage({ channel: 'C0INCIDENTS', text: '' })).rejects.toMatchObject({
      data: { error: 'no_text' },
    });
    await expect(
      slack.chat.postMessage({ channel: 'C0INCIDENTS', text: 'x'.repeat(40_001) }),
    ).rejects.toMatchObject({
      data: { error: 'msg_too_long' },
    });
    emulator.channel('incidents')!.archived = true;
    await expect(slack.chat.postMessage({ channel: 'C0INCIDENTS', text: 'x' })).rejects.toMatchObject({
      data: { error: 'is_archived' },
    });
  });

  it('creates channels with the bot as a member and rejects taken or invalid names', async () => {
    const created = await slack.conversations.create({ name: 'inc-42-gpu-oom' });
    expect(created.channel).toMatchObject({ name: 'inc-42-gpu-oom', is_member: true });
    expect(created.channel?.id).toMatch(/^C[A-Z0-9]{10}$/);
    expect(emulator.channel('inc-42-gpu-oom')?.members).toEqual([EMULATOR_BOT_USER_ID]);

    const errorFor = async (name: string) =>
      (await failure(slack.conversations.create({ name }))).data as { error: string };
    expect(await errorFor('inc-42-gpu-oom')).toMatchObject({ error: 'name_taken' });
    expect(await errorFor('Inc 42')).toMatchObject({ error: 'invalid_name_specials' });
    expect(await errorFor('x'.repeat(81))).toMatchObject({ error: 'invalid_name_maxlength' });
    expect(await errorFor('')).toMatchObject({ error: 'invalid_name_required' });
  });

  it('answers restricted_action while channel creation is restricted', async () => {
    emulator.setRestrictChannelCreation(true);
    await expect(slack.conversations.create({ name: 'inc-1' })).rejects.toMatchObject({
      data: { error: 'restricted_action' },
    });
    emulator.setRestrictChannelCreation(false);
    await expect(slack.conversations.create({ name: 'inc-1' })).resolves.toMatchObject({ ok: true });
  });

  it('invites users all-or-nothing', async () => {
    const channel = 'C0INCIDENTS';
    await expect(slack.conversations.invite({ channel, users: 'U0ALICE,U0NOBODY' })).rejects.toMatchObject({
      data: { error: 'user_not_found', errors: [{ user: 'U0NOBODY', ok: false, error: 'user_not_found' }] },
    });
    expect(emulator.channel(channel)?.members).toEqual([EMULATOR_BOT_USER_ID]);
    await expect(slack.conversations.invite({ channel, users: EMULATOR_BOT_USER_ID })).rejects.toMatchObject({
      data: { error: 'cant_invite_self' },
    });

    await slack.conversations.invite({ channel, users: 'U0ALICE' });
    // Partly new is a success; only nobody new is already_in_channel.
    await slack.conversations.invite({ channel, users: 'U0ALICE,U0BOB' });
    expect(emulator.channel(channel)?.members).toEqual([EMULATOR_BOT_USER_ID, 'U0ALICE', 'U0BOB']);
    await expect(slack.conversations.invite({ channel, users: 'U0ALICE,U0BOB' })).rejects.toMatchObject({
      data: { error: 'already_in_channel' },
    });
  });

  it('joins, sets topics and describes channels', async () => {
    emulator.seedChannel({ id: 'C0RANDOM', name: 'random', members: [] });
    await expect(slack.conversations.setTopic({ channel: 'C0RANDOM', topic: 'x' })).rejects.toMatchObject({
      data: { error: 'not_in_channel' },
    });
    await slack.conversations.join({ channel: 'C0RANDOM' });
    await expect(slack.conversations.join({ channel: 'C0RANDOM' })).resolves.toMatchObject({
      warning: 'already_in_channel',
    });
    await slack.conversations.setTopic({ channel: 'C0RANDOM', topic: 'SEV1: GPU OOM' });
    const info = await slack.conversations.info({ channel: 'C0RANDOM', include_num_members: true });
    expect(info.channel).toMatchObject({
      topic: { value: 'SEV1: GPU OOM' },
      num_members: 1,
      is_member: true,
    });
  });

  it('answers invalid_blocks with Slack-style pointers', async () => {
    const tooMany = Array.from({ length: 51 }, (_, i) => section(`block ${i}`));
    const manyError = await failure(
      slack.chat.postMessage({ channel: 'C0INCIDENTS', text: 'x', blocks: tooMany }),
    );
    expect(manyError.data).toMatchObject({
      error: 'invalid_blocks',
      errors: ['no more than 50 items allowed [json-pointer:/blocks]'],
    });

    const long = [section('ok'), section('y'.repeat(3001))];
    const longError = await failure(
      slack.chat.postMessage({ channel: 'C0INCIDENTS', text: 'x', blocks: long }),
    );
    expect(longError.data).toMatchObject({
      error: 'invalid_blocks',
      errors: ['must be less than 3001 characters [json-pointer:/blocks/1/text/text]'],
      response_metadata: {
        messages: ['[ERROR] must be less than 3001 characters [json-pointer:/blocks/1/text/text]'],
      },
    });

    const mixed = [
      { type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } },
      {
        type: 'actions',
        block_id: 'a',
        elements: [{ type: 'button', action_id: 'b', text: { type: 'plain_text', text: 'b'.repeat(76) } }],
      },
      {
        type: 'context',
        block_id: 'a',
        elements: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'c' })),
      },
      { type: 'sectoin' },
    ];
    const mixedError = await failure(
      slack.chat.update({ channel: 'C0INCIDENTS', ts: '1.000001', blocks: mixed }),
    );
    expect((mixedError.data as { errors: string[] }).errors).toEqual([
      'must be less than 151 characters [json-pointer:/blocks/0/text/text]',
      'must be less than 76 characters [json-pointer:/blocks/1/elements/0/text/text]',
      'duplicate block_id [json-pointer:/blocks/2/block_id]',
      'no more than 10 items allowed [json-pointer:/blocks/2/elements]',
      'unsupported type: sectoin [json-pointer:/blocks/3/type]',
    ]);
  });

  it('answers msg_blocks_too_long past the configured JSON size', async () => {
    await emulator.close();
    slack = await start({ maxBlocksJsonChars: 100 });
    await expect(
      slack.chat.postMessage({ channel: 'C0INCIDENTS', text: 'x', blocks: [section('z'.repeat(100))] }),
    ).rejects.toMatchObject({ data: { error: 'msg_blocks_too_long' } });
  });

  it('rate limits chat.postMessage per channel after a burst, as WebClient’s rate-limited error', async () => {
    for (let i = 0; i < 5; i++) await slack.chat.postMessage({ channel: 'C0INCIDENTS', text: `update ${i}` });
    const limited = await failure(slack.chat.postMessage({ channel: 'C0INCIDENTS', text: 'one too many' }));
    expect(limited).toMatchObject({ code: 'slack_webapi_rate_limited_error', retryAfter: 1 });
    expect(emulator.calls.at(-1)).toMatchObject({
      status: 429,
      response: { ok: false, error: 'ratelimited' },
    });
    // Other channels, here the DM Slack opens when posting to a user id, have their own budget.
    await expect(slack.chat.postMessage({ channel: 'U0ALICE', text: 'dm' })).resolves.toMatchObject({
      channel: expect.stringMatching(/^D[A-Z0-9]{10}$/),
    });
  });

  it('applies per-method tier limits', async () => {
    await emulator.close();
    slack = await start({ rateLimits: { 'users.info': 2 } });
    await slack.users.info({ user: 'U0ALICE' });
    await slack.users.info({ user: 'U0BOB' });
    const limited = await failure(slack.users.info({ user: 'U0CAROL' }));
    expect(limited).toMatchObject({ code: 'slack_webapi_rate_limited_error' });
    expect(limited.retryAfter).toBeGreaterThanOrEqual(59);
  });

  it('injects failures', async () => {
    emulator.failNext('chat.postMessage', { status: 429, retryAfter: 7 });
    emulator.failNext('chat.postMessage', { error: 'fatal_error' });
    emulator.failNext('chat.postMessage', { status: 503 });
    emulator.failNext('chat.postMessage', { drop: true });
    const post = () => slack.chat.postMessage({ channel: 'C0INCIDENTS', text: 'x' });
    expect(await failure(post())).toMatchObject({ code: 'slack_webapi_rate_limited_error', retryAfter: 7 });
    expect(await failure(post())).toMatchObject({
      code: 'slack_webapi_platform_error',
      data: { error: 'fatal_error' },
    });
    expect(await failure(post())).toMatchObject({ code: 'slack_webapi_http_error', statusCode: 503 });
    expect(await failure(post())).toMatchObject({ code: 'slack_webapi_request_error' });
    await expect(post()).resolves.toMatchObject({ ok: true });
    expect(emulator.callsTo('chat.postMessage').map((c) => c.status)).toEqual([429, 200, 503, null, 200]);
  });

  it('fails every call as a request error during an outage', async () => {
    emulator.setOutage(true);
    await expect(slack.auth.test()).rejects.toMatchObject({ code: 'slack_webapi_request_error' });
    await expect(fetch(emulator.responseUrl(), { method: 'POST', body: '{}' })).rejects.toThrow();
    emulator.setOutage(false);
    await expect(slack.auth.test()).resolves.toMatchObject({ ok: true });
  });

  it('answers not_authed without a token and invalid_auth with a wrong one', async () => {
    await expect(client(undefined).auth.test()).rejects.toMatchObject({ data: { error: 'not_authed' } });
    await expect(client('xoxb-wrong').auth.test()).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
  });

  it('lists user group members', async () => {
    await emulator.close();
    slack = await start({ userGroups: { S0ONCALL: ['U0ALICE', 'U0BOB'] } });
    await expect(slack.usergroups.users.list({ usergroup: 'S0ONCALL' })).resolves.toMatchObject({
      users: ['U0ALICE', 'U0BOB'],
    });
    await expect(slack.usergroups.users.list({ usergroup: 'S0NOPE' })).rejects.toMatchObject({
      data: { error: 'no_such_subteam' },
    });
  });

  it('opens, updates and pushes views, and publishes home tabs', async () => {
    const modal = {
      type: 'modal' as const,
      callback_id: 'declare',
      title: { type: 'plain_text' as const, text: 'Declare incident' },
      submit: { type: 'plain_text' as const, text: 'Declare' },
      blocks: [
        {
          type: 'input',
          block_id: 'title',
          label: { type: 'plain_text' as const, text: 'Title' },
          element: { type: 'plain_text_input', action_id: 'value' },
        },
      ],
    };
    await expect(slack.views.open({ trigger_id: '', view: modal })).rejects.toMatchObject({
      data: {
        error: 'invalid_arguments',
        response_metadata: { messages: ['[ERROR] missing required field: trigger_id'] },
      },
    });
    const { submit: _, ...unsubmittable } = modal;
    await expect(slack.views.open({ trigger_id: '1.2.abc', view: unsubmittable })).rejects.toMatchObject({
      data: {
        response_metadata: {
          messages: [
            '[ERROR] must define `submit` to use an `input` block in modals [json-pointer:/view/blocks/0/input]',
          ],
        },
      },
    });
    const opened = await slack.views.open({ trigger_id: '1.2.abc', view: modal });
    expect(opened.view).toMatchObject({ callback_id: 'declare', root_view_id: opened.view?.id });

    const titled = { ...modal, title: { type: 'plain_text' as const, text: 'A title longer than 24 chars' } };
    await expect(slack.views.update({ view_id: opened.view!.id!, view: titled })).rejects.toMatchObject({
      data: { error: 'invalid_arguments' },
    });
    await expect(
      slack.views.update({ view_id: opened.view!.id!, hash: 'stale', view: modal }),
    ).rejects.toMatchObject({ data: { error: 'hash_conflict' } });
    await slack.views.update({ view_id: opened.view!.id!, hash: opened.view!.hash!, view: modal });

    const pushed = await slack.views.push({ trigger_id: '1.2.def', view: modal });
    expect(pushed.view).toMatchObject({ previous_view_id: opened.view?.id, root_view_id: opened.view?.id });

    const home = { type: 'home' as const, blocks: [section('On call: <@U0ALICE>')] };
    await slack.views.publish({ user_id: 'U0ALICE', view: home });
    expect(emulator.homeView('U0ALICE')?.blocks).toEqual(home.blocks);
  });

  it('records response_url posts', async () => {
    const url = emulator.responseUrl('cmd-1');
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Working on it', response_type: 'ephemeral' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    expect(emulator.responses).toEqual([
      { id: 'cmd-1', body: { text: 'Working on it', response_type: 'ephemeral' } },
    ]);
  });

  it('accepts JSON bodies, ignoring a token in them as Slack does', async () => {
    const call = (headers: Record<string, string>, body: unknown) =>
      fetch(`${emulator.apiUrl}chat.postMessage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
        body: JSON.stringify(body),
      }).then((res) => res.json());
    const args = { channel: 'incidents', blocks: [section('json')] };
    expect(await call({}, { ...args, token: EMULATOR_DEFAULT_TOKEN })).toEqual({
      ok: false,
      error: 'not_authed',
    });
    expect(await call({ authorization: `Bearer ${EMULATOR_DEFAULT_TOKEN}` }, args)).toMatchObject({
      ok: true,
      channel: 'C0INCIDENTS',
    });
    expect(emulator.lastMessage('incidents')?.blocks).toEqual([section('json')]);
  });

  it('answers unknown methods with unknown_method', async () => {
    await expect(slack.apiCall('incidents.declare')).rejects.toMatchObject({
      data: { error: 'unknown_method' },
    });
  });

  it('waitFor resolves on a matching call and explains a timeout', async () => {
    void slack.chat.postMessage({ channel: 'C0INCIDENTS', text: 'later' });
    const call = await emulator.waitFor((calls) => calls.find((c) => c.method === 'chat.postMessage'));
    expect(call.args.text).toBe('later');
    emulator.reset();
    expect(emulator.calls).toEqual([]);
    expect(emulator.messages('incidents')).toHaveLength(1);

    await slack.auth.test();
    await expect(emulator.waitFor(() => false, 50)).rejects.toThrow(
      /timed out after 50ms; 1 call\(s\) seen:\n {2}auth.test → 200 ok/,
    );
  });
});

describe('Slack request signing', () => {
  const signingSecret = 'test-signing-secret';

  it('produces signatures Bolt verifies', () => {
    const body = slashCommandBody({
      text: 'declare GPU OOM',
      userId: 'U0ALICE',
      channelId: 'C0INCIDENTS',
      responseUrl: 'http://127.0.0.1/response/x',
    });
    const headers = signSlackRequest(signingSecret, body);
    const verify = (rawBody: string) =>
      verifySlackRequest({
        signingSecret,
        body: rawBody,
        headers: {
          'x-slack-signature': headers['x-slack-signature'],
          'x-slack-request-timestamp': Number(headers['x-slack-request-timestamp']),
        },
      });
    expect(() => verify(body)).not.toThrow();
    expect(() => verify(`${body}&text=tampered`)).toThrow(/signature mismatch/);
  });

  it('builds payloads shaped like Slack’s', () => {
    const actions = new URLSearchParams(
      blockActionsBody({
        userId: 'U0ALICE',
        channelId: 'C1',
        messageTs: '1.000001',
        actions: [{ action_id: 'ack', value: 'inc-1' }],
      }),
    );
    expect(JSON.parse(actions.get('payload')!)).toMatchObject({
      type: 'block_actions',
      user: { id: 'U0ALICE' },
      container: { type: 'message', message_ts: '1.000001', channel_id: 'C1' },
      channel: { id: 'C1' },
      actions: [{ action_id: 'ack', value: 'inc-1', type: 'button' }],
    });

    const submission = new URLSearchParams(
      viewSubmissionBody({
        userId: 'U0ALICE',
        callbackId: 'declare',
        values: { title: { value: 'GPU OOM' }, severity: { choice: { selected: 'sev1', text: 'SEV1' } } },
      }),
    );
    expect(JSON.parse(submission.get('payload')!).view).toMatchObject({
      callback_id: 'declare',
      state: {
        values: {
          title: { value: { type: 'plain_text_input', value: 'GPU OOM' } },
          severity: {
            choice: { type: 'static_select', selected_option: { value: 'sev1', text: { text: 'SEV1' } } },
          },
        },
      },
    });

    expect(
      JSON.parse(eventBody({ event: { type: 'app_mention', text: 'hi' }, eventId: 'Ev1' })),
    ).toMatchObject({
      type: 'event_callback',
      event_id: 'Ev1',
      event: { type: 'app_mention', text: 'hi' },
    });
  });

  it('drives a Bolt app end to end against the emulator', async () => {
    const slackApi = await startSlackEmulator({ channels: [{ id: 'C0INCIDENTS', name: 'incidents' }] });
    const app = new App({
      token: EMULATOR_DEFAULT_TOKEN,
      signingSecret,
      clientOptions: { slackApiUrl: slackApi.apiUrl, retryConfig: { retries: 0 } },
      logLevel: webApi.LogLevel.ERROR,
    });
    app.command('/aisre', async ({ ack, respond, client: botClient, command }) => {
      await ack();
      await respond(`Declaring: ${command.text}`);
      await botClient.chat.postMessage({ channel: command.channel_id, text: `Incident: ${command.text}` });
    });
    const server = (await app.start({ port: 0, host: '127.0.0.1' })) as { address(): AddressInfo };
    try {
      const res = await postSigned(`http://127.0.0.1:${server.address().port}/slack/events`, {
        body: slashCommandBody({
          text: 'GPU OOM',
          userId: 'U0ALICE',
          channelId: 'C0INCIDENTS',
          responseUrl: slackApi.responseUrl('cmd'),
        }),
        signingSecret,
      });
      expect(res.status).toBe(200);
      await slackApi.waitFor(() => slackApi.lastMessage('incidents')?.text === 'Incident: GPU OOM');
      expect(slackApi.responses).toEqual([{ id: 'cmd', body: { text: 'Declaring: GPU OOM' } }]);

      const forged = await postSigned(`http://127.0.0.1:${server.address().port}/slack/events`, {
        body: slashCommandBody({
          text: 'x',
          userId: 'U0ALICE',
          channelId: 'C0INCIDENTS',
          responseUrl: 'http://x',
        }),
        signingSecret: 'wrong-secret',
      });
      expect(forged.status).toBe(401);
    } finally {
      await app.stop();
      await slackApi.close();
    }
  });
});
