import type { Knex } from 'knex';
import type { NewTimelineEntry, TimelineEntry } from '../../incidents/incident.js';
import type { TimelineStore } from '../../incidents/ports.js';
import type { TrailingWrites } from './trailing-writes.js';

interface TimelineRow {
  id: number;
  incident_id: number;
  at: Date;
  actor: string;
  kind: TimelineEntry['kind'];
  summary: string;
  data: Record<string, unknown>;
}

/**
 * The append-only incident timeline; the table itself refuses updates and deletes. In a unit of
 * work, entries are written with the work's other trailing writes when it is done.
 */
export class KnexTimelineStore implements TimelineStore {
  constructor(
    private readonly db: Knex | Knex.Transaction,
    private readonly trailing?: TrailingWrites,
  ) {}

  async append(incidentId: number, entries: readonly NewTimelineEntry[]): Promise<void> {
    if (entries.length === 0) return;
    if (this.trailing) {
      this.trailing.appendTimeline(incidentId, entries);
      return;
    }
    await this.db('incident_timeline').insert(
      entries.map((entry) => ({
        incident_id: incidentId,
        at: entry.at,
        actor: entry.actor,
        kind: entry.kind,
        summary: entry.summary,
        data: JSON.stringify(entry.data),
      })),
    );
  }

  async list(incidentId: number): Promise<TimelineEntry[]> {
    await this.trailing?.flush();
    const rows = await this.db<TimelineRow>('incident_timeline')
      .where({ incident_id: incidentId })
      .orderBy('id');
    return rows.map((row) => ({
      id: Number(row.id),
      incidentId: row.incident_id,
      at: row.at,
      actor: row.actor,
      kind: row.kind,
      summary: row.summary,
      data: row.data,
    }));
  }
}
