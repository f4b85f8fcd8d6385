import { pino } from 'pino';
import type {
  ActionContext,
  ActionType,
  RecordedRequest,
  UndoContext,
} from '../../../src/actions/action-type.js';
import { type IntegrationName, integrationFactory } from '../../../src/actions/integrations.js';
import { type LangfuseFake, startLangfuseFake } from '../../support/langfuse-fake.js';
import { type LiteLLMFake, startLiteLLMFake } from '../../support/litellm-fake.js';
import {
  startWebhookReceiver,
  WEBHOOK_SECRET,
  type WebhookReceiver,
} from '../../support/webhook-receiver.js';

export const ACTOR = 'U0RESPONDER';

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
  /** What executions recorded as the state before their change, in order. */
  previousStates: unknown[];
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
  const previousStates: unknown[] = [];
  const logger = pino({ level: 'silent' });
  const signal = new AbortController().signal;
  const record = (request: RecordedRequest) => recorded.push(request);

  const integrations = integrationFactory({
    langfuse: { url: langfuse.url, publicKey: langfuse.publicKey, secretKey: langfuse.secretKey },
    litellm: { url: litellm.url, apiKey: litellm.masterKey },
    webhooks,
  });
  const integration = (name: IntegrationName) => integrations(name, { signal, record });

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
    previousStates,
    context: (type, params, options = {}) => ({
      ...base(type, params, options),
      isDryRun: options.dryRun ?? false,
      recordPreviousState: async (state: unknown) => {
        previousStates.push(state);
      },
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
