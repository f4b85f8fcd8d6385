import type { Knex } from 'knex';
import type { NewTimelineEntry } from '../../incidents/incident.js';
import type { NotificationIntent } from '../../incidents/ports.js';

/**
 * What a unit of work writes last and does not read back: its timeline entries and
 * notification intents. They go to the database together, in one statement, when the work is
 * done, rather than in a round trip each; sending a statement is a good part of what a
 * delivery costs.
 */
export class TrailingWrites {
  private timeline: Array<Record<string, unknown>> = [];
  private notifications: Array<{ incident_id: number; kind: NotificationIntent['kind'] }> = [];

  constructor(private readonly trx: Knex.Transaction) {}

  appendTimeline(incidentId: number, entries: readonly NewTimelineEntry[]): void {
    for (const entry of entries) {
      this.timeline.push({
        incident_id: incidentId,
        at: entry.at.toISOString(),
        actor: entry.actor,
        kind: entry.kind,
        summary: entry.summary,
        data: entry.data,
      });
    }
  }

  enqueue(incidentId: number, intent: NotificationIntent): void {
    this.notifications.push({ incident_id: incidentId, kind: intent.kind });
  }

  /** Writes what was gathered, in the order it was gathered. */
  async flush(): Promise<void> {
    const parts: string[] = [];
    const bindings: string[] = [];
    if (this.timeline.length > 0) {
      parts.push(`timeline as (
        insert into incident_timeline (incident_id, at, actor, kind, summary, data)
        select (e->>'incident_id')::int, (e->>'at')::timestamptz, e->>'actor', e->>'kind', e->>'summary', e->'data'
          from jsonb_array_elements(?::jsonb) with ordinality as t(e, n)
         order by n)`);
      bindings.push(JSON.stringify(this.timeline));
    }
    if (this.notifications.length > 0) {
      // A pending update already renders the latest state when it runs, so another one adds nothing.
      parts.push(`outbox as (
        insert into slack_outbox (incident_id, kind, status, next_attempt_at, created_at)
        select (e->>'incident_id')::int, e->>'kind', 'pending', now(), now()
          from jsonb_array_elements(?::jsonb) with ordinality as t(e, n)
         order by n
        on conflict (incident_id, kind) where status = 'pending' and kind = 'incident.updated' do nothing)`);
      bindings.push(JSON.stringify(this.notifications));
    }
    if (parts.length === 0) return;
    this.timeline = [];
    this.notifications = [];
    await this.trx.raw(`with ${parts.join(', ')} select 1`, bindings);
  }
}
