import { AppError } from '../errors.js';
import {
  type Actor,
  type AlertOccurrence,
  actorRef,
  canTransition,
  type Incident,
  type IncidentStatus,
  incidentRef,
  isOpen,
  type NewTimelineEntry,
  type Severity,
  type TimelineEntry,
} from './incident.js';
import type { Clock, IncidentFilter, IncidentPatch, UnitOfWork } from './ports.js';

export interface DeclareInput {
  title: string;
  severity: Severity;
  service: string | null;
  description: string | null;
}

/** The outcome of a lifecycle command; `changed` is false when it was already so (double clicks). */
export interface CommandResult {
  incident: Incident;
  changed: boolean;
  message: string;
}

const STATUS_VERBS: Record<IncidentStatus, string> = {
  triggered: 'triggered',
  acknowledged: 'acknowledged',
  investigating: 'moved to investigating',
  mitigated: 'marked mitigated',
  resolved: 'resolved',
  cancelled: 'cancelled',
};

function describeActor(actor: Actor): string {
  return actor.kind === 'slack' ? `<@${actor.userId}>` : actorRef(actor);
}

/**
 * Incident lifecycle: declare, acknowledge, investigate, change severity, mitigate, resolve,
 * cancel. Every change locks the incident row, appends to the timeline and queues a
 * notification in the same transaction.
 */
export class IncidentService {
  constructor(private readonly deps: { uow: UnitOfWork; clock: Clock }) {}

  /** Opens an incident by hand (Slack modal or API); the declarer becomes its commander. */
  async declare(input: DeclareInput, actor: Actor): Promise<Incident> {
    const title = input.title.trim();
    if (!title) throw new AppError('validation_failed', 'An incident needs a title.');
    return this.deps.uow.run(async (stores) => {
      const at = this.deps.clock.now();
      const commanderId = actor.kind === 'slack' ? actor.userId : null;
      const incident = await stores.incidents.create({
        title,
        severity: input.severity,
        source: actor.kind === 'slack' ? 'slack' : 'api',
        service: input.service?.trim() || null,
        description: input.description?.trim() || null,
        layerHint: null,
        receiver: null,
        groupKey: null,
        groupLabels: {},
        runbookUrl: null,
        generatorUrl: null,
        externalUrl: null,
        commanderId,
        responderIds: commanderId ? [commanderId] : [],
        at,
      });
      await stores.timeline.append(incident.id, [
        {
          at,
          actor: actorRef(actor),
          kind: 'incident.declared',
          summary: `${describeActor(actor)} declared ${incidentRef(incident)} (${incident.severity}): ${title}`,
          data: { severity: incident.severity, service: incident.service },
        },
      ]);
      await stores.notifications.enqueue(incident.id, { kind: 'incident.opened' });
      return incident;
    });
  }

  async acknowledge(id: number, actor: Actor): Promise<CommandResult> {
    return this.transition(id, 'acknowledged', actor);
  }

  /** Moves the incident into diagnosis; the diagnosis engine hangs off this status. */
  async startInvestigation(id: number, actor: Actor): Promise<CommandResult> {
    return this.transition(id, 'investigating', actor);
  }

  async mitigate(id: number, actor: Actor): Promise<CommandResult> {
    return this.transition(id, 'mitigated', actor);
  }

  async resolve(id: number, actor: Actor): Promise<CommandResult> {
    return this.transition(id, 'resolved', actor);
  }

  async cancel(id: number, actor: Actor): Promise<CommandResult> {
    return this.transition(id, 'cancelled', actor);
  }

  async changeSeverity(id: number, severity: Severity, actor: Actor): Promise<CommandResult> {
    return this.mutate(id, actor, async (incident, at) => {
      if (!isOpen(incident.status)) {
        throw new AppError(
          'conflict',
          `${incidentRef(incident)} is ${incident.status}; its severity can no longer change.`,
        );
      }
      if (incident.severity === severity) {
        return { patch: null, entries: [], message: `${incidentRef(incident)} is already ${severity}.` };
      }
      return {
        patch: { severity },
        entries: [
          {
            at,
            actor: actorRef(actor),
            kind: 'severity.changed',
            summary: `${describeActor(actor)} changed severity from ${incident.severity} to ${severity}`,
            data: { from: incident.severity, to: severity },
          },
        ],
        message: `${incidentRef(incident)} is now ${severity}.`,
      };
    });
  }

