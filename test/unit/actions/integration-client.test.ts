import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionError, maskKey } from '../../../src/actions/action-error.js';
import type { RecordedRequest } from '../../../src/actions/action-type.js';
import {
  createIntegrationClient,
  errorMessage,
  redactBody,
  redactUrl,
  supportsRequestOptions,
} from '../../../src/actions/integration-client.js';
import { type LiteLLMFake, startLiteLLMFake } from '../../support/litellm-fake.js';
import { thrown } from './action-harness.js';

describe('createIntegrationClient', () => {
  let litellm: LiteLLMFake;
  let slow: Server;
  let slowUrl: string;
  let textUrl: string;
  let text: Server;
  beforeAll(async () => {
    litellm = await startLiteLLMFake();
    slow = createServer(() => {
      // never answers
    });
    text = createServer((req, res) => {
      if (req.url === '/empty') return res.writeHead(204).end();
      res.writeHead(req.url === '/html' ? 502 : 200, { 'content-type': 'text/plain' });
      res.end(req.url === '/html' ? '<html><body>Bad gateway</body></html>' : 'accepted');
    });
    await Promise.all([
      new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve)),
      new Promise<void>((resolve) => text.listen(0, '127.0.0.1', resolve)),
    ]);
    slowUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
    textUrl = `http://127.0.0.1:${(text.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    slow.closeAllConnections();
    text.closeAllConnections();
    await Promise.all([
      litellm.close(),
      new Promise((r) => slow.close(r)),
      new Promise((r) => text.close(r)),
    ]);
  });

  const client = (overrides: Partial<Parameters<typeof createIntegrationClient>[0]> = {}) => {
    const recorded: RecordedRequest[] = [];
    const instance = createIntegrationClient({
      name: 'litellm',
      baseUrl: `${litellm.url}/`,
      auth: { type: 'bearer', token: litellm.masterKey },
      signal: new AbortController().signal,
      record: (request) => recorded.push(request),
      ...overrides,
    });
    return { instance, recorded };
  };

  it('sends JSON with the bearer token and per-request headers, and parses the answer', async () => {
    litellm.seedKey('sk-client-test-abcd1234', { rpm_limit: 7 });
    const { instance } = client();
    expect(supportsRequestOptions(instance)).toBe(true);
    const answer = await instance.request<{ rpm_limit: number }>(
      'POST',
      '/key/update',
      { key: 'sk-client-test-abcd1234', rpm_limit: 8 },
      { headers: { 'litellm-changed-by': 'U1' } },
    );
    expect(answer.rpm_limit).toBe(8);
    const last = litellm.requests.at(-1)!;
    expect(last.headers).toMatchObject({
      authorization: `Bearer ${litellm.masterKey}`,
      'content-type': 'application/json',
      'litellm-changed-by': 'U1',
    });
  });

  it('turns a 401 into a non-retryable ActionError with LiteLLM’s message', async () => {
    const { instance } = client({ auth: { type: 'bearer', token: 'sk-wrong-master-0000' } });
    const err = await thrown(() => instance.request('GET', '/key/info?key=sk-x'));
    expect(err).toBeInstanceOf(ActionError);
    expect(err).toMatchObject({ status: 401, retryable: false, kind: 'http', integration: 'litellm' });
    expect((err as ActionError).integrationMessage).toContain('Authentication Error');
  });

  it('marks 5xx, 429 and network failures retryable, and records a failed connection with status null', async () => {
    const { instance, recorded } = client();
    litellm.failNext(429, {
      error: { message: 'rate limited', type: 'rate_limit', param: 'None', code: '429' },
    });
    expect(await thrown(() => instance.request('GET', '/key/info?key=a'))).toMatchObject({
      status: 429,
      retryable: true,
    });

    const closed = client({ baseUrl: 'http://127.0.0.1:9' });
    const err = await thrown(() => closed.instance.request('GET', '/health'));
    expect(err).toMatchObject({ kind: 'network', status: null, retryable: true });
    expect(closed.recorded).toEqual([
      { method: 'GET', url: 'http://127.0.0.1:9/health', body: undefined, status: null },
    ]);
    expect(recorded.at(-1)?.status).toBe(429);
  });

  it('times out, and stops when the run is aborted', async () => {
    const { instance } = client({ baseUrl: slowUrl, timeoutMs: 100 });
    expect(await thrown(() => instance.request('GET', '/'))).toMatchObject({
      kind: 'timeout',
      retryable: true,
    });

    const controller = new AbortController();
    const aborted = client({ baseUrl: slowUrl, signal: controller.signal });
    const pending = thrown(() => aborted.instance.request('GET', '/'));
    controller.abort(new Error('shutting down'));
    expect(await pending).toMatchObject({ kind: 'aborted', retryable: true });
    expect(((await pending) as Error).message).toContain('shutting down');
  });

  it('returns text and empty answers as they are, and reports non-JSON errors by their text', async () => {
    const { instance } = client({ baseUrl: textUrl, auth: { type: 'none' } });
    expect(await instance.request('POST', '/ok', {})).toBe('accepted');
    expect(await instance.request('POST', '/empty', {})).toBeUndefined();
    const err = await thrown(() => instance.request('GET', '/html'));
    expect(err).toMatchObject({ status: 502, retryable: true });
    expect((err as ActionError).integrationMessage).toBe('<html><body>Bad gateway</body></html>');
  });

  it('refuses a base URL with credentials in it', () => {
    expect(() => client({ baseUrl: 'http://admin:hunter2@127.0.0.1:4000' })).toThrow(
      'litellm: the base URL must not contain credentials: configure them as auth',
    );
  });

  it('records requests without credentials', async () => {
    const { instance, recorded } = client();
    litellm.seedKey('sk-live-audit-9f8e7d6c');
    await instance.request('GET', '/key/info?key=sk-live-audit-9f8e7d6c&api_key=sk-other-secret-1');
    await thrown(() =>
      instance.request('POST', '/key/update', {
        key: 'sk-live-audit-9f8e7d6c',
        metadata: { password: 'p4ss', nested: { client_secret: 's3cr3t' }, max_tokens: 5 },
        keys: ['sk-first-key-aaaa1111'],
        apiKey: 'sk-camel-secret-2',
        rpm_limit: 'many',
      }),
    );
    const audit = JSON.stringify(recorded);
    for (const secret of [
      'sk-live-audit-9f8e7d6c',
      'sk-other-secret-1',
      'p4ss',
      's3cr3t',
      'sk-first-key-aaaa1111',
      'sk-camel-secret-2',
      litellm.masterKey,
    ]) {
      expect(audit).not.toContain(secret);
    }
    expect(recorded[1]).toEqual({
      method: 'POST',
      url: `${litellm.url}/key/update`,
      body: {
        key: 'sk-…7d6c',
        metadata: { password: '[REDACTED]', nested: { client_secret: '[REDACTED]' }, max_tokens: 5 },
        keys: ['sk-…1111'],
        apiKey: '[REDACTED]',
        rpm_limit: 'many',
      },
      status: 422,
    });
  });
});

describe('error messages and redaction', () => {
  it('reads the error shapes of LiteLLM, FastAPI and Langfuse', () => {
    const read = (body: unknown) => errorMessage(body, JSON.stringify(body), 400);
    expect(read({ error: { message: 'Key not found in database', type: 'not_found', code: '404' } })).toBe(
      'Key not found in database',
    );
    expect(read({ error: { message: { error: 'Model with id=m not found in db' } } })).toBe(
      'Model with id=m not found in db',
    );
    expect(read({ detail: { error: 'Team not found, passed team_id=t' } })).toBe(
      'Team not found, passed team_id=t',
    );
    expect(read({ detail: 'Not Found' })).toBe('Not Found');
    expect(read({ detail: [{ loc: ['body', 'rpm_limit'], msg: 'Input should be a valid integer' }] })).toBe(
      'body.rpm_limit: Input should be a valid integer',
    );
    expect(
      read({
        message: 'Invalid request data',
        error: [{ path: ['newLabels', 0], message: 'Label must be lowercase' }],
      }),
    ).toBe('Invalid request data: newLabels.0: Label must be lowercase');
    expect(read({ message: 'Prompt not found: x', error: 'LangfuseNotFoundError' })).toBe(
      'Prompt not found: x',
    );
    expect(errorMessage(undefined, '', 503)).toBe('HTTP 503');
  });

  it('masks keys and redacts secrets', () => {
    expect(maskKey('sk-1234567890abcd')).toBe('sk-…abcd');
    expect(maskKey('sk-short')).toBe('sk-…');
    expect(maskKey('hashed0123456789')).toBe('…6789');
    expect(redactBody([{ token: 't', tokens: 3, team_id: 'x' }])).toEqual([
      { token: '[REDACTED]', tokens: 3, team_id: 'x' },
    ]);
    expect(redactUrl('https://u:p@h.example/a?team_id=t&key=sk-abcdefgh1234&token=zzz')).toBe(
      'https://h.example/a?team_id=t&key=sk-%E2%80%A61234&token=%5BREDACTED%5D',
    );
  });
});
