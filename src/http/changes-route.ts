import express, { type Response, type Router } from 'express';
import { z } from 'zod';
import { CHANGE_KINDS, CHANGE_LIMITS, type ChangeKind } from '../changes/change-event.js';
import type { ChangeService, RecordChangeInput, RecordChangeResult } from '../changes/change-service.js';
import { AppError, toAppError, validationError } from '../errors.js';
import type { Clock } from '../incidents/ports.js';
import type { Logger } from '../logger.js';
import { isStorableTime, STORABLE_TIME_MESSAGE, storableText } from '../storable.js';
import { requireApiToken } from './bearer-auth.js';
import { sendError } from './error-handler.js';

/** Larger bodies are refused with 413 before they are parsed. */
export const MAX_CHANGE_BODY_BYTES = 256 * 1024;

const RFC3339 = 'must be an RFC 3339 timestamp such as 2026-11-22T10:00:00Z';

/** Free text, made storable (see `storableText`). */
const text = z.string().transform(storableText);

const optionalText = (max: number) =>
  text.pipe(z.string().max(max, `must be at most ${max} characters`)).nullish();

/** An RFC 3339 timestamp the database can store. */
const timestamp = z.iso
  .datetime({ offset: true, error: RFC3339 })
  .refine((value) => isStorableTime(new Date(value)), STORABLE_TIME_MESSAGE);

/** The body of `POST /changes`. Unknown fields are refused, so a typo is not silently dropped. */
const changeBody = z.strictObject({
  service: text.pipe(
    z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(CHANGE_LIMITS.shortText, `must be at most ${CHANGE_LIMITS.shortText} characters`),
  ),
  kind: z.enum(CHANGE_KINDS, { error: `must be one of ${CHANGE_KINDS.join(', ')}` }),
  from: optionalText(CHANGE_LIMITS.shortText),
  to: optionalText(CHANGE_LIMITS.shortText),
  author: optionalText(CHANGE_LIMITS.shortText),
  at: timestamp.nullish(),
  summary: optionalText(CHANGE_LIMITS.summary),
  diff: text
    .refine((value) => Buffer.byteLength(value, 'utf8') <= CHANGE_LIMITS.diffBytes, {
      error: `must be at most ${CHANGE_LIMITS.diffBytes / 1024} KB`,
    })
    .nullish(),
  link: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .max(CHANGE_LIMITS.link, `must be at most ${CHANGE_LIMITS.link} characters`)
    .nullish(),
  id: optionalText(CHANGE_LIMITS.shortText),
});

const DURATION = /^(\d+)([mhd])$/;
const DURATION_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