  async get(id: number): Promise<Incident> {
    const incident = await this.deps.uow.read.incidents.get(id);
    if (!incident) throw new AppError('not_found', `There is no incident INC-${id}.`);
    return incident;
  }

  async list(filter: IncidentFilter): Promise<Incident[]> {
    return this.deps.uow.read.incidents.list(filter);
  }

  async timeline(id: number): Promise<TimelineEntry[]> {
    return this.deps.uow.read.timeline.list(id);
  }

  async alerts(id: number, limit?: number): Promise<AlertOccurrence[]> {
    return this.deps.uow.read.alerts.listForIncident(id, limit);
  }

  private async transition(id: number, to: IncidentStatus, actor: Actor): Promise<CommandResult> {
    return this.mutate(id, actor, async (incident, at) => {
      if (incident.status === to) {
        const by = to === 'acknowledged' && incident.commanderId ? ` by <@${incident.commanderId}>` : '';
        return { patch: null, entries: [], message: `${incidentRef(incident)} is already ${to}${by}.` };
      }
      if (!canTransition(incident.status, to)) {
        throw new AppError(
          'conflict',
          `${incidentRef(incident)} is ${incident.status}; it cannot be ${STATUS_VERBS[to]} from there.`,
        );
      }
      const patch: Omit<IncidentPatch, 'updatedAt'> = { status: to };
      if (to === 'acknowledged' || (incident.acknowledgedAt === null && to !== 'cancelled'))
        patch.acknowledgedAt = at;
      if (to === 'mitigated') patch.mitigatedAt = at;
      if (to === 'resolved' || to === 'cancelled') patch.resolvedAt = at;
      return {
        patch,
        entries: [
          {
            at,
            actor: actorRef(actor),
            kind: 'status.changed',
            summary: `${describeActor(actor)} ${STATUS_VERBS[to]} the incident`,
            data: { from: incident.status, to },
          },
        ],
        message: `${incidentRef(incident)} ${STATUS_VERBS[to]}.`,
      };
    });
  }

  /**
   * Shared shape of every command: lock, decide, record the acting person as a responder
   * (and as commander when there is none), write, append the timeline, notify.
   */
  private async mutate(
    id: number,
    actor: Actor,
    decide: (
      incident: Incident,
      at: Date,
    ) => Promise<{
      patch: Omit<IncidentPatch, 'updatedAt'> | null;
      entries: NewTimelineEntry[];
      message: string;
    }>,
  ): Promise<CommandResult> {
    return this.deps.uow.run(async (stores) => {
      const incident = await stores.incidents.getForUpdate(id);
      if (!incident) throw new AppError('not_found', `There is no incident INC-${id}.`);
      const at = this.deps.clock.now();
      const decision = await decide(incident, at);
      if (!decision.patch) return { incident, changed: false, message: decision.message };

      const patch: IncidentPatch = { ...decision.patch, updatedAt: at };
      const entries = [...decision.entries];
      if (actor.kind === 'slack') {
        if (!incident.commanderId && decision.patch.status !== 'cancelled') {
          patch.commanderId = actor.userId;
          entries.push({
            at,
            actor: actorRef(actor),
            kind: 'commander.assigned',
            summary: `<@${actor.userId}> is the incident commander`,
            data: { commanderId: actor.userId },
          });
        }
        if (!incident.responderIds.includes(actor.userId)) {
          patch.responderIds = [...incident.responderIds, actor.userId];
          entries.push({
            at,
            actor: actorRef(actor),
            kind: 'responder.joined',
            summary: `<@${actor.userId}> joined as a responder`,
            data: { userId: actor.userId },
          });
        }
      }
      const updated = await stores.incidents.update(id, patch);
      await stores.timeline.append(id, entries);
      await stores.notifications.enqueue(id, { kind: 'incident.updated' });
      return { incident: updated, changed: true, message: decision.message };
    });
  }
}
