import type { Knex } from 'knex';
import type { ChangeEvent, NewChangeEvent } from '../../changes/change-event.js';
import type { ChangeEventReader } from '../../checks/check-type.js';
import type { ChangeEventFilter, ChangeEventStore } from '../../incidents/ports.js';

interface ChangeEventRow {
  id: number;
  service: string;
  kind: ChangeEvent['kind'];
  from_version: string | null;
  to_version: string | null;
  author: string | null;
  at: Date;
  summary: string | null;
  diff: string | null;
  link: string | null;
  external_id: string | null;
  recorded_at: Date;
}

function toChangeEvent(row: ChangeEventRow): ChangeEvent {
  return {
    id: row.id,
    service: row.service,
    kind: row.kind,
    fromVersion: row.from_version,
    toVersion: row.to_version,
    author: row.author,
    at: row.at,
    summary: row.summary,
    diff: row.diff,
    link: row.link,
    externalId: row.external_id,
    recordedAt: row.recorded_at,
  };
}

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;

/**
 * `change_events` in Postgres. Serves the domain (recording, the API) and the diagnosis
 * `changes` check, which reads recent changes of a service through `ChangeEventReader`.
 */
export class KnexChangeEventStore implements ChangeEventStore, ChangeEventReader {
  constructor(private readonly db: Knex | Knex.Transaction) {}

  async insert(change: NewChangeEvent): Promise<ChangeEvent | undefined> {
    const rows = await this.db('change_events')
      .insert({
        service: change.service,
        kind: change.kind,
        from_version: change.fromVersion,
        to_version: change.toVersion,
        author: change.author,
        at: change.at,
        summary: change.summary,
        diff: change.diff,
        link: change.link,
        external_id: change.externalId,
        recorded_at: change.recordedAt,
      })
      .onConflict('external_id')
      .ignore()
      .returning('*');
    const row = rows[0] as ChangeEventRow | undefined;
    return row ? toChangeEvent(row) : undefined;
  }

  async findByExternalId(externalId: string): Promise<ChangeEvent | undefined> {
    const row = await this.db<ChangeEventRow>('change_events').where({ external_id: externalId }).first();
    return row ? toChangeEvent(row as ChangeEventRow) : undefined;
  }

  /** Newest first (by `at`, then by id); `from` and `to` are inclusive. */
  async list(filter: ChangeEventFilter): Promise<ChangeEvent[]> {
    const query = this.db<ChangeEventRow>('change_events')
      .orderBy([
        { column: 'at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(Math.max(1, Math.min(filter.limit ?? DEFAULT_LIMIT, MAX_LIMIT)));
    if (filter.service !== undefined && filter.service !== null) query.where('service', filter.service);
    if (filter.kinds && filter.kinds.length > 0) query.whereIn('kind', [...filter.kinds]);
    if (filter.from) query.where('at', '>=', filter.from);
    if (filter.to) query.where('at', '<=', filter.to);
    return (await query).map((row) => toChangeEvent(row as ChangeEventRow));
  }
}
