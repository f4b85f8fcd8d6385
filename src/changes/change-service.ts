import { AppError } from '../errors.js';
import { type Actor, actorRef, OPEN_STATUSES } from '../incidents/incident.js';
import type { Clock, UnitOfWork } from '../incidents/ports.js';
import {
  CHANGE_KINDS,
  CHANGE_LIMITS,
  type ChangeEvent,
  type ChangeKind,
  describeChange,
  isChangeKind,
  type NewChangeEvent,
} from './change-event.js';

/** A change as senders describe it; absent optional fields are stored as null. */
export interface RecordChangeInput {
  service: string;
  kind: ChangeKind;
  fromVersion?: string | null;
  toVersion?: string | null;
  author?: string | null;
  /** When the change took effect; defaults to now. */
  at?: Date | null;
  summary?: string | null;
  diff?: string | null;
  link?: string | null;
  /** The sender's id; recording the same id again returns the first record and changes nothing. */
  externalId?: string | null;
}

export interface RecordChangeResult {
  change: ChangeEvent;
  /** False when `externalId` was already recorded and the existing record is returned. */
  created: boolean;
  /** Open incidents of the service whose timelines got the change. */
  incidentIds: number[];
}

export interface ChangeListFilter {
  service?: string | null;
  kinds?: readonly ChangeKind[];
  from?: Date;
  to?: Date;
  limit?: number;
}

/** The most open incidents of one service a change is appended to; more would be a deeper problem. */
const MAX_OPEN_INCIDENTS = 500;

/**
 * Change events: deploys of prompts, models, embedding models, indexes, config and code. A
 * change is stored and appended to the timeline of every open incident of its service in one
 * unit of work, so responders see "the prompt changed" next to the alerts it may explain.
 */
export class ChangeService {
  constructor(private readonly deps: { uow: UnitOfWork; clock: Clock }) {}

  async record(input: RecordChangeInput, actor: Actor): Promise<RecordChangeResult> {
    const now = this.deps.clock.now();
    const change = normalise(input, now);
    return this.deps.uow.run(async (stores) => {
      if (change.externalId) {
        const existing = await stores.changes.findByExternalId(change.externalId);
        if (existing) return { change: existing, created: false, incidentIds: [] };
      }
      const stored = await stores.changes.insert(change);
      if (!stored) {
        // A concurrent request with the same external id committed first.
        const existing = change.externalId
          ? await stores.changes.findByExternalId(change.externalId)
          : undefined;
        if (!existing) throw new Error(`change ${change.externalId} was neither inserted nor found`);
        return { change: existing, created: false, incidentIds: [] };
      }

      const incidents = await stores.incidents.list({
        service: stored.service,
        statuses: OPEN_STATUSES,
        limit: MAX_OPEN_INCIDENTS,
      });
      for (const incident of incidents) {
        await stores.timeline.append(incident.id, [
          {
            at: now,
            actor: actorRef(actor),
            kind: 'change.recorded',
            summary: describeChange(stored),
            data: {
              changeId: stored.id,
              service: stored.service,
              kind: stored.kind,
              from: stored.fromVersion,
              to: stored.toVersion,
              author: stored.author,
              at: stored.at.toISOString(),
              link: stored.link,
              externalId: stored.externalId,
            },
          },
        ]);
        await stores.notifications.enqueue(incident.id, { kind: 'incident.updated' });
      }
      return { change: stored, created: true, incidentIds: incidents.map((incident) => incident.id) };
    });
  }

  /** Newest first; `limit` defaults to 50 and is capped at 500. */
  async list(filter: ChangeListFilter = {}): Promise<ChangeEvent[]> {
    return this.deps.uow.read.changes.list(filter);
  }
}

function normalise(input: RecordChangeInput, now: Date): NewChangeEvent {
  const service = input.service.trim();
  if (!service) invalid('service', 'must not be empty');
  if (!isChangeKind(input.kind)) invalid('kind', `must be one of ${CHANGE_KINDS.join(', ')}`);
  const at = input.at ?? now;
  if (Number.isNaN(at.getTime())) invalid('at', 'must be a valid time');
  const diff = input.diff ?? null;
  if (diff !== null && Buffer.byteLength(diff, 'utf8') > CHANGE_LIMITS.diffBytes) {
    invalid('diff', `must be at most ${CHANGE_LIMITS.diffBytes / 1024} KB`);
  }
  const link = optional(input.link);
  if (link !== null && !isHttpUrl(link)) invalid('link', 'must be an http(s) URL');
  return {
    service: limited('service', service, CHANGE_LIMITS.shortText),
    kind: input.kind,
    fromVersion: limited('from', optional(input.fromVersion), CHANGE_LIMITS.shortText),
    toVersion: limited('to', optional(input.toVersion), CHANGE_LIMITS.shortText),
    author: limited('author', optional(input.author), CHANGE_LIMITS.shortText),
    at,
    summary: limited('summary', optional(input.summary), CHANGE_LIMITS.summary),
    diff,
    link: limited('link', link, CHANGE_LIMITS.link),
    externalId: limited('id', optional(input.externalId), CHANGE_LIMITS.shortText),
    recordedAt: now,
  };
}

function optional(value: string | null | undefined): string | null {
  const trimmed = value?.trim();
  return trimmed ? trimmed : null;
}

function limited<T extends string | null>(field: string, value: T, max: number): T {
  if (value !== null && value.length > max) invalid(field, `must be at most ${max} characters`);
  return value;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function invalid(field: string, message: string): never {
  throw new AppError('validation_failed', `Invalid change: ${field}: ${message}`);
}
