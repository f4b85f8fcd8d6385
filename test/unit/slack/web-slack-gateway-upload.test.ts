import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SlackCallError } from '../../../src/slack/slack-gateway.js';
import { createWebClient, WebSlackGateway } from '../../../src/slack/web-slack-gateway.js';
import type { SlackEmulator } from '../../support/slack-emulator.js';
import { EMULATOR_DEFAULT_TOKEN, startSlackEmulator } from '../../support/slack-emulator.js';

const INCIDENTS = 'C0INCIDENTS';
/** Non-ASCII throughout, so a length counted in characters instead of bytes would be refused. */
const POSTMORTEM = [
  '# INC-42 postmortem: eval pass rate fell to 71 %',
  '',
  '## Summary',
  'Retrieval returned stale documents after the nightly re-index — Zürich and 東京 both affected 📉.',
  '',
  '| time | event |',
  '|---|---|',
  '| 09:14 | alert `EvalPassRateLow` fired |',
].join('\n');

let emulator: SlackEmulator;
let gateway: WebSlackGateway;
let reported: Array<{ method: string; error: SlackCallError }>;

beforeEach(async () => {
  emulator = await startSlackEmulator({
    channels: [
      { id: INCIDENTS, name: 'incidents' },
      { id: 'C0ELSEWHERE', name: 'elsewhere', members: ['U0ALICE'] },
    ],
  });
  // The client main.ts builds: no retries of its own, rate limits rejected at once.
  const client = createWebClient({
    token: EMULATOR_DEFAULT_TOKEN,
    apiUrl: emulator.apiUrl,
    logger: pino({ level: 'silent' }),
  });
  reported = [];
  gateway = new WebSlackGateway(client, (method, error) => reported.push({ method, error }));
});

afterEach(async () => {
  await emulator.close();
});

async function uploadFailure(args: Partial<Parameters<WebSlackGateway['uploadFile']>[0]> = {}) {
  const outcome = await gateway
    .uploadFile({ channel: INCIDENTS, filename: 'inc-42.md', title: 'INC-42', content: 'x', ...args })
    .then(
      () => undefined,
      (error: unknown) => error,
    );
  if (!(outcome instanceof SlackCallError))
    throw new Error(`expected a SlackCallError, got ${String(outcome)}`);
  return outcome;
}

describe('WebSlackGateway.uploadFile against the Slack emulator', () => {
  it('shares the file in the channel through the external upload flow, byte for byte', async () => {
    const { fileId } = await gateway.uploadFile({
      channel: INCIDENTS,
      filename: 'inc-42-postmortem-v1.md',
      title: 'INC-42 postmortem v1',
      content: POSTMORTEM,
      initialComment: 'Postmortem draft v1',
    });

    expect(emulator.calls.map((call) => [call.method, call.status])).toEqual([
      ['files.getUploadURLExternal', 200],
      ['upload_url', 200],
      ['files.completeUploadExternal', 200],
    ]);
    expect(emulator.callsTo('files.getUploadURLExternal')[0]?.args).toMatchObject({
      filename: 'inc-42-postmortem-v1.md',
      length: String(Buffer.byteLength(POSTMORTEM)),
    });
    expect(emulator.files(INCIDENTS)).toEqual([
      expect.objectContaining({
        id: fileId,
        filename: 'inc-42-postmortem-v1.md',
        title: 'INC-42 postmortem v1',
        content: POSTMORTEM,
        initialComment: 'Postmortem draft v1',
      }),
    ]);
    expect(emulator.lastMessage(INCIDENTS)).toMatchObject({ text: 'Postmortem draft v1', files: [fileId] });
    expect(reported).toEqual([]);
  });

  it('shares the file as a reply in the thread it is given', async () => {
    const card = await gateway.postMessage({
      channel: INCIDENTS,
      message: { text: 'INC-42 resolved', blocks: [] },
    });
    const { fileId } = await gateway.uploadFile({
      channel: INCIDENTS,
      threadTs: card.ts,
      filename: 'inc-42.md',
      title: 'INC-42 postmortem',
      content: POSTMORTEM,
    });

    const [file] = emulator.files(INCIDENTS);
    expect(file).toMatchObject({ id: fileId, threadTs: card.ts, content: POSTMORTEM });
    expect(emulator.lastMessage(INCIDENTS)).toMatchObject({ thread_ts: card.ts, files: [fileId] });
  });

  it('fails for good on a channel that does not exist or that the bot is not in', async () => {
    const missing = await uploadFailure({ channel: 'C0NOSUCHCHAN' });
    expect(missing).toMatchObject({
      method: 'files.uploadV2',
      slackError: 'channel_not_found',
      retryable: false,
    });
    const outside = await uploadFailure({ channel: 'C0ELSEWHERE' });
    expect(outside).toMatchObject({ slackError: 'not_in_channel', retryable: false });

    expect(reported.map(({ method, error }) => [method, error.slackError])).toEqual([
      ['files.uploadV2', 'channel_not_found'],
      ['files.uploadV2', 'not_in_channel'],
    ]);
    expect(emulator.files(INCIDENTS)).toEqual([]);
  });

  it('fails for good when the SDK refuses the arguments before calling Slack', async () => {
    const refused = await uploadFailure({ content: 42 as unknown as string });
    expect(refused).toMatchObject({ slackError: 'invalid_arguments', retryable: false });
    expect(emulator.calls).toEqual([]);
  });

  it('surfaces a rate limit on completion as retryable after Retry-After, and a retry shares the file once', async () => {
    emulator.failNext('files.completeUploadExternal', { status: 429, retryAfter: 7 });
    const limited = await uploadFailure({ content: POSTMORTEM });
    expect(limited).toMatchObject({ slackError: 'ratelimited', retryable: true, retryAfterMs: 7000 });
    expect(emulator.files(INCIDENTS)).toEqual([]);

    await gateway.uploadFile({
      channel: INCIDENTS,
      filename: 'inc-42.md',
      title: 'INC-42',
      content: POSTMORTEM,
    });
    expect(emulator.files(INCIDENTS).map((file) => file.content)).toEqual([POSTMORTEM]);
  });

  it('retries outages at any step: a 5xx or a dropped connection', async () => {
    emulator.failNext('files.getUploadURLExternal', { status: 503 });
    expect(await uploadFailure()).toMatchObject({ slackError: 'http_503', retryable: true });

    emulator.failNext('upload_url', { status: 500 });
    expect(await uploadFailure()).toMatchObject({ slackError: 'http_500', retryable: true });

    emulator.failNext('files.completeUploadExternal', { error: 'internal_error' });
    expect(await uploadFailure()).toMatchObject({ slackError: 'internal_error', retryable: true });

    emulator.setOutage(true);
    expect(await uploadFailure()).toMatchObject({ slackError: 'request_failed', retryable: true });
  });
});
