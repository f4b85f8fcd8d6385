import type { CheckResult } from '../checks/check-type.js';
import type { ActionRecommendation, IncidentClass, Layer, Runbook } from './runbook-schema.js';

export type SessionStatus = 'running' | 'waiting' | 'concluded' | 'stopped';

/** What a diagnosis concluded, as shown on the card and kept on the incident. */
export interface DiagnosisConclusion {
  node: string;
  title: string;
  layer: Layer;
  hypothesis: string;
  class: IncidentClass;
  actions: ActionRecommendation[];
}

/** One diagnosis of one incident, following one runbook. */
export interface DiagnosisSession {
  id: number;
  incidentId: number;
  runbookId: string;
  runbookVersion: string;
  runbook: Runbook;
  status: SessionStatus;
  currentNode: string;
  snapshot: unknown;
  conclusion: DiagnosisConclusion | null;
  startedBy: string;
  startedAt: Date;
  updatedAt: Date;
  concludedAt: Date | null;
  remindAt: Date | null;
}

export type StepStatus = 'checking' | 'asking' | 'decided' | 'concluded' | 'overridden';

/** One visit of one node: its check results and how the tree moved on from it. */
export interface DiagnosisStep {
  id: number;
  sessionId: number;
  seq: number;
  nodeId: string;
  status: StepStatus;
  results: Record<string, CheckResult>;
  /** Why the tree left this node, in words (outcome reason, answer label, override). */
  outcome: string | null;
  nextNode: string | null;
  answeredBy: string | null;
  answer: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

/** The diagnosis summary kept on the incident, for its card and API. */
export interface IncidentDiagnosis {
  sessionId: number;
  runbookId: string;
  status: SessionStatus;
  node: string;
  nodeTitle: string;
  conclusion: DiagnosisConclusion | null;
}
