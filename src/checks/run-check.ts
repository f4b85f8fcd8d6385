import { setMaxListeners } from 'node:events';
import type { CheckRegistry } from './check-registry.js';
import type { CheckContext, CheckResult, CheckType } from './check-type.js';
import { errorResult } from './check-type.js';
import { parseDuration } from './templates.js';

/** What running a check needs besides its params and signal, which `runCheck` provides. */
export type CheckRunContext = Omit<CheckContext<unknown>, 'params' | 'signal'>;

/** A check as a runbook node states it. */
export interface CheckRunSpec {
  params: unknown;
  /** The type's `defaultTimeoutMs` when absent. */
  timeoutMs?: number;
  /**
   * The runbook's `vars`, substituted into string params before validation. They come from the
   * runbook author, so unlike alert labels they are spliced in as written.
   */
  vars?: Record<string, string | number>;
}

/** A node's check: its id, type, optional timeout (`30s`) and raw params, as in the runbook. */
export interface NodeCheck {
  id: string;
  type: string;
  timeout?: string;
  params: unknown;
}

const VAR_PLACEHOLDER = /\{\{\s*vars\.([A-Za-z0-9_]+)\s*\}\}/g;

class CheckStopped extends Error {}

function withVars(value: unknown, vars: Record<string, string | number>): unknown {
  if (typeof value === 'string') {
    return value.replace(VAR_PLACEHOLDER, (match, name: string) =>
      Object.hasOwn(vars, name) ? String(vars[name]) : match,
    );
  }
  if (Array.isArray(value)) return value.map((item) => withVars(item, vars));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withVars(item, vars)]));
  }
  return value;
}

function stoppedResult(signal: AbortSignal): CheckResult {
  return errorResult((signal.reason as CheckStopped).message);
}

function formatTimeout(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${ms / 1000}s`;
}

/**
 * Runs one check and always settles with a result: bad params, a timeout, cancellation through
 * `parentSignal` and thrown errors all become `error` results. A check that ignores its signal
 * is still cut off at the timeout; its late answer is dropped.
 */
export async function runCheck(
  type: CheckType<unknown>,
  spec: CheckRunSpec,
  ctx: CheckRunContext,
  parentSignal?: AbortSignal,
): Promise<CheckResult> {
  const parsed = type.params.safeParse(withVars(spec.params, spec.vars ?? {}));
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || 'params'}: ${issue.message}`,
    );
    return errorResult(`invalid params: ${problems.join('; ')}`);
  }
  if (parentSignal?.aborted) return errorResult('cancelled before it ran');

  const timeoutMs = spec.timeoutMs ?? type.defaultTimeoutMs;
  const controller = new AbortController();
  const stopped = new Promise<CheckResult>((resolve) => {
    controller.signal.addEventListener('abort', () => resolve(stoppedResult(controller.signal)), {
      once: true,
    });
  });
  const timer = setTimeout(
    () => controller.abort(new CheckStopped(`timed out after ${formatTimeout(timeoutMs)}`)),
    timeoutMs,
  );
  const cancel = () => controller.abort(new CheckStopped('cancelled'));
  parentSignal?.addEventListener('abort', cancel, { once: true });

  const running = (async () => {
    try {
      return await type.run({ ...ctx, params: parsed.data, signal: controller.signal });
    } catch (err) {
      if (controller.signal.aborted) return stoppedResult(controller.signal);
      ctx.logger.warn({ err, checkType: type.type }, 'check threw');
      return errorResult(`check failed: ${(err as Error).message ?? String(err)}`);
    }
  })();
  try {
    return await Promise.race([running, stopped]);
  } finally {
    clearTimeout(timer);
    parentSignal?.removeEventListener('abort', cancel);
  }
}

async function runNodeCheck(
  registry: CheckRegistry,
  check: NodeCheck,
  ctx: CheckRunContext,
  options: RunChecksOptions,
): Promise<CheckResult> {
  const type = registry.get(check.type);
  if (!type) return errorResult(`unknown check type "${check.type}"`);
  let timeoutMs: number | undefined;
  try {
    timeoutMs = check.timeout ? parseDuration(check.timeout) : undefined;
  } catch (err) {
    return errorResult(`invalid timeout: ${(err as Error).message}`);
  }
  return runCheck(
    type,
    { params: check.params, timeoutMs, vars: options.vars },
    { ...ctx, logger: ctx.logger.child({ checkId: check.id, checkType: check.type }) },
    options.signal,
  );
}

/** How `runChecks` is cancelled, templated and reports results. */
export interface RunChecksOptions {
  /** Cancels every check still running, e.g. when the diagnosis is stopped. */
  signal?: AbortSignal;
  vars?: Record<string, string | number>;
  onResult?: (checkId: string, result: CheckResult) => void | Promise<void>;
}

/**
 * Runs a node's checks in parallel (they are independent) and reports each result through
 * `onResult` as soon as it is in, so fast checks show while slow ones run. Resolves with every
 * result by check id and never rejects: a failing `onResult` is logged.
 */
export async function runChecks(
  registry: CheckRegistry,
  checks: readonly NodeCheck[],
  ctx: CheckRunContext,
  options: RunChecksOptions = {},
): Promise<Record<string, CheckResult>> {
  // Each check listens for cancellation. On the caller's signal, the default runbook's ten triage
  // checks and the caller's own listener made Node print a listener-leak warning for every
  // diagnosis; the node's checks listen on a signal of their own, relayed from the caller's.
  const parent = options.signal;
  const node = new AbortController();
  setMaxListeners(Math.max(10, checks.length), node.signal);
  const relay = () => node.abort(parent?.reason);
  if (parent?.aborted) relay();
  else parent?.addEventListener('abort', relay, { once: true });
  const nodeOptions = { ...options, signal: node.signal };
  try {
    return await runAll(registry, checks, ctx, nodeOptions);
  } finally {
    parent?.removeEventListener('abort', relay);
  }
}

async function runAll(
  registry: CheckRegistry,
  checks: readonly NodeCheck[],
  ctx: CheckRunContext,
  options: RunChecksOptions,
): Promise<Record<string, CheckResult>> {
  const entries = await Promise.all(
    checks.map(async (check): Promise<[string, CheckResult]> => {
      const result = await runNodeCheck(registry, check, ctx, options);
      try {
        await options.onResult?.(check.id, result);
      } catch (err) {
        // The result still reaches the caller in the returned record; one failed report must
        // not discard the others.
        ctx.logger.error({ err, checkId: check.id }, 'could not report a check result');
      }
      return [check.id, result];
    }),
  );
  return Object.fromEntries(entries);
}
