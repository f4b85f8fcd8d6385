import type { z } from 'zod';
import { ActionError, maskKey } from '../action-error.js';
import type { ActionContext, IntegrationClient, UndoContext } from '../action-type.js';
import { type HttpMethod, supportsRequestOptions } from '../integration-client.js';

type AnyContext = Pick<ActionContext<unknown>, 'checkpoint' | 'logger'> &
  Partial<Pick<ActionContext<unknown>, 'isDryRun' | 'recordPreviousState'>>;

/**
 * Reads the state an action is about to change. When executing, the read goes through a checkpoint:
 * a run retried after the change was applied reuses what was read before it, so `previousState`
 * still describes the state before the change; it is also recorded on the run at once. A dry run
 * reads afresh and stores nothing (the execution that may follow, later and after approval, must
 * not reuse a stale preview).
 */
export async function snapshot<T>(ctx: AnyContext, key: string, read: () => Promise<T>): Promise<T> {
  if (ctx.isDryRun) return read();
  const state = await ctx.checkpoint(key, read);
  await ctx.recordPreviousState?.(state);
  return state;
}

/**
 * Sends a request with extra headers. Clients from createIntegrationClient take them; any other
 * client gets the request without them, and a warning says so.
 */
export function send<T>(
  ctx: Pick<AnyContext, 'logger'>,
  client: IntegrationClient,
  method: HttpMethod,
  path: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<T> {
  if (supportsRequestOptions(client)) return client.request<T>(method, path, body, { headers });
  ctx.logger.warn(
    { headers: Object.keys(headers) },
    'this integration client takes no per-request headers; sending the request without them',
  );
  return client.request<T>(method, path, body);
}

/** Validates an integration's answer, so that a surprising shape fails clearly instead of later. */
export function expectShape<S extends z.ZodType>(
  schema: S,
  value: unknown,
  integration: string,
  what: string,
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
  throw new ActionError({
    integration,
    kind: 'invalid',
    integrationMessage: `unexpected answer to ${what} (${where}${issue?.message ?? 'invalid'})`,
  });
}

/** Validates what `run` recorded before `undo` relies on it. */
export function previousStateOf<S extends z.ZodType>(
  schema: S,
  ctx: Pick<UndoContext<unknown>, 'previousState'>,
  actionId: string,
): z.output<S> {
  const parsed = schema.safeParse(ctx.previousState);
  if (parsed.success) return parsed.data;
  throw new ActionError({
    integration: actionId,
    kind: 'invalid',
    integrationMessage: `cannot undo: the recorded previous state is not what ${actionId} records`,
  });
}

/** `key sk-…abcd` or `team t-1`, for change targets and summaries (never the full key). */
export function describeGatewayTarget(target: {
  key?: string | undefined;
  team_id?: string | undefined;
}): string {
  return target.key !== undefined ? `key ${maskKey(target.key)}` : `team ${target.team_id ?? '?'}`;
}

export const LITELLM_CHANGED_BY = 'litellm-changed-by';
