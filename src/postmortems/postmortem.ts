import type { ActionRun } from '../actions/action-run.js';
import type { ChangeEvent } from '../changes/change-event.js';
import type { CheckResult } from '../checks/check-type.js';
import type { DiagnosisConclusion, DiagnosisSession, DiagnosisStep } from '../diagnosis/diagnosis.js';
import type { IncidentClass, Layer } from '../diagnosis/runbook-schema.js';
import type { AlertOccurrence, Incident, TimelineEntry } from '../incidents/incident.js';

/** Everything a postmortem is drafted from: what aisre recorded about one incident. */
export interface PostmortemRecord {
  incident: Incident;
  alerts: AlertOccurrence[];
  /** The whole append-only timeline, in any order. */
  timeline: TimelineEntry[];
  /** The incident's diagnosis with every step, or null when none was started. */
  diagnosis: { session: DiagnosisSession; steps: DiagnosisStep[] } | null;
  /** Change events of the incident's service in the window the caller chose (e.g. 24 h before it started until it ended). */
  changes: ChangeEvent[];
  /** Every action run of the incident, previews and undos included. */
  actions: ActionRun[];
  /** What Prometheus says the incident cost, or null when it could not say (see postmortem-impact.ts). */
  impact: PostmortemImpact | null;
}

/** The eval pass rate against its SLO over the incident window. */
export interface ErrorBudgetImpact {
  /** The pass rate the service aims for, e.g. 0.9. */
  slo: number;
  /** Mean eval pass rate over the window. */
  averagePassRate: number;
  /** Share of the window (0–1) in which the pass rate was below the SLO; null when Prometheus could not say. */
  shareBelowSlo: number | null;
}

/** The quality and cost the incident burned, as far as Prometheus knows; absent fields had no data. */
export interface PostmortemImpact {
  window: { from: Date; to: Date };
  errorBudget?: ErrorBudgetImpact;
  /** US dollars spent by the service during the window. */
  costUsd?: number;
  /** Tokens the service used during the window. */
  tokens?: number;
}

/**
 * What responders may edit from Slack. An edited field replaces what aisre seeded, and keeps
 * replacing it when the draft is regenerated; a blank field means "not edited". Lists are one
 * item per line; list markers (`- `, `1. `) and checkboxes (`- [ ] `, `- [x] `) are understood.
 * Edits are Markdown written by responders: kept as written, except raw HTML, headings and code
 * fences, which could break the document's outline.
 */
export interface PostmortemEdits {
  summary?: string;
  wentWell?: string;
  wentWrong?: string;
  gotLucky?: string;
  actionItems?: string;
}

/** The incident class of the diagnosis's conclusion, or `unknown` without one. */
export type PostmortemClass = IncidentClass | 'unknown';

export const POSTMORTEM_CLASS_LABELS: Record<PostmortemClass, string> = {
  infrastructure: 'Infrastructure',
  data: 'Data',
  model_behaviour: 'Model behaviour',
  evaluation_policy: 'Evaluation or policy',
  unknown: 'Unknown',
};

/** How each kind of change is named in a postmortem (`change-event.ts` keeps its own names private). */
export const CHANGE_KIND_LABELS: Record<ChangeEvent['kind'], string> = {
  prompt: 'Prompt',
  model: 'Model',
  embedding: 'Embedding model',
  index: 'Index',
  config: 'Config',
  code: 'Code',
};

/** Who wrote a piece of the draft: aisre from the record, a responder, or the summary model. */
export type PostmortemSource = 'seeded' | 'edited' | 'model';

export interface PostmortemSummary {
  /** Plain text when seeded or written by the model; Markdown when a responder edited it. */
  text: string;
  source: PostmortemSource;
}

/** A list section: aisre's seeds (plain text), or a responder's items (Markdown). */
export interface PostmortemList<Item = string> {
  source: 'seeded' | 'edited';
  items: Item[];
}

export interface PostmortemActionItem {
  text: string;
  /** Ticked in a responder's edit (`- [x] `); seeded items are open. */
  done: boolean;
}

/** The moments the Impact section is built on; null where it has not happened (yet). */
export interface PostmortemKeyTimes {
  /** The earliest alert's `startsAt`, or when the incident was declared if no alert fired. */
  started: Date;
  startedBy: 'alert' | 'declaration';
  /** When aisre opened the incident. */
  detected: Date;
  acknowledged: Date | null;
  /** When the diagnosis concluded. */
  diagnosed: Date | null;
  mitigated: Date | null;
  /** When the incident was resolved (or cancelled: see the incident's status). */
  resolved: Date | null;
}

/** Whole seconds; null when an end is missing or lies before its start. */
export interface PostmortemDurations {
  /** started → detected; null for a declared incident, whose real start is not on record */
  toDetect: number | null;
  /** detected → acknowledged */
  toAcknowledge: number | null;
  /** detected → diagnosed */
  toDiagnose: number | null;
  /** started → mitigated */
  toMitigate: number | null;
  /** started → resolved */
  toResolve: number | null;
}

/** One check of one diagnosis step, in the node's order; `result` is null if it never finished. */
export interface PostmortemCheck {
  id: string;
  title: string;
  result: CheckResult | null;
}

/** One node the diagnosis visited, with how the tree left it. */
export interface PostmortemStep {
  seq: number;
  nodeId: string;
  title: string;
  conclusion: boolean;
  status: DiagnosisStep['status'];
  checks: PostmortemCheck[];
  /** The question the node asked people, if it asked one. */
  question: string | null;
  /** The answer's label and the Slack user id who gave it. */
  answer: string | null;
  answeredBy: string | null;
  /** Why the tree moved on, in words (an outcome's reason, an answer, `overridden`). */
  outcome: string | null;
  next: { nodeId: string; title: string } | null;
  startedAt: Date;
  finishedAt: Date | null;
}

export interface PostmortemDiagnosis {
  runbookId: string;
  runbookTitle: string;
  runbookVersion: string;
  status: DiagnosisSession['status'];
  /** An actor ref (`slack:U…`, `system`). */
  startedBy: string;
  startedAt: Date;
  concludedAt: Date | null;
  steps: PostmortemStep[];
  conclusion: DiagnosisConclusion | null;
}

/**
 * A postmortem draft, structured so that Slack, the API and Markdown can each present it. Text
 * taken from the record stays raw here: each presenter escapes it for its own format.
 */
export interface PostmortemDraft {
  incident: Incident;
  /** `INC-42: <incident title>`. */
  title: string;
  summary: PostmortemSummary;
  incidentClass: PostmortemClass;
  /** The concluded layer; null without a concluded diagnosis. */
  layer: Layer | null;
  hypothesis: string | null;
  times: PostmortemKeyTimes;
  durations: PostmortemDurations;
  impact: PostmortemImpact | null;
  /** Sorted by `startsAt`. */
  alerts: AlertOccurrence[];
  /** Labels every alert shares, so each alert can list only what sets it apart. */
  commonLabels: Record<string, string>;
  diagnosis: PostmortemDiagnosis | null;
  /** Sorted by when they took effect. */
  changes: ChangeEvent[];
  /** Sorted by when they were requested. */
  actions: ActionRun[];
  /** Sorted by time. */
  timeline: TimelineEntry[];
  wentWell: PostmortemList;
  wentWrong: PostmortemList;
  gotLucky: PostmortemList;
  actionItems: PostmortemList<PostmortemActionItem>;
  /** When the draft was made, if the caller said. */
  generatedAt: Date | null;
}
