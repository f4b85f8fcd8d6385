import type { Knex } from 'knex';
import type { CheckResult } from '../../checks/check-type.js';
import type {
  DiagnosisSession,
  DiagnosisStep,
  SessionStatus,
  StepStatus,
} from '../../diagnosis/diagnosis.js';
import type {
  ClaimedSession,
  DiagnosisStore,
  NewDiagnosisSession,
  SessionPatch,
  StepPatch,
} from '../../diagnosis/ports.js';

interface SessionRow {
  id: number;
  incident_id: number;
  runbook_id: string;
  runbook_version: string;
  runbook: DiagnosisSession['runbook'];
  status: SessionStatus;
  current_node: string;
  snapshot: unknown;
  conclusion: DiagnosisSession['conclusion'];
  started_by: string;
  started_at: Date;
  updated_at: Date;
  concluded_at: Date | null;
  remind_at: Date | null;
}

interface StepRow {
  id: number;
  session_id: number;
  seq: number;
  node_id: string;
  status: StepStatus;
  results: Record<string, CheckResult>;
  outcome: string | null;
  next_node: string | null;
  answered_by: string | null;
  answer: string | null;
  started_at: Date;
  finished_at: Date | null;
}

function toSession(row: SessionRow): DiagnosisSession {
  return {
    id: row.id,
    incidentId: row.incident_id,
    runbookId: row.runbook_id,
    runbookVersion: row.runbook_version,
    runbook: row.runbook,
    status: row.status,
    currentNode: row.current_node,
    snapshot: row.snapshot,
    conclusion: row.conclusion,
    startedBy: row.started_by,
    startedAt: row.started_at,
    updatedAt: row.updated_at,
    concludedAt: row.concluded_at,
    remindAt: row.remind_at,
  };
}

