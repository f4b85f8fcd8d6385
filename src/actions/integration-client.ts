import { ActionError, maskKey } from './action-error.js';
import type { IntegrationClient, RecordedRequest } from './action-type.js';
import { SIGNATURE_HEADER, signWebhookBody } from './webhook-signature.js';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export type IntegrationAuth =
  | { type: 'basic'; username: string; password: string }
  | { type: 'bearer'; token: string }
  | { type: 'none' };

export interface IntegrationClientOptions {
  /** Shown in errors and logs: `langfuse`, `litellm`, `webhook:reindex`. */
  name: string;
  baseUrl: string;
  auth: IntegrationAuth;
  /** Sent with every request (never recorded). */
  headers?: Record<string, string>;
  fetch?: typeof globalThis.fetch;
  /** The run's signal: aborting it aborts the request in flight. */
  signal: AbortSignal;
  /** Per request; 10 s unless given. */
  timeoutMs?: number;
  /** Signs every body with `X-Aisre-Signature` (see webhook-signature.ts). */
  signing?: { secret: string; now?: () => Date };
  /** Receives every request made, with credentials removed, once its status is known. */
  record: (request: RecordedRequest) => void;
}

/** Extra per-request headers, e.g. `litellm-changed-by` or `X-Aisre-Delivery`. */
export interface RequestOptions {
  headers?: Record<string, string>;
}

const REQUEST_OPTIONS: unique symbol = Symbol.for('aisre.integration-client.request-options');

/** An IntegrationClient that also takes per-request options (what createIntegrationClient returns). */
export interface HttpIntegrationClient extends IntegrationClient {
  readonly [REQUEST_OPTIONS]: true;
  request<T = unknown>(
    method: HttpMethod,
    path: string,
    body?: unknown,
    options?: RequestOptions,
  ): Promise<T>;
}

export function supportsRequestOptions(client: IntegrationClient): client is HttpIntegrationClient {
  return (client as Partial<HttpIntegrationClient>)[REQUEST_OPTIONS] === true;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * A JSON-over-HTTP client for one integration. Requests are JSON; 2xx answers are parsed (JSON, or
 * the text when it is not JSON, or undefined when empty); anything else throws an ActionError
 * carrying the integration's own message. Every request is recorded without credentials: no
 * headers at all, query and body fields named like secrets replaced by `[REDACTED]`, and `key`
 * fields (the LiteLLM key an action targets) masked as `sk-…last4`.
 */
export function createIntegrationClient(options: IntegrationClientOptions): HttpIntegrationClient {
  const doFetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const base = options.baseUrl.replace(/\/+$/, '');
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(base)) {
    throw new ActionError({
      integration: options.name,
      kind: 'invalid',
      integrationMessage: 'the base URL must not contain credentials: configure them as auth',
    });
  }

  async function request<T>(
    method: HttpMethod,
    path: string,
    body?: unknown,
    requestOptions: RequestOptions = {},
  ): Promise<T> {
    const url = joinUrl(base, path);
    const rawBody = body === undefined ? undefined : serialize(options.name, body);
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...options.headers,
      ...requestOptions.headers,
      ...authHeader(options.auth),
    };
    if (rawBody !== undefined) headers['content-type'] = 'application/json';
    if (options.signing) {
      const now = options.signing.now?.() ?? new Date();
      headers[SIGNATURE_HEADER] = signWebhookBody(
        options.signing.secret,
        rawBody ?? '',
        Math.floor(now.getTime() / 1000),
      );
    }
    if (options.signal.aborted) {
      throw new ActionError({
        integration: options.name,
        kind: 'aborted',
        integrationMessage: reasonText(options.signal.reason),
      });
    }
    const recorded = { method, url: redactUrl(url), body: redactBody(body) };
    const timeout = AbortSignal.timeout(timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await doFetch(url, {
        method,
        headers,
        body: rawBody,
        signal: AbortSignal.any([options.signal, timeout]),
        redirect: 'error',
      });
      text = await response.text();
    } catch (err) {
      options.record({ ...recorded, status: null });
      throw transportError(options.name, method, err, options.signal, timeout, timeoutMs, url);
    }
    options.record({ ...recorded, status: response.status });
    const parsed = parseJson(text);
    if (!response.ok) {
      throw new ActionError({
        integration: options.name,
        kind: 'http',
        status: response.status,
        integrationMessage: errorMessage(parsed, text, response.status),
      });
    }
    if (text.trim() === '') return undefined as T;
    return (parsed === NOT_JSON ? text : parsed) as T;
  }

  return { [REQUEST_OPTIONS]: true, request };
}

function joinUrl(base: string, path: string): string {
  if (path === '') return base;
  if (path.startsWith('?')) return `${base}${path}`;
  return `${base}${path.startsWith('/') ? '' : '/'}${path}`;
}

function authHeader(auth: IntegrationAuth): Record<string, string> {
  if (auth.type === 'basic') {
    const token = Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64');
    return { authorization: `Basic ${token}` };
  }
  if (auth.type === 'bearer') return { authorization: `Bearer ${auth.token}` };
  return {};
}

function serialize(integration: string, body: unknown): string {
  try {
    const text = JSON.stringify(body);
    if (text === undefined) throw new Error('the body is not JSON');
    return text;
  } catch (err) {
    throw new ActionError({
      integration,
      kind: 'invalid',
      integrationMessage: `cannot send the body as JSON: ${(err as Error).message}`,
      cause: err,
    });
  }
}

function reasonText(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return typeof reason === 'string' ? reason : 'the run was cancelled';
}

