/**
 * Why an action failed:
 * - `http`: the integration answered with a non-2xx status;
 * - `network`: it could not be reached (refused, reset, DNS);
 * - `timeout`: it did not answer in time;
 * - `aborted`: the run's signal was aborted (shutdown, cancellation);
 * - `invalid`: the request could not be made or the state to act on is not what the action needs
 *   (an oversized webhook body, an unreadable previous state, a deployment that does not exist).
 */
export type ActionErrorKind = 'http' | 'network' | 'timeout' | 'aborted' | 'invalid';

/**
 * A failed call to an integration (or a precondition an action could not meet). The message names
 * the integration and carries its own explanation, with anything that looks like a key masked.
 * `retryable` is true for 5xx, 408, 429, network failures, timeouts and aborts: running again may
 * succeed, and checkpoints keep a retry from applying a change twice. A 4xx will fail the same way
 * again, so it is not retryable.
 */
export class ActionError extends Error {
  readonly integration: string;
  readonly status: number | null;
  readonly retryable: boolean;
  readonly kind: ActionErrorKind;
  /** The integration's own message (or the network error's), masked and at most 500 characters. */
  readonly integrationMessage: string;

  constructor(options: {
    integration: string;
    kind: ActionErrorKind;
    integrationMessage: string;
    status?: number | null;
    retryable?: boolean;
    cause?: unknown;
  }) {
    const status = options.status ?? null;
    const integrationMessage = maskKeys(options.integrationMessage).slice(0, 500);
    super(describe(options.integration, options.kind, status, integrationMessage), { cause: options.cause });
    this.name = 'ActionError';
    this.integration = options.integration;
    this.kind = options.kind;
    this.status = status;
    this.integrationMessage = integrationMessage;
    this.retryable =
      options.retryable ??
      (options.kind === 'http' ? status !== null && isRetryableStatus(status) : options.kind !== 'invalid');
  }
}

/** 5xx, 408 (request timeout) and 429 (rate limited) may succeed later; other statuses will not. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

function describe(
  integration: string,
  kind: ActionErrorKind,
  status: number | null,
  message: string,
): string {
  switch (kind) {
    case 'http':
      return `${integration} answered ${status ?? '?'}: ${message}`;
    case 'network':
      return `${integration} could not be reached: ${message}`;
    case 'timeout':
      return `${integration} did not answer in time: ${message}`;
    case 'aborted':
      return `the request to ${integration} was aborted: ${message}`;
    case 'invalid':
      return `${integration}: ${message}`;
  }
}

/** Shows a key as `sk-…last4` (or `…last4`): enough to tell keys apart, not enough to use one. */
export function maskKey(value: string): string {
  const prefix = value.startsWith('sk-') ? 'sk-' : '';
  const rest = value.slice(prefix.length);
  return rest.length <= 8 ? `${prefix}…` : `${prefix}…${rest.slice(-4)}`;
}

/** Masks LiteLLM-style keys (`sk-…`) inside free text, such as an integration's error message. */
export function maskKeys(text: string): string {
  return text.replace(/sk-[A-Za-z0-9_-]{6,}/g, (key) => maskKey(key));
}
