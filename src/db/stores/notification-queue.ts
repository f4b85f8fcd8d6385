import type { Knex } from 'knex';
import type { NotificationIntent, NotificationQueue } from '../../incidents/ports.js';

/** Writes notification intents into `slack_outbox` within the caller's transaction. */
export class KnexNotificationQueue implements NotificationQueue {
  constructor(
    private readonly db: Knex | Knex.Transaction,
    private readonly onEnqueue: () => void,
  ) {}

  async enqueue(incidentId: number, intent: NotificationIntent): Promise<void> {
    // A pending update already renders the latest state when it runs, so another one adds nothing.
    await this.db.raw(
      `insert into slack_outbox (incident_id, kind, status, next_attempt_at, created_at)
       values (?, ?, 'pending', now(), now())
       on conflict (incident_id, kind) where status = 'pending' and kind = 'incident.updated' do nothing`,
      [incidentId, intent.kind],
    );
    this.onEnqueue();
  }
}
