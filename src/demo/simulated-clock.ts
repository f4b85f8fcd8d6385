import type { Clock } from '../incidents/ports.js';

/**
 * The demo's clock: it runs with the wall clock and jumps ahead when the story skips the dull
 * minutes (waiting for an alert's group interval or an action's settle time). aisre, the
 * reference app's traffic, the scrapes and the rule evaluations all read it, so every window,
 * `for:` and settle time is measured on the same simulated time.
 *
 * It starts in the past and may never overtake the wall clock: aisre's Slack outbox compares the
 * times it schedules (from this clock) with the database's own `now()`, so a clock running ahead
 * would hold messages back until the wall clock caught up.
 */
export class SimulatedClock implements Clock {
  private offsetMs: number;
  private skipped = 0;

  constructor(startMs: number = Date.now()) {
    this.offsetMs = startMs - Date.now();
  }

  now(): Date {
    return new Date(this.nowMs());
  }

  nowMs(): number {
    return Date.now() + this.offsetMs;
  }

  /** How far simulated time has run ahead of the wall clock. */
  skippedMs(): number {
    return this.skipped;
  }

  skip(ms: number): void {
    if (this.nowMs() + ms > Date.now()) {
      throw new Error('the simulated clock would overtake the wall clock; start it further in the past');
    }
    this.offsetMs += Math.max(0, ms);
    this.skipped += Math.max(0, ms);
  }
}
