import type { Knex } from 'knex';
import type { ActionRun, AuditEntry } from '../../actions/action-run.js';
import type { ActionRunPatch, ActionRunStore, NewActionRun } from '../../actions/ports.js';

interface RunRow {
  id: number;
  incident_id: number;
  session_id: number | null;
  node_id: string | null;
  action_id: string;
  kind: ActionRun['kind'];
  undo_of: number | null;
  params: Record<string, unknown>;
  risk: ActionRun['risk'];
  status: ActionRun['status'];
  auto_key: string | null;
  requested_by: string;
  requested_at: Date;
  approved_by: string | null;
  approved_at: Date | null;
  executed_by: string | null;
  executed_at: Date | null;
  preview: ActionRun['preview'];
  outcome: ActionRun['outcome'];
  previous_state: unknown;
  error: string | null;
  lease_until: Date | null;
  verify_at: Date | null;
  verification: ActionRun['verification'];
  finished_at: Date | null;
  updated_at: Date;
}

interface AuditRow {
  id: string | number;
  run_id: number;
  incident_id: number;
  at: Date;
  actor: string;
  event: AuditEntry['event'];
  data: AuditEntry['data'];
}

function toRun(row: RunRow): ActionRun {
  return {
    id: row.id,
    incidentId: row.incident_id,
    sessionId: row.session_id,
    nodeId: row.node_id,
    actionId: row.action_id,
    kind: row.kind,
    undoOf: row.undo_of,
    params: row.params,
    risk: row.risk,
    status: row.status,
    autoKey: row.auto_key,
    requestedBy: row.requested_by,
    requestedAt: row.requested_at,
    approvedBy: row.approved_by,
    approvedAt: row.approved_at,
    executedBy: row.executed_by,
    executedAt: row.executed_at,
    preview: row.preview,
    outcome: row.outcome,
    previousState: row.previous_state,
    error: row.error,
    leaseUntil: row.lease_until,
    verifyAt: row.verify_at,
    verification: row.verification,
    finishedAt: row.finished_at,
    updatedAt: row.updated_at,
  };
}

const COLUMNS: Record<keyof ActionRunPatch, keyof RunRow> = {
  status: 'status',
  approvedBy: 'approved_by',
  approvedAt: 'approved_at',
  executedBy: 'executed_by',
  executedAt: 'executed_at',
  outcome: 'outcome',
  previousState: 'previous_state',
  error: 'error',
  leaseUntil: 'lease_until',
  verifyAt: 'verify_at',
  verification: 'verification',
  finishedAt: 'finished_at',
  updatedAt: 'updated_at',
};

const JSON_COLUMNS = new Set<string>(['outcome', 'previous_state', 'verification']);

