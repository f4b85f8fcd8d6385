import { ActionError } from './action-error.js';
import type { ActionContext, IntegrationClient, RecordedRequest } from './action-type.js';
import { createIntegrationClient } from './integration-client.js';

/** Where actions reach their integrations, and with which credentials (from config). */
export interface IntegrationSettings {
  langfuse: { url: string; publicKey: string; secretKey: string } | undefined;
  litellm: { url: string; apiKey: string | undefined } | undefined;
  webhooks: Readonly<Record<string, { url: string; secret: string }>>;
  timeoutMs?: number;
  fetch?: typeof globalThis.fetch;
}

export type IntegrationName = Parameters<ActionContext<unknown>['integration']>[0];

/** Makes the client for one integration within one run: aborted with the run, recorded for its audit. */
export type IntegrationFactory = (
  name: IntegrationName,
  scope: { signal: AbortSignal; record: (request: RecordedRequest) => void },
) => IntegrationClient;

function notConfigured(name: string, how: string): ActionError {
  return new ActionError({
    integration: name,
    kind: 'invalid',
    integrationMessage: `not configured: ${how}`,
  });
}

/**
 * The integration clients of the built-in actions: Langfuse with Basic auth (public key : secret
 * key), LiteLLM with its admin key as a Bearer token, and each AISRE_WEBHOOKS entry unauthenticated
 * but HMAC-signed with its secret. Asking for one that is not configured fails the run with a
 * message that names the variables to set.
 */
export function integrationFactory(settings: IntegrationSettings): IntegrationFactory {
  const common = {
    ...(settings.timeoutMs !== undefined ? { timeoutMs: settings.timeoutMs } : {}),
    ...(settings.fetch ? { fetch: settings.fetch } : {}),
  };
  return (name, scope) => {
    if (name === 'langfuse') {
      const langfuse = settings.langfuse;
      if (!langfuse)
        throw notConfigured(name, 'set LANGFUSE_URL, LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY');
      return createIntegrationClient({
        ...common,
        ...scope,
        name,
        baseUrl: langfuse.url,
        auth: { type: 'basic', username: langfuse.publicKey, password: langfuse.secretKey },
      });
    }
    if (name === 'litellm') {
      const litellm = settings.litellm;
      if (!litellm) throw notConfigured(name, 'set LITELLM_URL (and LITELLM_API_KEY)');
      return createIntegrationClient({
        ...common,
        ...scope,
        name,
        baseUrl: litellm.url,
        auth: litellm.apiKey ? { type: 'bearer', token: litellm.apiKey } : { type: 'none' },
      });
    }
    const webhookName = name.slice('webhook:'.length);
    const webhook = Object.hasOwn(settings.webhooks, webhookName)
      ? settings.webhooks[webhookName]
      : undefined;
    if (!webhook) {
      const known = Object.keys(settings.webhooks);
      throw notConfigured(
        name,
        `add "${webhookName}" to AISRE_WEBHOOKS (configured: ${known.length > 0 ? known.join(', ') : 'none'})`,
      );
    }
    return createIntegrationClient({
      ...common,
      ...scope,
      name,
      baseUrl: webhook.url,
      auth: { type: 'none' },
      signing: { secret: webhook.secret },
    });
  };
}