const listQuery = z.object({
  service: z.string().trim().min(1, 'must not be empty').optional(),
  kind: z
    .string()
    .optional()
    .transform((value, ctx): ChangeKind[] | undefined => {
      if (!value) return undefined;
      const kinds = value.split(',').map((kind) => kind.trim());
      const bad = kinds.filter((kind) => !(CHANGE_KINDS as readonly string[]).includes(kind));
      if (bad.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown kind ${bad.join(', ')}; use ${CHANGE_KINDS.join(', ')}`,
        });
        return z.NEVER;
      }
      return kinds as ChangeKind[];
    }),
  /** An RFC 3339 timestamp, or a duration back from now such as 30m, 24h or 7d. */
  since: z.string().optional(),
  until: timestamp.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

/**
 * A Langfuse prompt webhook (Prompts → Automations → Webhook), as documented at
 * https://langfuse.com/docs/prompt-management/features/webhooks-slack-integrations. Only the
 * fields used are required; Langfuse may add others.
 */
const langfuseEvent = z.object({
  id: text.pipe(z.string().min(1)),
  timestamp,
  type: z.literal('prompt-version'),
  action: z.enum(['created', 'updated', 'deleted']),
  prompt: z.object({
    name: text.pipe(z.string().min(1)),
    version: z.number().int(),
    labels: z.array(text).default([]),
    commitMessage: text.nullish(),
  }),
  user: z.object({ id: text.nullish(), name: text.nullish(), email: text.nullish() }).nullish(),
});
type LangfuseEvent = z.infer<typeof langfuseEvent>;

const langfuseQuery = z.object({
  service: z
    .string({ error: 'is required: add ?service=<name> to the webhook URL' })
    .transform(storableText)
    .pipe(z.string().trim().min(1).max(CHANGE_LIMITS.shortText)),
  label: z
    .string()
    .optional()
    .transform((value) =>
      value
        ?.split(',')
        .map((label) => label.trim())
        .filter(Boolean),
    ),
});

export interface ChangesRouteOptions {
  changes: ChangeService;
  /** `AISRE_API_TOKEN`; without it every route here answers 401. */
  token: string | undefined;
  clock: Clock;
  logger: Logger;
  maxBodyBytes?: number;
}

/**
 * Change events over HTTP, behind `Authorization: Bearer <AISRE_API_TOKEN>`:
 * - `POST /changes` records a deploy (CI pipelines, scripts); 201 when new, 200 when `id` repeats.
 * - `POST /changes/langfuse?service=…[&label=production]` records a Langfuse prompt webhook.
 * - `GET /api/changes?service=&kind=&since=&until=&limit=` lists changes, newest first.
 */
export function changesRouter(options: ChangesRouteOptions): Router {
  const router = express.Router();
  const { logger } = options;
  const readBody = express.raw({ type: () => true, limit: options.maxBodyBytes ?? MAX_CHANGE_BODY_BYTES });

  const authenticate = requireApiToken(options.token);

  const record = async (res: Response, input: RecordChangeInput): Promise<void> => {
    let result: RecordChangeResult;
    try {
      result = await options.changes.record(input, { kind: 'api' });
    } catch (err) {
      const error = toAppError(err);
      if (error.httpStatus >= 500) {
        logger.error({ err, service: input.service, kind: input.kind }, 'change not recorded');
      }
      sendError(res, error);
      return;
    }
    if (result.created) {
      logger.info(
        { changeId: result.change.id, service: result.change.service, kind: result.change.kind },
        'change recorded',
      );
    }
    res.status(result.created ? 201 : 200).json(result);
  };

  router.post('/changes', authenticate, readBody, async (req, res) => {
    const parsed = changeBody.safeParse(parseJson(req.body));
    if (!parsed.success) throw validationError('change', parsed.error.issues);
    const body = parsed.data;
    await record(res, {
      service: body.service,
      kind: body.kind,
      fromVersion: body.from ?? null,
      toVersion: body.to ?? null,
      author: body.author ?? null,
      at: body.at ? new Date(body.at) : null,
      summary: body.summary ?? null,
      diff: body.diff ?? null,
      link: body.link ?? null,
      externalId: body.id ?? null,
    });
  });

  router.post('/changes/langfuse', authenticate, readBody, async (req, res) => {
    const query = langfuseQuery.safeParse(req.query);
    if (!query.success) throw validationError('query', query.error.issues);
    const json = parseJson(req.body);
    // Acknowledge event types this adapter does not map, so Langfuse does not retry them.
    const type = isObject(json) ? json.type : undefined;
    if (typeof type === 'string' && type !== 'prompt-version') {
      res.status(200).json({ status: 'ignored', reason: `Langfuse ${type} events are not recorded` });
      return;
    }
    const parsed = langfuseEvent.safeParse(json);
    if (!parsed.success) throw validationError('Langfuse webhook', parsed.error.issues);
    const event = parsed.data;
    const labels = query.data.label;
    if (labels && labels.length > 0 && !event.prompt.labels.some((label) => labels.includes(label))) {
      res.status(200).json({
        status: 'ignored',
        reason: `prompt ${event.prompt.name} v${event.prompt.version} has none of the labels ${labels.join(', ')}`,
      });
      return;
    }
    await record(res, langfuseChange(event, query.data.service));
  });

  router.get('/api/changes', authenticate, async (req, res) => {
    const query = listQuery.safeParse(req.query);
    if (!query.success) throw validationError('query', query.error.issues);
    const { service, kind, since, until, limit } = query.data;
    const from = since ? parseSince(since, options.clock.now()) : undefined;
    const changes = await options.changes.list({
      limit,
      ...(service ? { service } : {}),
      ...(kind ? { kinds: kind } : {}),
      ...(from ? { from } : {}),
      ...(until ? { to: new Date(until) } : {}),
    });
    res.json({ changes });
  });

  return router;
}

function parseJson(body: unknown): unknown {
  const raw = Buffer.isBuffer(body) ? body.toString('utf8') : '';
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw new AppError('validation_failed', `The body is not valid JSON: ${(err as Error).message}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseSince(since: string, now: Date): Date {
  const duration = DURATION.exec(since);
  if (duration) {
    const from = new Date(
      now.getTime() - Number(duration[1]) * DURATION_MS[duration[2] as keyof typeof DURATION_MS],
    );
    if (!isStorableTime(from)) {
      throw validationError('query', [
        { path: ['since'], message: `reaches back too far: ${STORABLE_TIME_MESSAGE}` },
      ]);
    }
    return from;
  }
  const parsed = timestamp.safeParse(since);
  if (!parsed.success) {
    throw validationError('query', [
      {
        path: ['since'],
        message: `${parsed.error.issues[0]?.message ?? RFC3339}, or a duration such as 30m, 24h or 7d`,
      },
    ]);
  }
  return new Date(parsed.data);
}

/** Maps a Langfuse prompt-version event to a `prompt` change; its event id makes retries no-ops. */
function langfuseChange(event: LangfuseEvent, service: string): RecordChangeInput {
  const { prompt } = event;
  const version = `${prompt.name} v${prompt.version}`;
  const labels = prompt.labels.length > 0 ? prompt.labels.join(', ') : 'none';
  let summary: string;
  switch (event.action) {
    case 'created':
      summary = `Langfuse: new version of prompt ${prompt.name} (labels: ${labels})`;
      if (prompt.commitMessage?.trim()) summary += `: ${prompt.commitMessage.trim()}`;
      break;
    case 'updated':
      summary = `Langfuse: labels or tags of prompt ${version} changed (labels now: ${labels})`;
      break;
    case 'deleted':
      summary = `Langfuse: prompt ${version} deleted`;
      break;
  }
  return {
    service,
    kind: 'prompt',
    fromVersion: event.action === 'deleted' ? version : null,
    toVersion: event.action === 'deleted' ? null : version,
    author: event.user?.email || event.user?.name || event.user?.id || null,
    at: new Date(event.timestamp),
    summary: summary.slice(0, CHANGE_LIMITS.summary),
    diff: null,
    link: null,
    externalId: `langfuse:${event.id}`,
  };
}
