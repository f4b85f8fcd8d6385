import type { CheckResult } from '../checks/check-type.js';
import type { ActionRisk } from './action-catalog.js';
import type { ActionOutcome, RecordedRequest } from './action-type.js';

/**
 * Where a run is in its life:
 * - `previewed`: the dry run is shown; nobody has asked to execute it yet;
 * - `awaiting_approval`: a high-risk run someone asked to execute; a second person must approve;
 * - `executing`: claimed for execution; exactly one process works on it under a lease;
 * - `verifying`: executed; its recovery is checked at `verifyAt`, and again until the checks
 *   pass or the verification window ends (`verification` holds the latest check meanwhile);
 * - `recovered` / `not_recovered`: what the checks finally said;
 * - `unverified`: executed, but there were no checks to confirm recovery;
 * - `failed`: the dry run or the execution failed (see `error`);
 * - `rejected`: an approver said no; `cancelled`: the requester withdrew it.
 */
export type ActionRunStatus =
  | 'previewed'
  | 'awaiting_approval'
  | 'executing'
  | 'verifying'
  | 'recovered'
  | 'not_recovered'
  | 'unverified'
  | 'failed'
  | 'rejected'
  | 'cancelled';

/** Statuses after which the run's change is in place (or was attempted and may be undone). */
export const EXECUTED_STATUSES: readonly ActionRunStatus[] = [
  'verifying',
  'recovered',
  'not_recovered',
  'unverified',
];

export const FINAL_STATUSES: readonly ActionRunStatus[] = [
  'recovered',
  'not_recovered',
  'unverified',
  'failed',
  'rejected',
  'cancelled',
];

/** A run applies an action; an undo restores what a run recorded as the previous state. */
export type ActionRunKind = 'run' | 'undo';

export interface ActionVerification {
  status: 'recovered' | 'not_recovered' | 'unverified';
  /** One line for the card, e.g. "3 of 3 checks pass". */
  summary: string;
  results: Record<string, CheckResult>;
  at: string;
}

/** One request to apply (or undo) one action on one incident, from preview to verification. */
export interface ActionRun {
  id: number;
  incidentId: number;
  sessionId: number | null;
  nodeId: string | null;
  actionId: string;
  kind: ActionRunKind;
  undoOf: number | null;
  params: Record<string, unknown>;
  risk: ActionRisk;
  status: ActionRunStatus;
  autoKey: string | null;
  requestedBy: string;
  requestedAt: Date;
  approvedBy: string | null;
  approvedAt: Date | null;
  executedBy: string | null;
  executedAt: Date | null;
  preview: ActionOutcome | null;
  outcome: ActionOutcome | null;
  previousState: unknown;
  error: string | null;
  leaseUntil: Date | null;
  verifyAt: Date | null;
  verification: ActionVerification | null;
  finishedAt: Date | null;
  updatedAt: Date;
}

/** What the audit keeps for each step; requests never carry credentials. */
export type AuditEvent =
  | 'previewed'
  | 'preview_failed'
  | 'approval_requested'
  | 'approved'
  | 'rejected'
  | 'cancelled'
  | 'executing'
  | 'resumed'
  | 'request'
  | 'executed'
  | 'failed'
  | 'rechecking'
  | 'verified';

export interface AuditEntry {
  id: number;
  runId: number;
  incidentId: number;
  at: Date;
  actor: string;
  event: AuditEvent;
  data: {
    params?: unknown;
    result?: ActionOutcome | ActionVerification | null;
    previousState?: unknown;
    requests?: RecordedRequest[];
    error?: string;
  };
}

export function describeRun(run: Pick<ActionRun, 'id' | 'actionId' | 'kind'>): string {
  return run.kind === 'undo' ? `undo of ${run.actionId} (A-${run.id})` : `${run.actionId} (A-${run.id})`;
}