/** Errors that mean the request never left: nothing can have been applied. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

function transportError(
  integration: string,
  method: HttpMethod,
  err: unknown,
  signal: AbortSignal,
  timeout: AbortSignal,
  timeoutMs: number,
  url: string,
): ActionError {
  if (signal.aborted) {
    return new ActionError({
      integration,
      kind: 'aborted',
      integrationMessage: reasonText(signal.reason),
      cause: err,
    });
  }
  // A write that got no answer may still have landed: the run's record must not read as if
  // nothing changed.
  const mayHaveApplied = method === 'GET' ? '' : `; the ${method} may have been applied`;
  if (timeout.aborted) {
    return new ActionError({
      integration,
      kind: 'timeout',
      integrationMessage: `no answer after ${timeoutMs} ms${mayHaveApplied}`,
      cause: err,
    });
  }
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  const detail =
    typeof cause?.code === 'string'
      ? cause.code
      : typeof cause?.message === 'string'
        ? cause.message
        : err instanceof Error
          ? err.message
          : String(err);
  // Runtime messages may quote the URL (and the key in its query): show it as the audit does, and
  // do not chain the raw error, which loggers print with its causes.
  const safe = detail.split(url).join(redactUrl(url));
  const sent = typeof cause?.code !== 'string' || !NOT_SENT.has(cause.code);
  return new ActionError({
    integration,
    kind: 'network',
    integrationMessage: `${safe}${sent ? mayHaveApplied : ''}`,
  });
}

const NOT_JSON = Symbol('not json');

function parseJson(text: string): unknown {
  if (text.trim() === '') return NOT_JSON;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return NOT_JSON;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The integration's own explanation, from the error shapes the integrations use:
 * - LiteLLM `ProxyException`: `{"error":{"message":…,"type":…,"code":"404"}}` (message may itself
 *   be an object such as `{"error":"…"}`);
 * - FastAPI `HTTPException`: `{"detail":{"error":…}}`, `{"detail":"…"}`, or a validation list
 *   `{"detail":[{"loc":[…],"msg":…}]}`;
 * - Langfuse: `{"message":…,"error":…}` where `error` may be a list of zod issues.
 */
export function errorMessage(parsed: unknown, text: string, status: number): string {
  const fromValue = (value: unknown, depth = 0): string | undefined => {
    if (depth > 3 || value === undefined || value === null) return undefined;
    if (typeof value === 'string') return value.trim() === '' ? undefined : value;
    if (Array.isArray(value)) {
      const items = value
        .map((item) => {
          if (!isRecord(item)) return fromValue(item, depth + 1);
          const where = Array.isArray(item.loc)
            ? item.loc.join('.')
            : Array.isArray(item.path)
              ? item.path.join('.')
              : '';
          const what = fromValue(item.msg ?? item.message, depth + 1);
          return what && where ? `${where}: ${what}` : what;
        })
        .filter((item): item is string => Boolean(item));
      return items.length > 0 ? items.slice(0, 3).join('; ') : undefined;
    }
    if (isRecord(value)) {
      const message = fromValue(value.message, depth + 1);
      const detail = fromValue(value.detail, depth + 1);
      const error = fromValue(value.error, depth + 1);
      if (message && error && Array.isArray(value.error)) return `${message}: ${error}`;
      return message ?? detail ?? error;
    }
    return undefined;
  };
  const found = parsed === NOT_JSON ? undefined : fromValue(parsed);
  if (found) return found;
  const snippet = text.trim().slice(0, 200);
  return snippet === '' ? `HTTP ${status}` : snippet;
}

function wordsOf(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

const SECRET_WORDS = new Set([
  'secret',
  'token',
  'password',
  'passwd',
  'pwd',
  'credential',
  'credentials',
  'authorization',
  'auth',
  'apikey',
  'signature',
  'cookie',
]);

/** `key`/`keys` are the key an action targets (masked); other names like secrets are redacted. */
function fieldTreatment(name: string): 'mask' | 'redact' | 'keep' {
  if (name === 'key' || name === 'keys') return 'mask';
  const words = wordsOf(name);
  if (words.some((word) => SECRET_WORDS.has(word) || word === 'key' || word === 'keys')) return 'redact';
  return 'keep';
}

const REDACTED = '[REDACTED]';

function maskValue(value: unknown): unknown {
  if (typeof value === 'string') return maskKey(value);
  if (Array.isArray(value)) return value.map(maskValue);
  return value === null || value === undefined ? value : REDACTED;
}

/** A copy of `body` safe for the audit (see createIntegrationClient). */
export function redactBody(body: unknown, depth = 0): unknown {
  if (depth > 20) return REDACTED;
  if (Array.isArray(body)) return body.map((item) => redactBody(item, depth + 1));
  if (!isRecord(body)) return body;
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body)) {
    const treatment = fieldTreatment(name);
    out[name] =
      treatment === 'mask'
        ? maskValue(value)
        : treatment === 'redact'
          ? REDACTED
          : redactBody(value, depth + 1);
  }
  return out;
}

/** The URL without user info, with secret-like query parameters redacted and `key` masked. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.replace(/\?.*$/, '');
  }
  parsed.username = '';
  parsed.password = '';
  for (const name of [...new Set(parsed.searchParams.keys())]) {
    const treatment = fieldTreatment(name);
    if (treatment === 'keep') continue;
    const values = parsed.searchParams.getAll(name);
    parsed.searchParams.delete(name);
    for (const value of values)
      parsed.searchParams.append(name, treatment === 'mask' ? maskKey(value) : REDACTED);
  }
  return parsed.toString();
}
