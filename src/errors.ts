/** Every failure the service knows how to explain. Edges (HTTP, Slack, CLI) translate these; nothing else does. */
export type ErrorCode =
  | 'validation_failed'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unavailable'
  | 'internal';

const HTTP_STATUS: Record<ErrorCode, number> = {
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unavailable: 503,
  internal: 500,
};

/** An error whose message is safe to show to the person who caused it. */
export class AppError extends Error {
  readonly httpStatus: number;

  constructor(
    readonly code: ErrorCode,
    readonly userMessage: string,
    options: { cause?: unknown; details?: unknown } = {},
  ) {
    super(userMessage, { cause: options.cause });
    this.name = 'AppError';
    this.httpStatus = HTTP_STATUS[code];
    this.details = options.details;
  }

  readonly details: unknown;
}

/** Builds a validation error from zod issues, naming each bad field by its path. */
export function validationError(
  what: string,
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
): AppError {
  const fields = issues.slice(0, 10).map((issue) => {
    const path = formatPath(issue.path);
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  const more = issues.length > 10 ? ` (and ${issues.length - 10} more)` : '';
  return new AppError('validation_failed', `Invalid ${what}: ${fields.join('; ')}${more}`, {
    details: fields,
  });
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`;
    return out ? `${out}.${String(key)}` : String(key);
  }, '');
}

/** Maps anything thrown to an AppError; unknown failures become `internal` and keep their cause. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (isDatabaseUnavailable(err)) {
    return new AppError('unavailable', 'The database is unavailable; try again shortly.', { cause: err });
  }
  return new AppError('internal', 'Something went wrong on our side; it has been logged.', { cause: err });
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '08000',
  '08001',
  '08003',
  '08006',
]);

/** True when the error means "the database could not be reached", which callers should retry. */
export function isDatabaseUnavailable(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; current && depth < 5; depth++) {
    const candidate = current as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
    if (typeof candidate.code === 'string' && UNAVAILABLE_CODES.has(candidate.code)) return true;
    if (candidate.name === 'KnexTimeoutError') return true;
    if (
      typeof candidate.message === 'string' &&
      /Connection terminated|connection is closed|not queryable|PGlite is closed|Unable to acquire a connection|not currently accepting connections|the database system is (starting up|shutting down)/i.test(
        candidate.message,
      )
    ) {
      return true;
    }
    current = candidate.cause;
  }
  return false;
}

/**
 * Runs `write` again while the database is unreachable, as during a restart or a failover, so that
 * what was already done elsewhere (a Slack post, a machine's transition) is recorded rather than
 * lost or done twice. Other errors are thrown at once; unavailability is thrown once `signal`
 * aborts or `giveUpAfterMs` has passed.
 */
export async function retryWhileUnavailable<T>(
  write: () => Promise<T>,
  options: { signal?: AbortSignal; giveUpAfterMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (options.giveUpAfterMs ?? 60_000);
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (!isDatabaseUnavailable(err) || options.signal?.aborted || Date.now() >= deadline) throw err;
      const wait = Math.min(2000, 100 * 2 ** attempt);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
