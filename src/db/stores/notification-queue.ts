import type { NotificationIntent, NotificationQueue } from '../../incidents/ports.js';
import type { TrailingWrites } from './trailing-writes.js';

/**
 * Writes notification intents into `slack_outbox` within the caller's transaction, with its
 * other trailing writes when the work is done.
 */
export class KnexNotificationQueue implements NotificationQueue {
  constructor(
    private readonly trailing: TrailingWrites,
    private readonly onEnqueue: () => void,
  ) {}

  async enqueue(incidentId: number, intent: NotificationIntent): Promise<void> {
    this.trailing.enqueue(incidentId, intent);
    this.onEnqueue();
  }
}
