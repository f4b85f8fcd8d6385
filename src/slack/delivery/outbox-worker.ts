import { retryWhileUnavailable } from '../../errors.js';
import type { Clock } from '../../incidents/ports.js';
import type { Logger } from '../../logger.js';
import { SlackCallError } from '../slack-gateway.js';
import type { MessageRef, OutboxOp, SlackDeliveryStore } from './delivery-store.js';
import { DeferDelivery } from './incident-slack-sync.js';

/**
 * Nothing tells the outbox when Slack is back but its next try. Capped at five minutes, a
 * one-minute Slack outage held messages back for up to a minute more after Slack returned (and
 * `attempts` also counts rate-limit deferrals, so an edit deferred often backed off longest).
 */
const MAX_BACKOFF_MS = 30_000;

export interface OutboxWorkerOptions {
  store: SlackDeliveryStore;
  /** Delivers an operation; returns the refs of the messages it edited, saved with its completion. */
  handle: (op: OutboxOp) => Promise<readonly MessageRef[]>;
  clock: Clock;
  logger: Logger;
  pollIntervalMs?: number;
  batchSize?: number;
  leaseMs?: number;
  onDeadLetter?: (op: OutboxOp, error: string) => void;
}

/**
 * Delivers the Slack outbox. Operations are claimed with a lease, so a crashed worker's work is
 * picked up again; transient failures back off (at least as long as Slack's Retry-After says);
 * permanent failures are dead-lettered and logged. Rate limits hold back only the operations
 * they concern: the handler defers those (see SlackRateLimits), and the rest go on.
 */
export class OutboxWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private stopping = new AbortController();
  private wakeRequested = false;

  constructor(private readonly options: OutboxWorkerOptions) {}

  start(): void {
    this.stopped = false;
    this.stopping = new AbortController();
    this.schedule(0);
  }

  /** Asks for a pass soon; called after commits that queued notifications. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.wakeRequested = true;
      return;
    }
    this.schedule(0);
  }

  /** Stops polling and waits for the operations in hand to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Runs passes until nothing is due or `timeoutMs` passes; for the demo, tests and shutdown. */
  async drain(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.running;
    while (Date.now() < deadline) {
      const handled = await this.runPass();
      if (handled === 0) {
        const depth = await this.options.store.depth();
        if (depth.pending === 0) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.loop().finally(() => {
        this.running = undefined;
      });
    }, delayMs);
    this.timer.unref?.();
  }

  private async loop(): Promise<void> {
    let handled = 0;
    try {
      handled = await this.runPass();
    } catch (err) {
      this.options.logger.error({ err }, 'outbox pass failed');
    }
    if (this.stopped) return;
    const again = handled > 0 || this.wakeRequested;
    this.wakeRequested = false;
    this.schedule(again ? 0 : (this.options.pollIntervalMs ?? 500));
  }

  private async runPass(): Promise<number> {
    // Small passes: the outbox shares the event loop and the database with intake, and a burst of
    // eight card renders at once showed up in intake's tail latency; four drains as fast.
    const ops = await this.options.store.claim(this.options.batchSize ?? 4, this.options.leaseMs ?? 60_000);
    await Promise.all(ops.map((op) => this.process(op)));
    return ops.length;
  }

  private async process(op: OutboxOp): Promise<void> {
    const log = this.options.logger.child({ incidentId: op.incidentId, opId: op.id, op: op.kind });
    try {
      const edited = await this.options.handle(op);
      await this.record(() => this.options.store.complete(op.id, edited));
    } catch (err) {
      if (err instanceof DeferDelivery) {
        await this.record(() => this.options.store.reschedule(op.id, err.until, null, err.edited));
        return;
      }
      if (err instanceof SlackCallError && !err.retryable) {
        log.error(
          { slackError: err.slackError, method: err.method },
          'Slack refused a notification; it will not be retried',
        );
        await this.record(() => this.options.store.deadLetter(op.id, err.message));
        this.options.onDeadLetter?.(op, err.message);
        return;
      }
      const retryAfterMs = err instanceof SlackCallError ? err.retryAfterMs : undefined;
      const backoff =
        Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(op.attempts - 1, 16)) * (0.8 + Math.random() * 0.4);
      const delay = Math.max(retryAfterMs ?? 0, backoff);
      log.warn(
        { err, attempt: op.attempts, retryInMs: Math.round(delay) },
        'Slack delivery failed; will retry',
      );
      await this.record(() =>
        this.options.store.reschedule(
          op.id,
          new Date(this.options.clock.now().getTime() + delay),
          String(err),
        ),
      );
    }
  }

  /**
   * Writes an operation's outcome, waiting out a database restart: unrecorded, the operation
   * would stay claimed for its whole lease, and the incident's later ones queued behind it.
   */
  private record(write: () => Promise<void>): Promise<void> {
    return retryWhileUnavailable(write, { signal: this.stopping.signal });
  }
}
