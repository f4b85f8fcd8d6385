import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { DELIVERY_HEADER, SIGNATURE_HEADER, verifyWebhookSignature } from '../actions/webhook-signature.js';
import { type StateStore, sendJson } from './http-support.js';
import { type AppMode, reindex, setMode } from './state.js';

/** The remedies the webhook offers. */
export const HOOK_ACTIONS = ['reindex', 'cache_only', 'rules_based'] as const;
export type HookAction = (typeof HOOK_ACTIONS)[number];

/** Path names accepted for each action: the runbook's webhook names map onto them too. */
const ACTION_NAMES: Readonly<Record<string, HookAction>> = {
  reindex: 'reindex',
  cache_only: 'cache_only',
  cache_only_mode: 'cache_only',
  rules_based: 'rules_based',
  rules_based_mode: 'rules_based',
};
const MODES: Record<Exclude<HookAction, 'reindex'>, AppMode> = {
  cache_only: 'cacheOnly',
  rules_based: 'rulesBased',
};

const previousSchema = z.object({ action: z.enum(HOOK_ACTIONS), enabled: z.boolean().optional() });
const deliverBody = z.looseObject({
  action: z.string().optional(),
  service: z.string().optional(),
  enabled: z.boolean().optional(),
});
const undoBody = z.looseObject({ undo: z.literal(true), run: z.string().optional(), previous: z.unknown() });

type Answer = { status: number; body: unknown };

/** Remembered deliveries, so a retried delivery is answered the same without acting twice. */
const MAX_REMEMBERED = 1000;

/**
 * The receiver of aisre's `http.webhook` action, for the remedies that are not Langfuse or
 * LiteLLM calls. Point AISRE_WEBHOOKS entries at it (one URL per runbook webhook name, all with
 * the same secret):
 *
 * - `POST /hooks/aisre/{action}` with action `reindex`, `cache_only` or `rules_based` (or the
 *   runbook's names `cache_only_mode` and `rules_based_mode`), or `POST /hooks/aisre` with the
 *   action in the body.
 * - `X-Aisre-Signature: t=<unix s>,v1=<HMAC-SHA256(secret, "<t>.<raw body>")>` is required and
 *   checked over the raw bytes (401 when missing, stale or wrong). `X-Aisre-Delivery`, when sent,
 *   makes a retried delivery get the first answer again without acting twice.
 * - Deliver body: `{"action"?: "reindex"|"cache_only"|"rules_based", "service"?: "<service>",
 *   "enabled"?: true|false}`. `enabled` defaults to true and is ignored by reindex; other fields
 *   are ignored; a `service` other than the app's is a 404. Answer: 200 `{"status": "done",
 *   "action", "enabled"?, "previous": {"action", "enabled"?}}`.
 *   - reindex rebuilds the index with the current embedding model and repairs the index job
 *     (fixes embedding_swap and stale_index);
 *   - cache_only answers RAG questions from the cache (no retrieval, no model call);
 *   - rules_based answers them from rules (no model call, so no output to map: fixes what
 *     integration_mapping breaks while it lasts).
 * - Undo body, as aisre sends it: `{"undo": true, "run": "<reference>", "previous": <the
 *   previous answered above>}` puts the mode back as it was (200). A reindex cannot be undone: 409.
 * - Malformed JSON or body: 400; unknown action: 404.
 */
export function hooksRouter(options: { store: StateStore; secret: string; now?: () => Date }): Router {
  const { store } = options;
  const router = express.Router();
  const answered = new Map<string, Answer>();

  const act = (action: HookAction, json: unknown): Answer => {
    const undo = undoBody.safeParse(json);
    if (undo.success) {
      const previous = previousSchema.safeParse(undo.data.previous);
      if (!previous.success) {
        return { status: 400, body: { error: 'undo needs the "previous" this webhook answered' } };
      }
      if (previous.data.action === 'reindex') {
        return { status: 409, body: { error: 'a reindex cannot be undone; the index stays rebuilt' } };
      }
      const mode = MODES[previous.data.action];
      const enabled = previous.data.enabled ?? false;
      store.set(setMode(store.get(), mode, enabled));
      return { status: 200, body: { status: 'undone', action: previous.data.action, enabled } };
    }
    const parsed = deliverBody.safeParse(json);
    if (!parsed.success) return { status: 400, body: { error: 'the body must be a JSON object' } };
    const { service, enabled = true } = parsed.data;
    if (service !== undefined && service !== store.get().service) {
      return { status: 404, body: { error: `this app is ${store.get().service}, not ${service}` } };
    }
    if (action === 'reindex') {
      store.set(reindex(store.get()));
      const at = new Date(store.get().retrieval.indexLastSuccessMs).toISOString();
      return { status: 200, body: { status: 'done', action, indexedAt: at, previous: { action } } };
    }
    const mode = MODES[action];
    const before = store.get().modes[mode];
    store.set(setMode(store.get(), mode, enabled));
    return { status: 200, body: { status: 'done', action, enabled, previous: { action, enabled: before } } };
  };

  const handle = (req: Request, res: Response, named: string | undefined) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const verification = verifyWebhookSignature({
      secret: options.secret,
      rawBody: raw,
      header: req.get(SIGNATURE_HEADER),
      ...(options.now ? { now: options.now() } : {}),
    });
    if (!verification.valid) return sendJson(res, 401, { error: `bad signature: ${verification.reason}` });
    const delivery = req.get(DELIVERY_HEADER);
    const repeat = delivery ? answered.get(delivery) : undefined;
    if (repeat) return sendJson(res, repeat.status, repeat.body);

    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      return sendJson(res, 400, { error: 'the body is not valid JSON' });
    }
    const fromBody =
      typeof json === 'object' && json !== null ? (json as { action?: unknown }).action : undefined;
    const fromPrevious = undoBody.safeParse(json).success
      ? previousSchema.safeParse((json as { previous?: unknown }).previous).data?.action
      : undefined;
    const name = named ?? (typeof fromBody === 'string' ? fromBody : fromPrevious);
    const action = name !== undefined && Object.hasOwn(ACTION_NAMES, name) ? ACTION_NAMES[name] : undefined;
    if (!action) {
      return sendJson(res, 404, {
        error: `unknown action ${JSON.stringify(name ?? null)}; use one of ${HOOK_ACTIONS.join(', ')}`,
      });
    }
    const answer = act(action, json);
    if (delivery && answer.status < 500) {
      if (answered.size >= MAX_REMEMBERED) answered.delete(answered.keys().next().value!);
      answered.set(delivery, answer);
    }
    sendJson(res, answer.status, answer.body);
  };

  const raw = express.raw({ type: () => true, limit: '64kb' });
  router.post('/hooks/aisre', raw, (req, res) => handle(req, res, undefined));
  router.post('/hooks/aisre/:action', raw, (req, res) => handle(req, res, String(req.params.action)));
  return router;
}
