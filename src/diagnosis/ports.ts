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
}

export type { DiagnosisConclusion };
