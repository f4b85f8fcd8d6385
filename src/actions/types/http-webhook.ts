import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { HTTP_WEBHOOK, type HttpWebhookParams } from '../action-catalog.js';
import { ActionError } from '../action-error.js';
import type { ActionType } from '../action-type.js';
import { DELIVERY_HEADER, webhookDeliveryId } from '../webhook-signature.js';
import { previousStateOf, send } from './support.js';

/** The largest JSON body a webhook delivery (or its undo) may carry. */
export const WEBHOOK_MAX_BODY_BYTES = 64 * 1024;

/**
 * What run records: the delivery reference (the prefix of `X-Aisre-Delivery`, also sent as `run`
 * in the undo) and what the receiver answered as `previous`, or null.
 */
const previousSchema = z.strictObject({ delivery: z.string().min(1), previous: z.unknown() });
export type HttpWebhookState = { delivery: string; previous: unknown };

const receiverAnswer = z.looseObject({ previous: z.unknown() });

function jsonBytes(webhook: string, value: unknown, what: string): { text: string; bytes: number } {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new ActionError({
      integration: `webhook:${webhook}`,
      kind: 'invalid',
      integrationMessage: `${what} is not JSON: ${(err as Error).message}`,
    });
  }
  const bytes = Buffer.byteLength(text ?? '', 'utf8');
  if (bytes > WEBHOOK_MAX_BODY_BYTES) {
    throw new ActionError({
      integration: `webhook:${webhook}`,
      kind: 'invalid',
      integrationMessage: `${what} is ${bytes} bytes; the limit is ${WEBHOOK_MAX_BODY_BYTES}`,
    });
  }
  return { text: text ?? '', bytes };
}

/** `previous` from the receiver's answer, if it sent one that fits in an undo body. */
function previousFrom(answer: unknown, webhook: string, warn: (message: string) => void): unknown {
  const parsed = receiverAnswer.safeParse(answer);
  if (!parsed.success || parsed.data.previous === undefined) return null;
  try {
    jsonBytes(webhook, parsed.data.previous, 'the receiver\'s "previous"');
    return parsed.data.previous;
  } catch (err) {
    warn((err as Error).message);
    return null;
  }
}

/**
 * `http.webhook`: POSTs `body` as JSON to the webhook named in AISRE_WEBHOOKS, signed with its
 * secret (`X-Aisre-Signature`, see webhook-signature.ts) and with `X-Aisre-Delivery:
 * <reference>-deliver`, the same on every retry so that the receiver can drop duplicates. The body
 * comes from the runbook with templated values already substituted: it is serialised with
 * JSON.stringify (never by concatenation), at most 64 KiB, and may not use the reserved key `undo`.
 *
 * Receiver contract: answer 2xx once the request is durably accepted; optionally answer
 * `{"previous": …}` with whatever it needs to revert. Undo POSTs `{"undo": true, "run":
 * <reference>, "previous": <that value or null>}` with `X-Aisre-Delivery: <reference>-undo`;
 * receivers must support it (or answer 4xx, and the undo is reported as failed).
 *
 * previousState: `{ delivery: <reference>, previous: <receiver's previous or null> }`.
 */
export const httpWebhook: ActionType<HttpWebhookParams> = {
  ...HTTP_WEBHOOK,

  async run(ctx) {
    const { webhook, body } = ctx.params;
    if (Object.hasOwn(body, 'undo')) {
      throw new ActionError({
        integration: `webhook:${webhook}`,
        kind: 'invalid',
        integrationMessage: 'the body key "undo" is reserved for undo deliveries',
      });
    }
    const { bytes } = jsonBytes(webhook, body, 'the webhook body');
    const client = ctx.integration(`webhook:${webhook}`);
    const target = `webhook "${webhook}"`;
    const changes = [{ target, from: null, to: body }];
    if (ctx.isDryRun) {
      return { summary: `Would POST ${bytes} bytes to ${target}`, changes, previousState: null };
    }
    // A reference that stays the same across retries and restarts of this run.
    const { reference } = await ctx.checkpoint('delivery-reference', async () => ({
      reference: randomUUID(),
    }));
    const delivered = await ctx.checkpoint('deliver', async () => {
      const answer = await send(ctx, client, 'POST', '', body, {
        [DELIVERY_HEADER]: webhookDeliveryId(reference, 'deliver'),
      });
      return {
        previous: previousFrom(answer, webhook, (message) => ctx.logger.warn({ webhook }, message)),
      };
    });
    const state: HttpWebhookState = { delivery: reference, previous: delivered.previous ?? null };
    return { summary: `POSTed ${bytes} bytes to ${target}`, changes, previousState: state };
  },

  async undo(ctx) {
    const { webhook } = ctx.params;
    const recorded = previousStateOf(previousSchema, ctx, HTTP_WEBHOOK.id);
    const previous = recorded.previous ?? null;
    const undoBody = { undo: true, run: recorded.delivery, previous };
    const { bytes } = jsonBytes(webhook, undoBody, 'the undo body');
    const client = ctx.integration(`webhook:${webhook}`);
    const delivered = await ctx.checkpoint('undo:deliver', async () => {
      const answer = await send(ctx, client, 'POST', '', undoBody, {
        [DELIVERY_HEADER]: webhookDeliveryId(recorded.delivery, 'undo'),
      });
      return {
        previous: previousFrom(answer, webhook, (message) => ctx.logger.warn({ webhook }, message)),
      };
    });
    const state: HttpWebhookState = { delivery: recorded.delivery, previous: delivered.previous ?? null };
    return {
      summary: `POSTed the undo (${bytes} bytes) to webhook "${webhook}"`,
      changes: [{ target: `webhook "${webhook}"`, from: ctx.params.body, to: previous }],
      previousState: state,
    };
  },
};
