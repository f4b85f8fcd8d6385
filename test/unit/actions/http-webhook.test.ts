import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ActionError } from '../../../src/actions/action-error.js';
import { httpWebhook, WEBHOOK_MAX_BODY_BYTES } from '../../../src/actions/types/http-webhook.js';
import { verifyWebhookSignature } from '../../../src/actions/webhook-signature.js';
import { WEBHOOK_SECRET } from '../../support/webhook-receiver.js';
import { type ActionHarness, MemoryCheckpoints, startActionHarness, thrown } from './action-harness.js';

describe('http.webhook', () => {
  let h: ActionHarness;
  beforeAll(async () => {
    h = await startActionHarness();
  });
  afterAll(() => h.close());
  beforeEach(() => {
    h.webhook.deliveries.length = 0;
    h.recorded.length = 0;
  });

  const body = { job: 'reindex', index: 'kb-prod', mode: 'cache-only' };

  it('previews without delivering', async () => {
    const outcome = await httpWebhook.run(
      h.context(httpWebhook, { webhook: 'reindex', body }, { dryRun: true }),
    );
    expect(outcome.changes).toEqual([{ target: 'webhook "reindex"', from: null, to: body }]);
    expect(outcome.summary).toBe(`Would POST ${JSON.stringify(body).length} bytes to webhook "reindex"`);
    expect(h.webhook.deliveries).toEqual([]);
  });

  it('delivers the body signed, with a delivery id, and records what the receiver says to restore', async () => {
    h.webhook.answer(202, { accepted: true, previous: { mode: 'normal' } });
    const outcome = await httpWebhook.run(h.context(httpWebhook, { webhook: 'reindex', body }));

    expect(h.webhook.deliveries).toHaveLength(1);
    const delivery = h.webhook.deliveries[0]!;
    expect(delivery.body).toEqual(body);
    expect(delivery.verification).toMatchObject({ valid: true });
    expect(delivery.headers['content-type']).toBe('application/json');
    const state = outcome.previousState as { delivery: string; previous: unknown };
    expect(state.previous).toEqual({ mode: 'normal' });
    expect(delivery.headers['x-aisre-delivery']).toBe(`${state.delivery}-deliver`);
  });

  it('sends templated strings as data, never as JSON structure', async () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-looking string is the point
    const hostile = { query: 'x", "admin": true, "y": "', note: '</script>\u2028${evil}' };
    await httpWebhook.run(h.context(httpWebhook, { webhook: 'reindex', body: hostile }));
    expect(h.webhook.deliveries[0]?.body).toEqual(hostile);
    expect(h.webhook.deliveries[0]?.body).not.toHaveProperty('admin');
  });

  it('refuses a body over the size limit, and the reserved key "undo", before sending anything', async () => {
    const big = { blob: 'x'.repeat(WEBHOOK_MAX_BODY_BYTES) };
    const tooBig = await thrown(() =>
      httpWebhook.run(h.context(httpWebhook, { webhook: 'reindex', body: big }, { dryRun: true })),
    );
    expect(tooBig).toBeInstanceOf(ActionError);
    expect(tooBig).toMatchObject({ kind: 'invalid', retryable: false });
    expect((tooBig as Error).message).toContain(`the limit is ${WEBHOOK_MAX_BODY_BYTES}`);

    const reserved = await thrown(() =>
      httpWebhook.run(h.context(httpWebhook, { webhook: 'reindex', body: { undo: true } })),
    );
    expect(reserved).toMatchObject({ kind: 'invalid', retryable: false });
    expect(h.webhook.deliveries).toEqual([]);
  });

  it('delivers once across reruns, and a redelivery after a crash keeps its delivery id', async () => {
    const checkpoints = new MemoryCheckpoints();
    const first = await httpWebhook.run(
      h.context(httpWebhook, { webhook: 'reindex', body }, { checkpoints }),
    );
    const second = await httpWebhook.run(
      h.context(httpWebhook, { webhook: 'reindex', body }, { checkpoints }),
    );
    expect(second).toEqual(first);
    expect(h.webhook.deliveries).toHaveLength(1);

    checkpoints.stored.delete('deliver'); // crashed after sending, before the result was stored
    await httpWebhook.run(h.context(httpWebhook, { webhook: 'reindex', body }, { checkpoints }));
    expect(h.webhook.deliveries).toHaveLength(2);
    expect(h.webhook.deliveries[1]?.headers['x-aisre-delivery']).toBe(
      h.webhook.deliveries[0]?.headers['x-aisre-delivery'],
    );
  });

  it('fails without retry on a 4xx with the receiver’s message, and retryably on a 5xx', async () => {
    h.webhook.answer(422, { message: 'unknown index kb-prod' });
    const refused = await thrown(() => httpWebhook.run(h.context(httpWebhook, { webhook: 'reindex', body })));
    expect(refused).toMatchObject({ integration: 'webhook:reindex', status: 422, retryable: false });
    expect((refused as Error).message).toBe('webhook:reindex answered 422: unknown index kb-prod');

    h.webhook.answer(503, { error: 'busy' });
    const busy = await thrown(() => httpWebhook.run(h.context(httpWebhook, { webhook: 'reindex', body })));
    expect(busy).toMatchObject({ status: 503, retryable: true, integrationMessage: 'busy' });
  });

  it('undo posts {undo, run, previous}, signed, to the same webhook', async () => {
    h.webhook.answer(200, { previous: { mode: 'normal', flags: ['a'] } });
    const outcome = await httpWebhook.run(h.context(httpWebhook, { webhook: 'reindex', body }));
    const state = outcome.previousState as { delivery: string };

    const undone = await httpWebhook.undo(
      h.undoContext(httpWebhook, { webhook: 'reindex', body }, outcome.previousState),
    );
    const delivery = h.webhook.deliveries[1]!;
    expect(delivery.body).toEqual({
      undo: true,
      run: state.delivery,
      previous: { mode: 'normal', flags: ['a'] },
    });
    expect(delivery.verification).toMatchObject({ valid: true });
    expect(delivery.headers['x-aisre-delivery']).toBe(`${state.delivery}-undo`);
    expect(undone.changes).toEqual([
      { target: 'webhook "reindex"', from: body, to: { mode: 'normal', flags: ['a'] } },
    ]);
  });

  it('undo sends previous: null when the receiver gave nothing to restore', async () => {
    const outcome = await httpWebhook.run(h.context(httpWebhook, { webhook: 'reindex', body }));
    expect(outcome.previousState).toMatchObject({ previous: null });
    await httpWebhook.undo(h.undoContext(httpWebhook, { webhook: 'reindex', body }, outcome.previousState));
    expect(h.webhook.deliveries[1]?.body).toMatchObject({ undo: true, previous: null });
  });

  it('signs the exact bytes sent: a tampered body does not verify', async () => {
    await httpWebhook.run(h.context(httpWebhook, { webhook: 'reindex', body }));
    const delivery = h.webhook.deliveries[0]!;
    const header = delivery.headers['x-aisre-signature'] as string;
    expect(verifyWebhookSignature({ secret: WEBHOOK_SECRET, rawBody: delivery.rawBody, header }).valid).toBe(
      true,
    );
    const tampered = delivery.rawBody.replace('kb-prod', 'kb-evil');
    expect(verifyWebhookSignature({ secret: WEBHOOK_SECRET, rawBody: tampered, header })).toEqual({
      valid: false,
      reason: 'signature does not match the body',
    });
  });

  it('records the delivery without the secret or the signature', async () => {
    await httpWebhook.run(
      h.context(httpWebhook, { webhook: 'reindex', body: { ...body, api_token: 'tok-123456' } }),
    );
    const audit = JSON.stringify(h.recorded);
    expect(audit).not.toContain(WEBHOOK_SECRET);
    expect(audit).not.toContain('tok-123456');
    expect(audit).not.toContain(h.webhook.deliveries[0]?.headers['x-aisre-signature'] as string);
    expect(h.recorded).toEqual([
      { method: 'POST', url: h.webhook.url, body: { ...body, api_token: '[REDACTED]' }, status: 200 },
    ]);
  });
});
