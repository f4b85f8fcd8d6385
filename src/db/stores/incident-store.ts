import type { Knex } from 'knex';
import type { Incident } from '../../incidents/incident.js';
import { OPEN_STATUSES } from '../../incidents/incident.js';
import type { IncidentFilter, IncidentPatch, IncidentStore, NewIncident } from '../../incidents/ports.js';

interface IncidentRow {
  id: number;
  title: string;
  status: Incident['status'];
  severity: Incident['severity'];
  source: Incident['source'];
  service: string | null;
  description: string | null;
  layer_hint: string | null;
  receiver: string | null;
  group_key: string | null;
  group_labels: Record<string, string>;
  runbook_url: string | null;
  generator_url: string | null;
  external_url: string | null;
  commander_id: string | null;
  responder_ids: string[];
  alerts_firing: number;
  alerts_resolved: number;
  truncated_alerts: number;
  all_alerts_resolved_at: Date | null;
  created_at: Date;
  updated_at: Date;
  acknowledged_at: Date | null;
  mitigated_at: Date | null;
  resolved_at: Date | null;
  diagnosis: Incident['diagnosis'];
}

function toIncident(row: IncidentRow): Incident {
  return {
    id: row.id,
    title: row.title,
    status: row.status,
    severity: row.severity,
    source: row.source,
    service: row.service,
    description: row.description,
    layerHint: row.layer_hint,
    receiver: row.receiver,
    groupKey: row.group_key,
    groupLabels: row.group_labels,
    runbookUrl: row.runbook_url,
    generatorUrl: row.generator_url,
    externalUrl: row.external_url,
    commanderId: row.commander_id,
    responderIds: row.responder_ids,
    alertsFiring: row.alerts_firing,
    alertsResolved: row.alerts_resolved,
    truncatedAlerts: row.truncated_alerts,
    allAlertsResolvedAt: row.all_alerts_resolved_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    acknowledgedAt: row.acknowledged_at,
    mitigatedAt: row.mitigated_at,
    resolvedAt: row.resolved_at,
    diagnosis: row.diagnosis ?? null,
  };
}

const PATCH_COLUMNS: Record<keyof IncidentPatch, keyof IncidentRow> = {
  status: 'status',
  severity: 'severity',
  commanderId: 'commander_id',
  responderIds: 'responder_ids',
  alertsFiring: 'alerts_firing',
  alertsResolved: 'alerts_resolved',
  truncatedAlerts: 'truncated_alerts',
  allAlertsResolvedAt: 'all_alerts_resolved_at',
  acknowledgedAt: 'acknowledged_at',
  mitigatedAt: 'mitigated_at',
  resolvedAt: 'resolved_at',
  diagnosis: 'diagnosis',
  updatedAt: 'updated_at',
};

/** Incidents in Postgres. Given a transaction, `getForUpdate`/`findOpenByGroup` lock the row. */
export class KnexIncidentStore implements IncidentStore {
  constructor(private readonly db: Knex | Knex.Transaction) {}

  private get inTransaction(): boolean {
    return 'commit' in this.db;
  }

  async create(input: NewIncident): Promise<Incident> {
    const [row] = await this.db<IncidentRow>('incidents')
      .insert({
        title: input.title,
        status: 'triggered',
        severity: input.severity,
        source: input.source,
        service: input.service,
        description: input.description,
        layer_hint: input.layerHint,
        receiver: input.receiver,
        group_key: input.groupKey,
        group_labels: JSON.stringify(input.groupLabels) as never,
        runbook_url: input.runbookUrl,
        generator_url: input.generatorUrl,
        external_url: input.externalUrl,
        commander_id: input.commanderId,
        responder_ids: JSON.stringify(input.responderIds) as never,
        created_at: input.at,
        updated_at: input.at,
      })
      .returning('*');
    return toIncident(row as IncidentRow);
  }

  async get(id: number): Promise<Incident | undefined> {
    const row = await this.db<IncidentRow>('incidents').where({ id }).first();
    return row ? toIncident(row as IncidentRow) : undefined;
  }

  async getForUpdate(id: number): Promise<Incident | undefined> {
    const query = this.db<IncidentRow>('incidents').where({ id }).first();
    const row = await (this.inTransaction ? query.forUpdate() : query);
    return row ? toIncident(row as IncidentRow) : undefined;
  }

  async findOpenByGroup(receiver: string, groupKey: string): Promise<Incident | undefined> {
    const query = this.db<IncidentRow>('incidents')
      .where({ receiver, group_key: groupKey })
      .whereIn('status', OPEN_STATUSES as string[])
      .first();
    const row = await (this.inTransaction ? query.forUpdate() : query);
    return row ? toIncident(row as IncidentRow) : undefined;
  }

  async update(id: number, patch: IncidentPatch): Promise<Incident> {
    const values: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(patch)) {
      const column = PATCH_COLUMNS[key as keyof IncidentPatch];
      values[column] =
        key === 'responderIds' || (key === 'diagnosis' && value !== null) ? JSON.stringify(value) : value;
    }
    const [row] = await this.db('incidents').where({ id }).update(values).returning('*');
    return toIncident(row as IncidentRow);
  }

  async list(filter: IncidentFilter): Promise<Incident[]> {
    const query = this.db<IncidentRow>('incidents')
      .orderBy('id', 'desc')
      .limit(Math.min(filter.limit ?? 50, 5000));
    if (filter.createdFrom !== undefined) query.where('created_at', '>=', filter.createdFrom);
    if (filter.statuses) query.whereIn('status', filter.statuses as string[]);
    if (filter.service !== undefined) query.where('service', filter.service);
    if (filter.beforeId !== undefined) query.where('id', '<', filter.beforeId);
    return (await query).map((row) => toIncident(row as IncidentRow));
  }
}
