import type { ActionRun, AuditEntry } from './action-run.js';

export type NewActionRun = Pick<
  ActionRun,
  | 'incidentId'
  | 'sessionId'
  | 'nodeId'
  | 'actionId'
  | 'kind'
  | 'undoOf'
  | 'params'
  | 'risk'
  | 'status'
  | 'autoKey'
  | 'requestedBy'
  | 'preview'
  | 'error'
> & { at: Date };

export type ActionRunPatch = Partial<
  Pick<
    ActionRun,
    | 'status'
    | 'approvedBy'
    | 'approvedAt'
    | 'executedBy'
    | 'executedAt'
    | 'outcome'
    | 'previousState'
    | 'error'
    | 'leaseUntil'
    | 'verifyAt'
    | 'verification'
    | 'finishedAt'
  >
> & { updatedAt: Date };

/**
 * Action runs, their checkpoints and their audit. Inside a unit of work, `getForUpdate` locks the
 * run until commit, which is what makes a status transition happen once under concurrent clicks.
 */
export interface ActionRunStore {
  create(input: NewActionRun): Promise<ActionRun>;
  get(id: number): Promise<ActionRun | undefined>;
  getForUpdate(id: number): Promise<ActionRun | undefined>;
  update(id: number, patch: ActionRunPatch): Promise<ActionRun>;
  findByAutoKey(autoKey: string): Promise<ActionRun | undefined>;
  listForIncident(incidentId: number): Promise<ActionRun[]>;
  listForIncidents(incidentIds: readonly number[]): Promise<ActionRun[]>;
  /** The undo of a run that is in progress or done, if any. */
  undoOf(runId: number): Promise<ActionRun | undefined>;
  /**
   * Claims up to `limit` runs that need a worker: `executing` ones whose lease ran out (their
   * process died) and `verifying` ones whose `verifyAt` has passed and are not claimed. Each
   * claimed run's lease is set to `leaseUntil`, so two processes never claim the same run.
   */
  claimDue(now: Date, leaseUntil: Date, limit: number): Promise<ActionRun[]>;
  /** Extends the lease of a run this process holds. */
  renewLease(id: number, leaseUntil: Date): Promise<void>;
  /** A side effect's stored result, or undefined when it has not completed. */
  checkpoint(runId: number, key: string): Promise<{ result: unknown } | undefined>;
  /** Stores a result unless one is stored already; returns the stored one either way. */
  saveCheckpoint(runId: number, key: string, result: unknown, at: Date): Promise<unknown>;
  audit(entry: Omit<AuditEntry, 'id'>): Promise<void>;
  auditFor(filter: { runId?: number; incidentId?: number }): Promise<AuditEntry[]>;
}
