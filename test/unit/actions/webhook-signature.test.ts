import { describe, expect, it } from 'vitest';
import {
  signWebhookBody,
  verifyWebhookSignature,
  webhookDeliveryId,
} from '../../../src/actions/webhook-signature.js';

const secret = 'whsec-0123456789abcdef';
const rawBody = '{"job":"reindex","index":"kb-prod"}';
const now = new Date('2026-11-22T12:00:00Z');
const t = Math.floor(now.getTime() / 1000);

describe('webhook signatures', () => {
  it('signs t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>"> and verifies it', () => {
    const header = signWebhookBody(secret, rawBody, t);
    expect(header).toMatch(new RegExp(`^t=${t},v1=[0-9a-f]{64}$`));
    expect(verifyWebhookSignature({ secret, rawBody, header, now })).toEqual({ valid: true, timestamp: t });
    expect(verifyWebhookSignature({ secret, rawBody: Buffer.from(rawBody), header, now }).valid).toBe(true);
  });

  it('refuses a tampered body, another secret, a stale timestamp, and a missing or malformed header', () => {
    const header = signWebhookBody(secret, rawBody, t);
    expect(
      verifyWebhookSignature({ secret, rawBody: rawBody.replace('prod', 'dev'), header, now }),
    ).toMatchObject({
      valid: false,
    });
    expect(verifyWebhookSignature({ secret: 'whsec-another-secret-00', rawBody, header, now }).valid).toBe(
      false,
    );
    expect(
      verifyWebhookSignature({ secret, rawBody, header, now: new Date(now.getTime() + 301_000) }),
    ).toEqual({ valid: false, reason: 'timestamp is more than 300 s away from now' });
    expect(verifyWebhookSignature({ secret, rawBody, header: undefined, now }).valid).toBe(false);
    expect(verifyWebhookSignature({ secret, rawBody, header: 'v1=abc', now }).valid).toBe(false);
    // Re-signing with a new timestamp but keeping the old signature does not verify.
    const forged = header.replace(`t=${t}`, `t=${t + 10}`);
    expect(verifyWebhookSignature({ secret, rawBody, header: forged, now }).valid).toBe(false);
  });

  it('accepts any of several v1 signatures (secret rotation)', () => {
    const old = signWebhookBody('whsec-old-secret-0000', rawBody, t).split(',')[1];
    const header = `${signWebhookBody(secret, rawBody, t)},${old}`;
    expect(verifyWebhookSignature({ secret: 'whsec-old-secret-0000', rawBody, header, now }).valid).toBe(
      true,
    );
  });

  it('builds delivery ids from the run and the attempt key', () => {
    expect(webhookDeliveryId(42, 'deliver')).toBe('42-deliver');
  });
});
