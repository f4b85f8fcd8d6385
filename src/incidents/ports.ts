import type { ActionRunStore } from '../actions/ports.js';
import type { ChangeEvent, NewChangeEvent } from '../changes/change-event.js';
import type { DiagnosisStore } from '../diagnosis/ports.js';
import type { PostmortemStore } from '../postmortems/ports.js';
import type {
  AlertOccurrence,
  Incident,
  IncidentStatus,
  NewTimelineEntry,
  TimelineEntry,
} from './incident.js';

/** What opening an incident needs; everything else starts at its initial value. */
export type NewIncident = Pick<
  Incident,
  | 'title'
  | 'severity'
  | 'source'
  | 'service'
  | 'description'
  | 'layerHint'
  | 'receiver'
  | 'groupKey'
  | 'groupLabels'
  | 'runbookUrl'
  | 'generatorUrl'
  | 'externalUrl'
  | 'commanderId'
  | 'responderIds'
> & { at: Date };

export type IncidentPatch = Partial<
  Pick<
    Incident,
    | 'status'
    | 'severity'
    | 'commanderId'
    | 'responderIds'
    | 'alertsFiring'
    | 'alertsResolved'
    | 'truncatedAlerts'
    | 'allAlertsResolvedAt'
    | 'acknowledgedAt'
    | 'mitigatedAt'
    | 'resolvedAt'
    | 'diagnosis'
  >
> & { updatedAt: Date };

export interface IncidentFilter {
  statuses?: readonly IncidentStatus[];
  /** Only incidents of this service (exact match). */
  service?: string;
  limit?: number;
  /** Only incidents with an id below this one, for paging newest first. */
  beforeId?: number;
  /** Only incidents opened at or after this time. */
  createdFrom?: Date;
}

/** Persistence of incidents. Reads inside a unit of work lock the row until it commits. */
export interface IncidentStore {
  create(input: NewIncident): Promise<Incident>;
  get(id: number): Promise<Incident | undefined>;
  getForUpdate(id: number): Promise<Incident | undefined>;
  findOpenByGroup(receiver: string, groupKey: string): Promise<Incident | undefined>;
  update(id: number, patch: IncidentPatch): Promise<Incident>;
  list(filter: IncidentFilter): Promise<Incident[]>;
}

export type NewAlertOccurrence = Omit<AlertOccurrence, 'id' | 'firstSeenAt' | 'resolvedSeenAt'> & {
  seenAt: Date;
};

export interface OccurrenceKey {
  fingerprint: string;
  startsAt: Date;
}

export interface AlertStore {
  /** Occurrences already known for this receiver, whatever incident they belong to. */
  findOccurrences(receiver: string, keys: readonly OccurrenceKey[]): Promise<AlertOccurrence[]>;
  insertMany(occurrences: readonly NewAlertOccurrence[]): Promise<AlertOccurrence[]>;
  markResolved(
    ids: readonly number[],
    resolutions: ReadonlyMap<number, Date | null>,
    seenAt: Date,
  ): Promise<void>;
  counts(incidentId: number): Promise<{ firing: number; resolved: number }>;
  listForIncident(incidentId: number, limit?: number): Promise<AlertOccurrence[]>;
}

export interface TimelineStore {
  append(incidentId: number, entries: readonly NewTimelineEntry[]): Promise<void>;
  list(incidentId: number): Promise<TimelineEntry[]>;
}

/**
 * What the outside world should hear about. Intents are stored in the same transaction as the
 * change that caused them (a transactional outbox), so a chat outage never loses one.
 */
export type NotificationIntent =
  | { kind: 'incident.opened' }
  | { kind: 'incident.updated' }
  | { kind: 'postmortem.drafted' };

export interface NotificationQueue {
  enqueue(incidentId: number, intent: NotificationIntent): Promise<void>;
}

export interface ChangeEventFilter {
  /** One service; null or absent means every service. */
  service?: string | null;
  /** Any of these kinds; empty or absent means every kind. */
  kinds?: readonly string[];
  /** Changes at or after `from` and at or before `to` (by when they took effect). */
  from?: Date;
  to?: Date;
  limit?: number;
}

/** Recorded changes (deploys of prompts, models, indexes, config, code), newest first. */
export interface ChangeEventStore {
  /** Stores a change; undefined when its `externalId` is already taken (see `findByExternalId`). */
  insert(change: NewChangeEvent): Promise<ChangeEvent | undefined>;
  findByExternalId(externalId: string): Promise<ChangeEvent | undefined>;
  list(filter: ChangeEventFilter): Promise<ChangeEvent[]>;
}

export interface Stores {
  incidents: IncidentStore;
  alerts: AlertStore;
  timeline: TimelineStore;
  notifications: NotificationQueue;
  changes: ChangeEventStore;
  diagnosis: DiagnosisStore;
  actions: ActionRunStore;
  postmortems: PostmortemStore;
}

/** Runs work atomically: all writes commit together or not at all. */
export interface UnitOfWork {
  /** `lockKeys` serialise concurrent units of work that touch the same logical key (e.g. an alert group). */
  run<T>(work: (stores: Stores) => Promise<T>, options?: { lockKeys?: readonly string[] }): Promise<T>;
  /** Stores for reads outside a transaction. */
  readonly read: Omit<Stores, 'notifications'>;
}

/** A source of time, so tests and benchmarks can control it. */
export interface Clock {
  now(): Date;
}
