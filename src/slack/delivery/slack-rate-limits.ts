/** How long a place in a queue is kept for a call that never came back for it. */
const FORGET_AFTER_MS = 60_000;
/**
 * The most a waiting call is spaced from the one before it. Slack's tiers allow about a call a
 * second (chat.postMessage: per channel); Retry-After says when the limit lifts, not how far
 * apart calls must then be. Spaced a whole Retry-After apart, the second message held back by a
 * one-minute limit arrived a minute after the first.
 */
const MAX_SPACING_MS = 1000;

interface Queue {
  /** No call in this scope before this time. */
  readyAt: number;
  /** The pace calls resume at: Slack's last Retry-After, at most MAX_SPACING_MS. */
  spacingMs: number;
  /** Calls waiting, in order, with the time each was told to come back. */
  waiting: Map<string, number>;
}

/**
 * What one Slack rate limit holds back. chat.postMessage is limited per channel (about one
 * message a second, after a short burst); Slack's other methods are limited per workspace.
 */
export function rateLimitScope(method: string, channel?: string): string {
  return method === 'chat.postMessage' && channel ? `${method} ${channel}` : method;
}

/**
 * The Slack rate limits the outbox has run into, so that a 429 holds back only the calls it is
 * about. After one, the scope's calls wait for Retry-After and then go one per Retry-After
 * interval (at most a second), each in its own place in line: waiting messages are spread out
 * instead of all retrying at once and being refused again. A scope without a 429 behind it is
 * not limited.
 */
export class SlackRateLimits {
  private readonly queues = new Map<string, Queue>();

  /**
   * Whether the call `key` (a message, say) may be made in `scope` now: undefined if so, else
   * when to come back. The caller keeps its place in line until it does.
   */
  reserve(scope: string, key: string, now: number): number | undefined {
    const queue = this.queues.get(scope);
    if (!queue) return undefined;
    for (const [waiting, slot] of queue.waiting) {
      if (slot < now - FORGET_AFTER_MS) queue.waiting.delete(waiting);
    }
    const place = [...queue.waiting.keys()].indexOf(key);
    const slot = queue.readyAt + (place === -1 ? queue.waiting.size : place) * queue.spacingMs;
    if (now < slot) {
      queue.waiting.set(key, slot);
      return slot;
    }
    queue.waiting.delete(key);
    queue.readyAt = now + queue.spacingMs;
    // Once the line is gone, calls go straight to Slack again until it refuses one.
    if (queue.waiting.size === 0) this.queues.delete(scope);
    return undefined;
  }

  /** Records a 429 for `key` in `scope`; returns when it may try again, first in line. */
  limited(scope: string, key: string, now: number, retryAfterMs: number): number {
    const spacingMs = Math.min(retryAfterMs, MAX_SPACING_MS);
    const queue = this.queues.get(scope) ?? { readyAt: 0, spacingMs, waiting: new Map() };
    queue.spacingMs = spacingMs;
    queue.readyAt = Math.max(queue.readyAt, now + retryAfterMs);
    queue.waiting.delete(key);
    queue.waiting = new Map([[key, queue.readyAt], ...queue.waiting]);
    this.queues.set(scope, queue);
    return queue.readyAt;
  }
}
