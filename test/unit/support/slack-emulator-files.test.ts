import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SlackEmulator } from '../../support/slack-emulator.js';
import { EMULATOR_DEFAULT_TOKEN, startSlackEmulator } from '../../support/slack-emulator.js';

const INCIDENTS = 'C0INCIDENTS';

let emulator: SlackEmulator;

beforeEach(async () => {
  emulator = await startSlackEmulator({
    channels: [
      { id: INCIDENTS, name: 'incidents' },
      { id: 'C0ARCHIVED', name: 'old', archived: true },
    ],
    rateLimits: { 'files.getUploadURLExternal': 3 },
  });
});

afterEach(async () => {
  await emulator.close();
});

/** A Web API call as curl would make it: JSON body, bearer token. */
async function api(method: string, body: Record<string, unknown>, token = EMULATOR_DEFAULT_TOKEN) {
  const res = await fetch(`${emulator.apiUrl}${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Announces `content` and posts its bytes raw (`curl --data-binary`); returns the file id. */
async function upload(content: string, filename = 'notes.md'): Promise<string> {
  const bytes = Buffer.from(content);
  const { body } = await api('files.getUploadURLExternal', { filename, length: bytes.length });
  const res = await fetch(String(body.upload_url), { method: 'POST', body: bytes });
  expect([res.status, await res.text()]).toEqual([200, `OK - ${bytes.length}`]);
  return String(body.file_id);
}

describe('Slack emulator file uploads', () => {
  it('hands out an upload URL on itself for a filename and a length, both required', async () => {
    const { body } = await api('files.getUploadURLExternal', { filename: 'a.md', length: 3 });
    expect(body).toMatchObject({ ok: true, file_id: expect.stringMatching(/^F[A-Z0-9]{10}$/) });
    expect(String(body.upload_url).startsWith(emulator.apiUrl.replace(/\/api\/$/, '/upload/'))).toBe(true);

    expect((await api('files.getUploadURLExternal', { filename: 'a.md' })).body).toEqual({
      ok: false,
      error: 'invalid_arguments',
      response_metadata: { messages: ['[ERROR] missing required field: length'] },
    });
    expect(
      (await api('files.getUploadURLExternal', { filename: 'a.md', length: 3 }, 'xoxb-wrong')).body,
    ).toEqual({
      ok: false,
      error: 'invalid_auth',
    });
  });

  it('takes the bytes raw or as a multipart form, and refuses a size other than announced or an unknown file', async () => {
    // 'héé' is five bytes in UTF-8.
    const { body } = await api('files.getUploadURLExternal', { filename: 'a.md', length: 5 });
    const url = String(body.upload_url);
    const tooLong = await fetch(url, { method: 'POST', body: 'hello!' });
    expect(tooLong.status).toBe(400);

    const form = new FormData();
    form.append('file', new Blob([Buffer.from('héé')]), 'a.md');
    expect((await fetch(url, { method: 'POST', body: form })).status).toBe(200);

    expect((await fetch(`${url}X`, { method: 'POST', body: 'héé' })).status).toBe(404);
    expect(emulator.callsTo('upload_url').map((call) => [call.status, call.args.size])).toEqual([
      [400, 6],
      [200, 5],
      [404, undefined],
    ]);
  });

  it('completes only uploaded files, into channels the bot is in, and only once', async () => {
    const announced = await api('files.getUploadURLExternal', { filename: 'a.md', length: 1 });
    const neverPosted = String(announced.body.file_id);
    expect(
      (await api('files.completeUploadExternal', { files: [{ id: neverPosted }], channel_id: INCIDENTS }))
        .body,
    ).toMatchObject({ ok: false, error: 'file_not_found' });

    const id = await upload('# notes');
    const complete = (channel_id: string) =>
      api('files.completeUploadExternal', { files: [{ id }], channel_id });
    expect((await complete('incidents')).body).toMatchObject({ ok: false, error: 'invalid_arguments' });
    expect((await complete('C0NOSUCHCHAN')).body).toMatchObject({ ok: false, error: 'channel_not_found' });
    expect((await complete('C0ARCHIVED')).body).toMatchObject({ ok: false, error: 'is_archived' });
    emulator.seedChannel({ id: 'C0OUTSIDE', name: 'outside', members: ['U0ALICE'] });
    expect((await complete('C0OUTSIDE')).body).toMatchObject({ ok: false, error: 'not_in_channel' });

    expect((await complete(INCIDENTS)).body).toMatchObject({ ok: true, files: [{ id, title: 'notes.md' }] });
    expect((await complete(INCIDENTS)).body).toMatchObject({ ok: false, error: 'file_not_found' });
    expect(emulator.files('incidents')).toEqual([
      {
        id,
        filename: 'notes.md',
        title: 'notes.md',
        content: '# notes',
        size: 7,
        channel: INCIDENTS,
        messageTs: expect.any(String),
      },
    ]);
  });

  it('shares into the parent’s thread when given a reply, and keeps files completed without a channel private', async () => {
    const parent = await api('chat.postMessage', { channel: INCIDENTS, text: 'card' });
    const reply = await api('chat.postMessage', { channel: INCIDENTS, text: 'r', thread_ts: parent.body.ts });
    const threaded = await upload('a');
    const shared = await api('files.completeUploadExternal', {
      files: [{ id: threaded, title: 'A' }],
      channel_id: INCIDENTS,
      thread_ts: reply.body.ts,
    });
    expect(shared.body.ok).toBe(true);
    expect(emulator.files(INCIDENTS)).toMatchObject([{ id: threaded, title: 'A', threadTs: parent.body.ts }]);

    const unknownParent = await api('files.completeUploadExternal', {
      files: [{ id: await upload('b') }],
      channel_id: INCIDENTS,
      thread_ts: '1.000001',
    });
    expect(unknownParent.body).toMatchObject({ ok: false, error: 'thread_not_found' });

    const hidden = await upload('c');
    expect((await api('files.completeUploadExternal', { files: [{ id: hidden }] })).body.ok).toBe(true);
    expect(emulator.files(INCIDENTS).map((file) => file.id)).toEqual([threaded]);
    expect(emulator.sharedFiles.get(hidden)).toMatchObject({ channel: null, content: 'c' });
  });

  it('rate limits the files methods like any other, from the rateLimits option', async () => {
    for (let i = 0; i < 3; i++) await api('files.getUploadURLExternal', { filename: 'a.md', length: 1 });
    const limited = await api('files.getUploadURLExternal', { filename: 'a.md', length: 1 });
    expect(limited).toMatchObject({ status: 429, body: { ok: false, error: 'ratelimited' } });
  });
});
