import type { Logger } from '../logger.js';
import type { ActionDefinition } from './action-catalog.js';

/** One field an action changed (or, in a dry run, would change). */
export interface ActionChange {
  /** What changed, e.g. `prompt "rag-answer" production label` or `key sk-…a1 rpm_limit`. */
  target: string;
  from: unknown;
  to: unknown;
}

/** An HTTP request an action made, as recorded in the audit: credentials are never included. */
export interface RecordedRequest {
  method: string;
  url: string;
  body: unknown;
  status: number | null;
}

/** What running (or previewing, or undoing) an action did. */
export interface ActionOutcome {
  summary: string;
  changes: ActionChange[];
  /** The state to restore on undo; recorded before anything changed. */
  previousState: unknown;
}

/**
 * Makes an HTTP call to one configured integration (Langfuse, LiteLLM, a webhook). Base URL and
 * credentials come from config; the call is recorded for the audit without them. Errors carry
 * the integration's own message.
 */
export interface IntegrationClient {
  request<T = unknown>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T>;
}

export interface ActionContext<P> {
  params: P;
  isDryRun: boolean;
  signal: AbortSignal;
  logger: Logger;
  /** The Slack user (or `system`) on whose behalf it runs, for attribution headers. */
  actor: string;
  /**
   * Runs `fn` at most once per action run and key, even across retries and restarts: the first
   * result is stored in Postgres and returned to every later call. Every side effect goes through
   * a checkpoint.
   */
  checkpoint<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /**
   * Stores the state an execution is about to change, before it changes it, so that an undo is
   * possible even if the run dies before it reports its outcome. Not called in a dry run.
   */
  recordPreviousState(state: unknown): Promise<void>;
  integration(name: 'langfuse' | 'litellm' | `webhook:${string}`): IntegrationClient;
}

export interface UndoContext<P> extends Omit<ActionContext<P>, 'isDryRun' | 'recordPreviousState'> {
  /** What `run` recorded as the state before it changed anything. */
  previousState: unknown;
}

/**
 * A runbook action plugin: the catalog definition (id, description, params, risk, dry-run
 * support) plus `run` and `undo`. `run` reads the current state, reports the change, and, unless
 * it is a dry run, applies it through checkpoints.
 */
export interface ActionType<P = unknown> extends ActionDefinition<P> {
  run(ctx: ActionContext<P>): Promise<ActionOutcome>;
  undo(ctx: UndoContext<P>): Promise<ActionOutcome>;
}
