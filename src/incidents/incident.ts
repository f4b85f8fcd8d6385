import type { IncidentDiagnosis } from '../diagnosis/diagnosis.js';

/** Severity levels, most severe first. */
export const SEVERITIES = ['SEV1', 'SEV2', 'SEV3', 'SEV4'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const INCIDENT_STATUSES = [
  'triggered',
  'acknowledged',
  'investigating',
  'mitigated',
  'resolved',
  'cancelled',
] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** Statuses in which an incident still needs people; alerts only attach to these. */
export const OPEN_STATUSES: readonly IncidentStatus[] = [
  'triggered',
  'acknowledged',
  'investigating',
  'mitigated',
];

const TRANSITIONS: Record<IncidentStatus, readonly IncidentStatus[]> = {
  triggered: ['acknowledged', 'investigating', 'mitigated', 'resolved', 'cancelled'],
  acknowledged: ['investigating', 'mitigated', 'resolved', 'cancelled'],
  investigating: ['mitigated', 'resolved', 'cancelled'],
  mitigated: ['investigating', 'resolved'],
  resolved: [],
  cancelled: [],
};

/** Whether the lifecycle allows moving from one status to another. */
export function canTransition(from: IncidentStatus, to: IncidentStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isOpen(status: IncidentStatus): boolean {
  return OPEN_STATUSES.includes(status);
}

/** Who did something: a Slack user, Alertmanager, an API client or aisre itself. */
export type Actor =
  | { kind: 'slack'; userId: string }
  | { kind: 'alertmanager'; receiver: string }
  | { kind: 'api' }
  | { kind: 'system' };

/** Serialises an actor for storage; `parseActor` is its inverse. */
export function actorRef(actor: Actor): string {
  switch (actor.kind) {
    case 'slack':
      return `slack:${actor.userId}`;
    case 'alertmanager':
      return `alertmanager:${actor.receiver}`;
    case 'api':
      return 'api';
    case 'system':
      return 'system';
  }
}

export function parseActor(ref: string): Actor {
  if (ref.startsWith('slack:')) return { kind: 'slack', userId: ref.slice('slack:'.length) };
  if (ref.startsWith('alertmanager:'))
    return { kind: 'alertmanager', receiver: ref.slice('alertmanager:'.length) };
  if (ref === 'api') return { kind: 'api' };
  return { kind: 'system' };
}

export type IncidentSource = 'alertmanager' | 'slack' | 'api';

export interface Incident {
  id: number;
  title: string;
  status: IncidentStatus;
  severity: Severity;
  source: IncidentSource;
  service: string | null;
  description: string | null;
  /** The `layer` label of the alerts, a hint for diagnosis (retrieval, generation, routing…). */
  layerHint: string | null;
  receiver: string | null;
  groupKey: string | null;
  groupLabels: Record<string, string>;
  runbookUrl: string | null;
  generatorUrl: string | null;
  externalUrl: string | null;
  commanderId: string | null;
  responderIds: string[];
  alertsFiring: number;
  alertsResolved: number;
  /** Alerts Alertmanager cut from the latest delivery (`truncatedAlerts`); unknown to us. */
  truncatedAlerts: number;
  /** Set when every known alert resolved; the incident itself stays open until a person resolves it. */
  allAlertsResolvedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  acknowledgedAt: Date | null;
  mitigatedAt: Date | null;
  resolvedAt: Date | null;
  /** Where the diagnosis of this incident stands, if one was started. */
  diagnosis: IncidentDiagnosis | null;
}

export type AlertStatus = 'firing' | 'resolved';

/** One firing of one alert: Alertmanager's fingerprint plus its `startsAt`. */
export interface AlertOccurrence {
  id: number;
  incidentId: number;
  receiver: string;
  fingerprint: string;
  startsAt: Date;
  endsAt: Date | null;
  status: AlertStatus;
  alertname: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  generatorUrl: string | null;
  firstSeenAt: Date;
  resolvedSeenAt: Date | null;
}

export type TimelineKind =
  | 'incident.opened'
  | 'incident.declared'
  | 'status.changed'
  | 'severity.changed'
  | 'commander.assigned'
  | 'responder.joined'
  | 'alert.firing'
  | 'alert.resolved'
  | 'alerts.all_resolved'
  | 'alerts.truncated'
  | 'change.recorded'
  | 'diagnosis.started'
  | 'diagnosis.step'
  | 'diagnosis.overridden'
  | 'diagnosis.concluded'
  | 'action.previewed'
  | 'action.requested'
  | 'action.approved'
  | 'action.rejected'
  | 'action.cancelled'
  | 'action.executed'
  | 'action.failed'
  | 'action.rechecking'
  | 'action.verified'
  | 'postmortem.drafted';

/** An append-only record of something that happened to an incident. */
export interface TimelineEntry {
  id: number;
  incidentId: number;
  at: Date;
  actor: string;
  kind: TimelineKind;
  summary: string;
  data: Record<string, unknown>;
}

export type NewTimelineEntry = Omit<TimelineEntry, 'id' | 'incidentId'>;

/** Short display reference, e.g. `INC-42`. */
export function incidentRef(incident: Pick<Incident, 'id'>): string {
  return `INC-${incident.id}`;
}
