import type { IncomingHttpHeaders } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import type {
  ActionContext,
  ActionType,
  RecordedRequest,
  UndoContext,
} from '../../../src/actions/action-type.js';
import { createIntegrationClient } from '../../../src/actions/integration-client.js';
import { verifyWebhookSignature, type WebhookVerification } from '../../../src/actions/webhook-signature.js';
import { type LangfuseFake, startLangfuseFake } from '../../support/langfuse-fake.js';
import { type LiteLLMFake, startLiteLLMFake } from '../../support/litellm-fake.js';

export const ACTOR = 'U0RESPONDER';
export const WEBHOOK_SECRET = 'whsec-test-0123456789abcdef';

/**
 * An in-memory stand-in for the action_checkpoints table: the first result per key is stored (as
 * JSON, like the jsonb column, which cannot hold undefined) and returned to every later call.
 */
export class MemoryCheckpoints {
  readonly stored = new Map<string, string>();
  /** Keys whose function actually ran, in order. */
  readonly executed: string[] = [];

  checkpoint = async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const hit = this.stored.get(key);
    if (hit !== undefined) return JSON.parse(hit) as T;
    const result = await fn();
    if (result === undefined)
      throw new Error(`checkpoint "${key}" returned undefined, which jsonb cannot store`);
    const text = JSON.stringify(result);
    this.stored.set(key, text);
    this.executed.push(key);
    return JSON.parse(text) as T;
  };
}

export interface WebhookDelivery {
  headers: IncomingHttpHeaders;
  rawBody: string;
  body: unknown;
  verification: WebhookVerification;
}

/** A webhook receiver that verifies signatures and answers what the test says. */
export interface WebhookReceiver {
  url: string;
  deliveries: WebhookDelivery[];
  answer(status: number, body: unknown): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(secret = WEBHOOK_SECRET): Promise<WebhookReceiver> {
  const deliveries: WebhookDelivery[] = [];
  const answers: Array<{ status: number; body: unknown }> = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const header = req.headers['x-aisre-signature'];
    deliveries.push({
      headers: req.headers,
      rawBody,
      body: rawBody === '' ? undefined : (JSON.parse(rawBody) as unknown),
      verification: verifyWebhookSignature({
        secret,
        rawBody,
        header: typeof header === 'string' ? header : null,
      }),
    });
    const next = answers.shift() ?? { status: 200, body: { ok: true } };
    res.writeHead(next.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(next.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/aisre`,
    deliveries,
    answer: (status, body) => answers.push({ status, body }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

export interface ContextOptions {
  dryRun?: boolean;
  checkpoints?: MemoryCheckpoints;
  actor?: string;
}

/** The three loopback integrations plus contexts wired to them, as the action runner would. */
export interface ActionHarness {
  langfuse: LangfuseFake;
  litellm: LiteLLMFake;
  webhook: WebhookReceiver;
  /** Every request any action made, as recorded for the audit. */
  recorded: RecordedRequest[];
  context<P>(type: ActionType<P>, params: unknown, options?: ContextOptions): ActionContext<P>;
  undoContext<P>(
    type: ActionType<P>,
    params: unknown,
    previousState: unknown,
    options?: ContextOptions,
  ): UndoContext<P>;
  /** The credentials that must never appear in `recorded`. */
  secrets(): string[];
  close(): Promise<void>;
}

export async function startActionHarness(): Promise<ActionHarness> {
  const [langfuse, litellm, webhook] = await Promise.all([
    startLangfuseFake(),
    startLiteLLMFake(),
    startWebhookReceiver(),
  ]);
  const webhooks: Record<string, { url: string; secret: string }> = {
    reindex: { url: webhook.url, secret: WEBHOOK_SECRET },
  };
  const recorded: RecordedRequest[] = [];
  const logger = pino({ level: 'silent' });
  const signal = new AbortController().signal;
  const record = (request: RecordedRequest) => recorded.push(request);

  const integration = (name: 'langfuse' | 'litellm' | `webhook:${string}`) => {
    if (name === 'langfuse') {
      return createIntegrationClient({
        name,
        baseUrl: langfuse.url,
        auth: { type: 'basic', username: langfuse.publicKey, password: langfuse.secretKey },
        signal,
        record,
      });
    }
    if (name === 'litellm') {
      return createIntegrationClient({
        name,
        baseUrl: litellm.url,
        auth: { type: 'bearer', token: litellm.masterKey },
        signal,
        record,
      });
    }
    const configured = webhooks[name.slice('webhook:'.length)];
    if (!configured) throw new Error(`no webhook named ${name} is configured`);
    return createIntegrationClient({
      name,
      baseUrl: configured.url,
      auth: { type: 'none' },
      signing: { secret: configured.secret },
      signal,
      record,
    });
  };

  const base = <P>(type: ActionType<P>, params: unknown, options: ContextOptions) => ({
    params: type.params.parse(params),
    signal,
    logger,
    actor: options.actor ?? ACTOR,
    checkpoint: (options.checkpoints ?? new MemoryCheckpoints()).checkpoint,
    integration,
  });

  return {
    langfuse,
    litellm,
    webhook,
    recorded,
    context: (type, params, options = {}) => ({
      ...base(type, params, options),
      isDryRun: options.dryRun ?? false,
    }),
    undoContext: (type, params, previousState, options = {}) => ({
      ...base(type, params, options),
      previousState,
    }),
    secrets: () => [langfuse.secretKey, litellm.masterKey, WEBHOOK_SECRET],
    close: async () => {
      await Promise.all([langfuse.close(), litellm.close(), webhook.close()]);
    },
  };
}

/** Runs `fn` and returns what it threw (failing when it did not throw). */
export async function thrown(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}