/** jsonb needs JSON text; `undefined` (nothing recorded) is stored as SQL null. */
function json(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

/** Action runs, checkpoints and the append-only audit in Postgres. */
export class KnexActionRunStore implements ActionRunStore {
  constructor(private readonly db: Knex | Knex.Transaction) {}

  private get inTransaction(): boolean {
    return 'commit' in this.db;
  }

  async create(input: NewActionRun): Promise<ActionRun> {
    const [row] = await this.db('action_runs')
      .insert({
        incident_id: input.incidentId,
        session_id: input.sessionId,
        node_id: input.nodeId,
        action_id: input.actionId,
        kind: input.kind,
        undo_of: input.undoOf,
        params: JSON.stringify(input.params),
        risk: input.risk,
        status: input.status,
        auto_key: input.autoKey,
        requested_by: input.requestedBy,
        requested_at: input.at,
        preview: json(input.preview),
        error: input.error,
        finished_at: input.status === 'failed' ? input.at : null,
        updated_at: input.at,
      })
      .returning('*');
    return toRun(row as RunRow);
  }

  async get(id: number): Promise<ActionRun | undefined> {
    const row = await this.db<RunRow>('action_runs').where({ id }).first();
    return row ? toRun(row as RunRow) : undefined;
  }

  async getForUpdate(id: number): Promise<ActionRun | undefined> {
    const query = this.db<RunRow>('action_runs').where({ id }).first();
    const row = await (this.inTransaction ? query.forUpdate() : query);
    return row ? toRun(row as RunRow) : undefined;
  }

  async update(id: number, patch: ActionRunPatch): Promise<ActionRun> {
    const values: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(patch)) {
      const column = COLUMNS[key as keyof ActionRunPatch];
      values[column] = JSON_COLUMNS.has(column) ? json(value) : value;
    }
    const [row] = await this.db('action_runs').where({ id }).update(values).returning('*');
    return toRun(row as RunRow);
  }

  async findByAutoKey(autoKey: string): Promise<ActionRun | undefined> {
    const row = await this.db<RunRow>('action_runs').where({ auto_key: autoKey }).first();
    return row ? toRun(row as RunRow) : undefined;
  }

  async listForIncident(incidentId: number): Promise<ActionRun[]> {
    const rows = await this.db<RunRow>('action_runs').where({ incident_id: incidentId }).orderBy('id');
    return rows.map((row) => toRun(row as RunRow));
  }

  async listForIncidents(incidentIds: readonly number[]): Promise<ActionRun[]> {
    if (incidentIds.length === 0) return [];
    const rows = await this.db<RunRow>('action_runs')
      .whereIn('incident_id', incidentIds as number[])
      .orderBy('id');
    return rows.map((row) => toRun(row as RunRow));
  }

  async undoOf(runId: number): Promise<ActionRun | undefined> {
    const row = await this.db<RunRow>('action_runs')
      .where({ undo_of: runId })
      .whereNotIn('status', ['failed', 'rejected', 'cancelled'])
      .first();
    return row ? toRun(row as RunRow) : undefined;
  }

  async claimDue(now: Date, leaseUntil: Date, limit: number): Promise<ActionRun[]> {
    // `for update skip locked` lets two processes claim at once without waiting on each other.
    const result = await this.db.raw(
      `update action_runs set lease_until = ?
       where id in (
         select id from action_runs
         where (status = 'executing' and (lease_until is null or lease_until < ?))
            or (status = 'verifying' and verify_at <= ? and (lease_until is null or lease_until < ?))
         order by id
         limit ?
         for update skip locked)
       returning *`,
      [leaseUntil, now, now, now, limit],
    );
    return (result.rows as RunRow[]).map(toRun).sort((a, b) => a.id - b.id);
  }

  async renewLease(id: number, leaseUntil: Date): Promise<void> {
    await this.db('action_runs').where({ id }).update({ lease_until: leaseUntil });
  }

  async checkpoint(runId: number, key: string): Promise<{ result: unknown } | undefined> {
    const row = await this.db('action_checkpoints').where({ run_id: runId, key }).first('result');
    return row ? { result: (row as { result: unknown }).result } : undefined;
  }

  async saveCheckpoint(runId: number, key: string, result: unknown, at: Date): Promise<unknown> {
    // Results are stored as JSON: `undefined` becomes null, so every caller reads the same value back.
    const text = JSON.stringify(result ?? null);
    await this.db('action_checkpoints')
      .insert({ run_id: runId, key, result: text, at })
      .onConflict(['run_id', 'key'])
      .ignore();
    const stored = await this.checkpoint(runId, key);
    return stored?.result ?? null;
  }

  async audit(entry: Omit<AuditEntry, 'id'>): Promise<void> {
    await this.db('action_audit').insert({
      run_id: entry.runId,
      incident_id: entry.incidentId,
      at: entry.at,
      actor: entry.actor,
      event: entry.event,
      data: JSON.stringify(entry.data),
    });
  }

  async auditFor(filter: { runId?: number; incidentId?: number }): Promise<AuditEntry[]> {
    const query = this.db<AuditRow>('action_audit').orderBy('id');
    if (filter.runId !== undefined) query.where({ run_id: filter.runId });
    if (filter.incidentId !== undefined) query.where({ incident_id: filter.incidentId });
    const rows = await query;
    return rows.map((row) => ({
      id: Number(row.id),
      runId: row.run_id,
      incidentId: row.incident_id,
      at: row.at,
      actor: row.actor,
      event: row.event,
      data: row.data,
    }));
  }
}