function toStep(row: StepRow): DiagnosisStep {
  return {
    id: row.id,
    sessionId: row.session_id,
    seq: row.seq,
    nodeId: row.node_id,
    status: row.status,
    results: row.results,
    outcome: row.outcome,
    nextNode: row.next_node,
    answeredBy: row.answered_by,
    answer: row.answer,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

const SESSION_COLUMNS: Record<keyof SessionPatch, keyof SessionRow> = {
  status: 'status',
  currentNode: 'current_node',
  snapshot: 'snapshot',
  conclusion: 'conclusion',
  concludedAt: 'concluded_at',
  remindAt: 'remind_at',
  updatedAt: 'updated_at',
};

const STEP_COLUMNS: Record<keyof StepPatch, keyof StepRow> = {
  status: 'status',
  outcome: 'outcome',
  nextNode: 'next_node',
  answeredBy: 'answered_by',
  answer: 'answer',
  finishedAt: 'finished_at',
};

const JSON_COLUMNS = new Set(['snapshot', 'conclusion']);

function toColumns<K extends string>(patch: Partial<Record<K, unknown>>, columns: Record<K, string>) {
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(patch)) {
    const column = columns[key as K];
    values[column] = JSON_COLUMNS.has(column) && value !== null ? JSON.stringify(value) : value;
  }
  return values;
}

/** Diagnosis sessions and steps in Postgres. */
export class KnexDiagnosisStore implements DiagnosisStore {
  constructor(private readonly db: Knex | Knex.Transaction) {}

  private get inTransaction(): boolean {
    return 'commit' in this.db;
  }

  async create(input: NewDiagnosisSession): Promise<DiagnosisSession> {
    const [row] = await this.db('diagnosis_sessions')
      .insert({
        incident_id: input.incidentId,
        runbook_id: input.runbookId,
        runbook_version: input.runbookVersion,
        runbook: JSON.stringify(input.runbook),
        status: 'running',
        current_node: input.currentNode,
        snapshot: JSON.stringify(input.snapshot),
        started_by: input.startedBy,
        started_at: input.at,
        updated_at: input.at,
        owner: input.owner,
        lease_until: input.leaseUntil,
      })
      .returning('*');
    return toSession(row as SessionRow);
  }

  async get(id: number): Promise<DiagnosisSession | undefined> {
    const row = await this.db<SessionRow>('diagnosis_sessions').where({ id }).first();
    return row ? toSession(row as SessionRow) : undefined;
  }

  async getForUpdate(id: number): Promise<DiagnosisSession | undefined> {
    const query = this.db<SessionRow>('diagnosis_sessions').where({ id }).first();
    const row = await (this.inTransaction ? query.forUpdate() : query);
    return row ? toSession(row as SessionRow) : undefined;
  }

  async latestForIncident(incidentId: number): Promise<DiagnosisSession | undefined> {
    const row = await this.db<SessionRow>('diagnosis_sessions')
      .where({ incident_id: incidentId })
      .orderBy('id', 'desc')
      .first();
    return row ? toSession(row as SessionRow) : undefined;
  }

  async listByStatus(statuses: readonly SessionStatus[]): Promise<DiagnosisSession[]> {
    const rows = await this.db<SessionRow>('diagnosis_sessions')
      .whereIn('status', statuses as SessionStatus[])
      .orderBy('id');
    return rows.map((row) => toSession(row as SessionRow));
  }

  async concludedAt(incidentIds: readonly number[]): Promise<Map<number, Date>> {
    if (incidentIds.length === 0) return new Map();
    const rows = (await this.db('diagnosis_sessions')
      .whereIn('incident_id', incidentIds as number[])
      .whereNotNull('concluded_at')
      .groupBy('incident_id')
      .select('incident_id')
      .max('concluded_at as concluded_at')) as Array<{ incident_id: number; concluded_at: Date }>;
    return new Map(rows.map((row) => [row.incident_id, new Date(row.concluded_at)]));
  }

  async dueReminders(now: Date): Promise<DiagnosisSession[]> {
    const rows = await this.db<SessionRow>('diagnosis_sessions')
      .where({ status: 'waiting' })
      .where('remind_at', '<=', now)
      .orderBy('remind_at')
      .limit(50);
    return rows.map((row) => toSession(row as SessionRow));
  }

  async update(id: number, patch: SessionPatch): Promise<DiagnosisSession> {
    const [row] = await this.db('diagnosis_sessions')
      .where({ id })
      .update(toColumns(patch, SESSION_COLUMNS))
      .returning('*');
    return toSession(row as SessionRow);
  }

  async ensureStep(
    sessionId: number,
    seq: number,
    nodeId: string,
    at: Date,
    status: StepStatus,
  ): Promise<void> {
    await this.db('diagnosis_steps')
      .insert({ session_id: sessionId, seq, node_id: nodeId, status, started_at: at })
      .onConflict(['session_id', 'seq'])
      .ignore();
  }

  async updateStep(sessionId: number, seq: number, patch: StepPatch): Promise<void> {
    await this.db('diagnosis_steps')
      .where({ session_id: sessionId, seq })
      .update(toColumns(patch, STEP_COLUMNS));
  }

  async recordResult(sessionId: number, seq: number, checkId: string, result: CheckResult): Promise<void> {
    await this.db('diagnosis_steps')
      .where({ session_id: sessionId, seq })
      .update({
        results: this.db.raw('results || jsonb_build_object(?::text, ?::jsonb)', [
          checkId,
          JSON.stringify(result),
        ]),
      });
  }

  async step(sessionId: number, seq: number): Promise<DiagnosisStep | undefined> {
    const row = await this.db<StepRow>('diagnosis_steps').where({ session_id: sessionId, seq }).first();
    return row ? toStep(row as StepRow) : undefined;
  }

  async stepForUpdate(sessionId: number, seq: number): Promise<DiagnosisStep | undefined> {
    const query = this.db<StepRow>('diagnosis_steps').where({ session_id: sessionId, seq }).first();
    const row = await (this.inTransaction ? query.forUpdate() : query);
    return row ? toStep(row as StepRow) : undefined;
  }

  async steps(sessionId: number): Promise<DiagnosisStep[]> {
    const rows = await this.db<StepRow>('diagnosis_steps').where({ session_id: sessionId }).orderBy('seq');
    return rows.map((row) => toStep(row as StepRow));
  }

  async claim(id: number, owner: string, leaseUntil: Date): Promise<ClaimedSession | undefined> {
    // The row is locked first, so the owner returned is the one this update replaced.
    const { rows } = (await this.db.raw(
      `update diagnosis_sessions s set owner = ?, lease_until = ?
         from (select id, owner from diagnosis_sessions where id = ? for update) previous
        where s.id = previous.id
       returning s.*, previous.owner as previous_owner`,
      [owner, leaseUntil, id],
    )) as { rows: Array<SessionRow & { previous_owner: string | null }> };
    const row = rows[0];
    return row ? { session: toSession(row), previousOwner: row.previous_owner } : undefined;
  }

  async claimExpired(owner: string, now: Date, leaseUntil: Date, limit: number): Promise<DiagnosisSession[]> {
    const { rows } = (await this.db.raw(
      `update diagnosis_sessions set owner = ?, lease_until = ?
        where id in (select id from diagnosis_sessions
                      where status in ('running', 'waiting') and (lease_until is null or lease_until < ?)
                      order by id limit ? for update skip locked)
       returning *`,
      [owner, leaseUntil, now, limit],
    )) as { rows: SessionRow[] };
    return rows.map(toSession);
  }

  async renewLeases(owner: string, leaseUntil: Date): Promise<number[]> {
    const rows = (await this.db('diagnosis_sessions')
      .where({ owner })
      .whereIn('status', ['running', 'waiting'])
      .update({ lease_until: leaseUntil })
      .returning('id')) as Array<{ id: number }>;
    return rows.map((row) => row.id);
  }

  async owner(id: number): Promise<string | null> {
    const row = (await this.db('diagnosis_sessions').where({ id }).first('owner')) as
      | { owner: string | null }
      | undefined;
    return row?.owner ?? null;
  }
}
