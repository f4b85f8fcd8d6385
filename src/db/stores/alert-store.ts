import type { Knex } from 'knex';
import type { AlertOccurrence } from '../../incidents/incident.js';
import type { AlertStore, NewAlertOccurrence, OccurrenceKey } from '../../incidents/ports.js';

interface AlertRow {
  id: number;
  incident_id: number;
  receiver: string;
  fingerprint: string;
  starts_at: Date;
  ends_at: Date | null;
  status: AlertOccurrence['status'];
  alertname: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  generator_url: string | null;
  first_seen_at: Date;
  resolved_seen_at: Date | null;
}

function toOccurrence(row: AlertRow): AlertOccurrence {
  return {
    id: row.id,
    incidentId: row.incident_id,
    receiver: row.receiver,
    fingerprint: row.fingerprint,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    status: row.status,
    alertname: row.alertname,
    labels: row.labels,
    annotations: row.annotations,
    generatorUrl: row.generator_url,
    firstSeenAt: row.first_seen_at,
    resolvedSeenAt: row.resolved_seen_at,
  };
}

/** Alert occurrences, unique per receiver + fingerprint + startsAt. */
export class KnexAlertStore implements AlertStore {
  constructor(private readonly db: Knex | Knex.Transaction) {}

  async findOccurrences(receiver: string, keys: readonly OccurrenceKey[]): Promise<AlertOccurrence[]> {
    if (keys.length === 0) return [];
    // One index lookup per (fingerprint, startsAt) pair, so an alert that fired many times before
    // does not drag its whole history back on every delivery that lists it. LIMIT 1 (the key is
    // unique) keeps the lateral subquery from being flattened into a join that scans the receiver.
    const pairs = [
      ...new Map(
        keys.map((key) => [
          `${key.fingerprint}@${key.startsAt.getTime()}`,
          { fingerprint: key.fingerprint, startsAt: key.startsAt.toISOString() },
        ]),
      ).values(),
    ];
    const { rows } = (await this.db.raw(
      `select o.*
         from jsonb_to_recordset(?::jsonb) as k(fingerprint text, "startsAt" text)
         cross join lateral (
           select * from alert_occurrences a
            where a.receiver = ? and a.fingerprint = k.fingerprint and a.starts_at = k."startsAt"::timestamptz
            limit 1) as o`,
      [JSON.stringify(pairs), receiver],
    )) as { rows: AlertRow[] };
    const wanted = new Set(keys.map((key) => `${key.fingerprint}@${key.startsAt.getTime()}`));
    return rows
      .map((row) => toOccurrence(row as AlertRow))
      .filter((occurrence) => wanted.has(`${occurrence.fingerprint}@${occurrence.startsAt.getTime()}`));
  }

  async insertMany(occurrences: readonly NewAlertOccurrence[]): Promise<AlertOccurrence[]> {
    if (occurrences.length === 0) return [];
    const rows = await this.db('alert_occurrences')
      .insert(
        occurrences.map((o) => ({
          incident_id: o.incidentId,
          receiver: o.receiver,
          fingerprint: o.fingerprint,
          starts_at: o.startsAt,
          ends_at: o.endsAt,
          status: o.status,
          alertname: o.alertname,
          labels: JSON.stringify(o.labels),
          annotations: JSON.stringify(o.annotations),
          generator_url: o.generatorUrl,
          first_seen_at: o.seenAt,
          resolved_seen_at: o.status === 'resolved' ? o.seenAt : null,
        })),
      )
      .onConflict(['receiver', 'fingerprint', 'starts_at'])
      .ignore()
      .returning('*');
    return rows.map((row) => toOccurrence(row as AlertRow));
  }

  async markResolved(
    ids: readonly number[],
    resolutions: ReadonlyMap<number, Date | null>,
    seenAt: Date,
  ): Promise<void> {
    if (ids.length === 0) return;
    const values = ids.map((id) => ({ id, endsAt: resolutions.get(id) ?? seenAt }));
    await this.db.raw(
      `update alert_occurrences as a
          set status = 'resolved', ends_at = v.ends_at::timestamptz, resolved_seen_at = ?
         from (select * from jsonb_to_recordset(?::jsonb) as x(id int, "endsAt" text)) as v(id, ends_at)
        where a.id = v.id and a.status = 'firing'`,
      [seenAt, JSON.stringify(values)],
    );
  }

  async counts(incidentId: number): Promise<{ firing: number; resolved: number }> {
    const rows = (await this.db('alert_occurrences')
      .where({ incident_id: incidentId })
      .select('status')
      .count<{ status: string; count: string | number }[]>('* as count')
      .groupBy('status')) as Array<{ status: string; count: string | number }>;
    const count = (status: string) => Number(rows.find((row) => row.status === status)?.count ?? 0);
    return { firing: count('firing'), resolved: count('resolved') };
  }

  async listForIncident(incidentId: number, limit = 1000): Promise<AlertOccurrence[]> {
    const rows = await this.db<AlertRow>('alert_occurrences')
      .where({ incident_id: incidentId })
      .orderBy([
        { column: 'status', order: 'asc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(limit);
    return rows.map((row) => toOccurrence(row as AlertRow));
  }
}
