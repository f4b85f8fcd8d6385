import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signatures of `http.webhook` deliveries.
 *
 * `X-Aisre-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. Receivers
 * recompute the HMAC over the raw bytes they received (before any JSON parsing), compare in
 * constant time and refuse timestamps outside a tolerance (5 minutes by default), which bounds
 * replays. Several `v1=` entries may appear (secret rotation); one match is enough.
 *
 * `X-Aisre-Delivery: <run reference>-<attempt key>` is the same for every retry of one delivery, so
 * a receiver that remembers the ids it has processed can ignore duplicates.
 */
export const SIGNATURE_HEADER = 'X-Aisre-Signature';
export const DELIVERY_HEADER = 'X-Aisre-Delivery';
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

function hmacHex(secret: string, timestamp: number, rawBody: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

/** The `X-Aisre-Signature` value for `rawBody`, the exact bytes that are sent. */
export function signWebhookBody(
  secret: string,
  rawBody: string | Buffer,
  timestamp: number = Math.floor(Date.now() / 1000),
): string {
  return `t=${timestamp},v1=${hmacHex(secret, timestamp, rawBody)}`;
}

/** The `X-Aisre-Delivery` value: stable across retries of the same delivery. */
export function webhookDeliveryId(runReference: string | number, attemptKey: string): string {
  return `${runReference}-${attemptKey}`;
}

export type WebhookVerification = { valid: true; timestamp: number } | { valid: false; reason: string };

/** Checks a delivery's signature, for receivers and tests. */
export function verifyWebhookSignature(options: {
  secret: string;
  rawBody: string | Buffer;
  header: string | null | undefined;
  toleranceSeconds?: number;
  now?: Date;
}): WebhookVerification {
  if (!options.header) return { valid: false, reason: `missing ${SIGNATURE_HEADER} header` };
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of options.header.split(',')) {
    const at = part.indexOf('=');
    if (at <= 0) continue;
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (timestamp === undefined) return { valid: false, reason: 'no timestamp (t=) in the signature' };
  if (signatures.length === 0) return { valid: false, reason: 'no v1 signature in the header' };
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_SIGNATURE_TOLERANCE_SECONDS;
  if (Math.abs(now - timestamp) > tolerance) {
    return { valid: false, reason: `timestamp is more than ${tolerance} s away from now` };
  }
  const expected = Buffer.from(hmacHex(options.secret, timestamp, options.rawBody), 'hex');
  const matches = signatures.some((signature) => timingSafeEqual(Buffer.from(signature, 'hex'), expected));
  return matches ? { valid: true, timestamp } : { valid: false, reason: 'signature does not match the body' };
}
