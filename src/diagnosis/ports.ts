import type { CheckResult } from '../checks/check-type.js';
import type {
  DiagnosisConclusion,
  DiagnosisSession,
  DiagnosisStep,
  SessionStatus,
  StepStatus,
} from './diagnosis.js';
import type { Runbook } from './runbook-schema.js';

export interface NewDiagnosisSession {
  incidentId: number;
  runbookId: string;
  runbookVersion: string;
  runbook: Runbook;
  currentNode: string;
  snapshot: unknown;
  startedBy: string;
  at: Date;
  /** The process that runs the new session, and until when (see `claim`). */
  owner: string;
  leaseUntil: Date;
}

/** A session taken by a process, and which process held it before (null: none). */
export interface ClaimedSession {
  session: DiagnosisSession;
  previousOwner: string | null;
}

export type SessionPatch = Partial<
  Pick<DiagnosisSession, 'status' | 'currentNode' | 'snapshot' | 'conclusion' | 'concludedAt' | 'remindAt'>
> & { updatedAt: Date };

export type StepPatch = Partial<
  Pick<DiagnosisStep, 'status' | 'outcome' | 'nextNode' | 'answeredBy' | 'answer' | 'finishedAt'>
>;

/** Diagnosis sessions and their steps. Inside a unit of work, `...ForUpdate` reads lock the row. */
export interface DiagnosisStore {
  create(input: NewDiagnosisSession): Promise<DiagnosisSession>;
  get(id: number): Promise<DiagnosisSession | undefined>;
  getForUpdate(id: number): Promise<DiagnosisSession | undefined>;
  /** The newest session of an incident, live or not. */
  latestForIncident(incidentId: number): Promise<DiagnosisSession | undefined>;
  listByStatus(statuses: readonly SessionStatus[]): Promise<DiagnosisSession[]>;
  /** When the latest concluded diagnosis of each of these incidents concluded. */
  concludedAt(incidentIds: readonly number[]): Promise<Map<number, Date>>;
  /** Live sessions whose question reminder is due. */
  dueReminders(now: Date): Promise<DiagnosisSession[]>;
  update(id: number, patch: SessionPatch): Promise<DiagnosisSession>;
  /** Creates the step if it does not exist yet; repeated calls (a resumed session) change nothing. */
  ensureStep(sessionId: number, seq: number, nodeId: string, at: Date, status: StepStatus): Promise<void>;
  updateStep(sessionId: number, seq: number, patch: StepPatch): Promise<void>;
  recordResult(sessionId: number, seq: number, checkId: string, result: CheckResult): Promise<void>;
  step(sessionId: number, seq: number): Promise<DiagnosisStep | undefined>;
  stepForUpdate(sessionId: number, seq: number): Promise<DiagnosisStep | undefined>;
  steps(sessionId: number): Promise<DiagnosisStep[]>;
  /**
   * Makes `owner` the one process that runs the session, until `leaseUntil` unless renewed,
   * whoever held it before; undefined when there is no such session.
   */
  claim(id: number, owner: string, leaseUntil: Date): Promise<ClaimedSession | undefined>;
  /** Claims for `owner` up to `limit` live sessions whose lease ran out before `now`: their process died. */
  claimExpired(owner: string, now: Date, leaseUntil: Date, limit: number): Promise<DiagnosisSession[]>;
  /** Extends the leases `owner` holds on live sessions; returns those sessions' ids. */
  renewLeases(owner: string, leaseUntil: Date): Promise<number[]>;
  /** The process holding the session's lease; inside a unit of work, after `getForUpdate`. */
  owner(id: number): Promise<string | null>;
}

export type { DiagnosisConclusion };
