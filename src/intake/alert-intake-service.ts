import { createHash } from 'node:crypto';
import {
  type Actor,
  type AlertOccurrence,
  actorRef,
  type Incident,
  incidentRef,
  isOpen,
  type NewTimelineEntry,
  type Severity,
} from '../incidents/incident.js';
import type { Clock, IncidentPatch, NewAlertOccurrence, Stores, UnitOfWork } from '../incidents/ports.js';
import { mostSevere, severityFromLabel } from '../incidents/severity.js';
import type { AlertmanagerAlert, AlertmanagerPayload } from './alertmanager-payload.js';

/** What one delivery did, for the HTTP answer, metrics and logs. */
export interface IntakeResult {
  incidentId: number | null;
  opened: boolean;
  severity: Severity | null;
  newOccurrences: number;
  resolvedOccurrences: number;
  /** Alerts that changed nothing: repeats, retries, and resolved alerts of closed incidents. */
  unchanged: number;
}

const occurrenceKey = (fingerprint: string, startsAt: Date) => `${fingerprint}@${startsAt.getTime()}`;

function nonEmpty(value: string | undefined): string | null {
  return value && value.trim().length > 0 ? value : null;
}

/** How many alert groups' last delivery is remembered, to recognise repeats (a hint only). */
const REMEMBERED_GROUPS = 10_000;

/**
 * Turns Alertmanager deliveries into incidents. One delivery that changes anything is one
 * transaction, serialised per alert group. Alertmanager repeats and retries deliveries byte for
 * byte, so every write is conditional on a real change: a repeat writes nothing at all, and one
 * recognised as such is answered from a plain read, without a transaction (see `unchanged`).
 */
export class AlertIntakeService {
  /** Group lock key → digest of its last delivery: which deliveries are worth checking for a repeat. */
  private readonly lastDelivery = new Map<string, string>();

  constructor(
    private readonly deps: { uow: UnitOfWork; clock: Clock; severityMap: ReadonlyMap<string, Severity> },
  ) {}

  async ingest(payload: AlertmanagerPayload): Promise<IntakeResult> {
    const { receiver, groupKey } = payload;
    const lockKey = `alertmanager-group:${JSON.stringify([receiver, groupKey])}`;
    const digest = noOpDigest(payload);
    if (this.lastDelivery.get(lockKey) === digest) {
      const unchanged = await this.unchanged(payload);
      if (unchanged) return unchanged;
    }
    const result = await this.deps.uow.run((stores) => this.apply(stores, payload), {
      lockKeys: [lockKey],
    });
    this.lastDelivery.delete(lockKey);
    this.lastDelivery.set(lockKey, digest);
    if (this.lastDelivery.size > REMEMBERED_GROUPS) {
      this.lastDelivery.delete(this.lastDelivery.keys().next().value!);
    }
    return result;
  }

  /**
   * The answer to a delivery that would change nothing, or undefined when it might change
   * something. It would change nothing when every alert is a known occurrence, no firing one
   * resolves, and the group's open incident (if any) has the same truncated count: exactly the
   * case where `apply` inserts, resolves and refreshes nothing. Those facts are read outside any
   * transaction and lock, which is sound because occurrences are never deleted and resolution is
   * final, so what the first read finds still holds when the incident is read; the answer is the
   * one `apply` would give at that moment, and `apply` would write nothing.
   */
  private async unchanged(payload: AlertmanagerPayload): Promise<IntakeResult | undefined> {
    const { read } = this.deps.uow;
    const alerts = dedupeAlerts(payload.alerts);
    const known = new Map(
      (
        await read.alerts.findOccurrences(
          payload.receiver,
          alerts.map((alert) => ({ fingerprint: alert.fingerprint, startsAt: alert.startsAt })),
        )
      ).map((occurrence) => [occurrenceKey(occurrence.fingerprint, occurrence.startsAt), occurrence]),
    );
    for (const alert of alerts) {
      const occurrence = known.get(occurrenceKey(alert.fingerprint, alert.startsAt));
      if (!occurrence || (occurrence.status === 'firing' && alert.status === 'resolved')) return undefined;
    }
    const incident = await read.incidents.findOpenByGroup(payload.receiver, payload.groupKey);
    if (incident && incident.truncatedAlerts !== payload.truncatedAlerts) return undefined;
    return {
      incidentId: incident?.id ?? null,
      opened: false,
      severity: incident?.severity ?? null,
      newOccurrences: 0,
      resolvedOccurrences: 0,
      unchanged: alerts.length,
    };
  }

  private async apply(stores: Stores, payload: AlertmanagerPayload): Promise<IntakeResult> {
    const at = this.deps.clock.now();
    const actor: Actor = { kind: 'alertmanager', receiver: payload.receiver };
    const alerts = dedupeAlerts(payload.alerts);
    const known = new Map(
      (
        await stores.alerts.findOccurrences(
          payload.receiver,
          alerts.map((alert) => ({ fingerprint: alert.fingerprint, startsAt: alert.startsAt })),
        )
      ).map((occurrence) => [occurrenceKey(occurrence.fingerprint, occurrence.startsAt), occurrence]),
    );

    const unknown = alerts.filter((alert) => !known.has(occurrenceKey(alert.fingerprint, alert.startsAt)));
    const newlyFiring = unknown.filter((alert) => alert.status === 'firing');
    const resolvedNow: Array<{ occurrence: AlertOccurrence; alert: AlertmanagerAlert }> = [];
    for (const alert of alerts) {
      const occurrence = known.get(occurrenceKey(alert.fingerprint, alert.startsAt));
      // Resolution is final for an occurrence: a late retry of an older firing body cannot undo it.
      if (occurrence?.status === 'firing' && alert.status === 'resolved')
        resolvedNow.push({ occurrence, alert });
    }

    let incident = await stores.incidents.findOpenByGroup(payload.receiver, payload.groupKey);
    let opened = false;
    if (!incident && newlyFiring.length > 0) {
      incident = await this.open(stores, payload, newlyFiring, at, actor);
      opened = true;
    }

    // Resolved alerts we never saw firing belong to this group's open incident as history;
    // with no open incident they are the ~15 minutes of resolved re-sends, and are dropped.
    const toInsert = incident ? unknown : [];
    const inserted = incident
      ? await stores.alerts.insertMany(
          toInsert.map((alert) => toNewOccurrence(alert, incident!.id, payload, at)),
        )
      : [];
    await stores.alerts.markResolved(
      resolvedNow.map(({ occurrence }) => occurrence.id),
      new Map(resolvedNow.map(({ occurrence, alert }) => [occurrence.id, alert.endsAt])),
      at,
    );

    const touched = new Set<number>();
    for (const occurrence of inserted) touched.add(occurrence.incidentId);
    for (const { occurrence } of resolvedNow) touched.add(occurrence.incidentId);
    if (incident && incident.truncatedAlerts !== payload.truncatedAlerts) touched.add(incident.id);

    for (const incidentId of touched) {
      const target = incidentId === incident?.id ? incident : await stores.incidents.getForUpdate(incidentId);
      if (!target || !isOpen(target.status)) continue;
      const insertedHere = inserted.filter((occurrence) => occurrence.incidentId === incidentId);
      const resolvedHere = resolvedNow.filter(({ occurrence }) => occurrence.incidentId === incidentId);
      await this.refresh(stores, target, {
        firing: insertedHere.filter((o) => o.status === 'firing'),
        resolved: resolvedHere.map(({ occurrence }) => occurrence),
        truncatedAlerts: target === incident ? payload.truncatedAlerts : target.truncatedAlerts,
        at,
        actor,
      });
    }

    return {
      incidentId: incident?.id ?? null,
      opened,
      severity: incident?.severity ?? null,
      newOccurrences: inserted.length,
      resolvedOccurrences: resolvedNow.length,
      unchanged: alerts.length - inserted.length - resolvedNow.length,
    };
  }

  private async open(
    stores: Stores,
    payload: AlertmanagerPayload,
    firing: AlertmanagerAlert[],
    at: Date,
    actor: Actor,
  ): Promise<Incident> {
    const lead = firing[0]!;
    const severity = firing
      .map((alert) => severityFromLabel(this.deps.severityMap, alert.labels.severity))
      .reduce(mostSevere);
    const label = (name: string) => nonEmpty(lead.labels[name]) ?? nonEmpty(payload.commonLabels[name]);
    const annotation = (name: string) =>
      nonEmpty(lead.annotations[name]) ?? nonEmpty(payload.commonAnnotations[name]);
    const title =
      annotation('summary') ?? `${lead.labels.alertname}${label('service') ? ` on ${label('service')}` : ''}`;
    const incident = await stores.incidents.create({
      title: title.slice(0, 500),
      severity,
      source: 'alertmanager',
      service: label('service'),
      description: annotation('description'),
      layerHint: label('layer'),
      receiver: payload.receiver,
      groupKey: payload.groupKey,
      groupLabels: payload.groupLabels,
      runbookUrl: annotation('runbook_url'),
      generatorUrl: nonEmpty(lead.generatorURL),
      externalUrl: nonEmpty(payload.externalURL),
      commanderId: null,
      responderIds: [],
      at,
    });
    await stores.timeline.append(incident.id, [
      {
        at,
        actor: actorRef(actor),
        kind: 'incident.opened',
        summary: `${incidentRef(incident)} opened (${severity}) by ${firing.length} firing alert${firing.length === 1 ? '' : 's'}: ${title}`,
        data: { groupKey: payload.groupKey, receiver: payload.receiver, groupLabels: payload.groupLabels },
      },
    ]);
    await stores.notifications.enqueue(incident.id, { kind: 'incident.opened' });
    return incident;
  }

  /** Recounts an open incident's alerts after a delivery and records what changed. */
  private async refresh(
    stores: Stores,
    incident: Incident,
    change: {
      firing: AlertOccurrence[];
      resolved: AlertOccurrence[];
      truncatedAlerts: number;
      at: Date;
      actor: Actor;
    },
  ): Promise<void> {
    const { at, actor } = change;
    const counts = await stores.alerts.counts(incident.id);
    const entries: NewTimelineEntry[] = [
      ...change.firing.map((o) => occurrenceEntry('alert.firing', o, at, actor)),
      ...change.resolved.map((o) => occurrenceEntry('alert.resolved', o, at, actor)),
    ];
    const patch: IncidentPatch = {
      updatedAt: at,
      alertsFiring: counts.firing,
      alertsResolved: counts.resolved,
      truncatedAlerts: change.truncatedAlerts,
    };

    if (change.truncatedAlerts > 0 && change.truncatedAlerts !== incident.truncatedAlerts) {
      entries.push({
        at,
        actor: actorRef(actor),
        kind: 'alerts.truncated',
        summary: `Alertmanager left ${change.truncatedAlerts} alerts out of its notification (max_alerts); counts are incomplete`,
        data: { truncatedAlerts: change.truncatedAlerts },
      });
    }

    // With alerts cut away we cannot know they resolved, so "all resolved" needs a full view.
    const allResolved = counts.firing === 0 && change.truncatedAlerts === 0;
    if (allResolved && !incident.allAlertsResolvedAt) {
      patch.allAlertsResolvedAt = at;
      entries.push({
        at,
        actor: actorRef(actor),
        kind: 'alerts.all_resolved',
        summary: `All ${counts.resolved} alerts resolved; the incident stays open until someone resolves it`,
        data: { resolved: counts.resolved },
      });
    } else if (!allResolved && incident.allAlertsResolvedAt) {
      patch.allAlertsResolvedAt = null;
    }

    const newSeverity = change.firing
      .map((o) => severityFromLabel(this.deps.severityMap, o.labels.severity))
      .reduce(mostSevere, incident.severity);
    if (newSeverity !== incident.severity) {
      patch.severity = newSeverity;
      entries.push({
        at,
        actor: actorRef(actor),
        kind: 'severity.changed',
        summary: `Severity raised from ${incident.severity} to ${newSeverity} by a new ${newSeverity} alert`,
        data: { from: incident.severity, to: newSeverity },
      });
    }

    await stores.incidents.update(incident.id, patch);
    await stores.timeline.append(incident.id, entries);
    await stores.notifications.enqueue(incident.id, { kind: 'incident.updated' });
  }
}

/**
 * What decides whether a delivery can be a no-op: its occurrences, their statuses and the
 * truncated count (labels and annotations of known occurrences are never rewritten). Equal
 * digests only suggest a repeat; `unchanged` checks it against the database.
 */
function noOpDigest(payload: AlertmanagerPayload): string {
  const hash = createHash('sha1').update(String(payload.truncatedAlerts));
  for (const alert of payload.alerts) {
    hash.update(`|${alert.fingerprint}@${alert.startsAt.getTime()}:${alert.status}`);
  }
  return hash.digest('base64');
}

/** One body can list an alert twice (Alertmanager does not, hand-written senders do); keep the last. */
function dedupeAlerts(alerts: AlertmanagerAlert[]): AlertmanagerAlert[] {
  const byKey = new Map<string, AlertmanagerAlert>();
  for (const alert of alerts) {
    const key = occurrenceKey(alert.fingerprint, alert.startsAt);
    const previous = byKey.get(key);
    if (!previous || previous.status === 'firing') byKey.set(key, alert);
  }
  return [...byKey.values()];
}

function toNewOccurrence(
  alert: AlertmanagerAlert,
  incidentId: number,
  payload: AlertmanagerPayload,
  seenAt: Date,
): NewAlertOccurrence {
  return {
    incidentId,
    receiver: payload.receiver,
    fingerprint: alert.fingerprint,
    startsAt: alert.startsAt,
    endsAt: alert.status === 'resolved' ? (alert.endsAt ?? seenAt) : null,
    status: alert.status,
    alertname: alert.labels.alertname ?? 'unknown',
    labels: alert.labels,
    annotations: alert.annotations,
    generatorUrl: nonEmpty(alert.generatorURL),
    seenAt,
  };
}

function occurrenceEntry(
  kind: 'alert.firing' | 'alert.resolved',
  occurrence: AlertOccurrence,
  at: Date,
  actor: Actor,
): NewTimelineEntry {
  const summary = occurrence.annotations.summary;
  const name = summary ? `${occurrence.alertname}: ${summary}` : occurrence.alertname;
  return {
    at,
    actor: actorRef(actor),
    kind,
    summary: `Alert ${kind === 'alert.firing' ? 'firing' : 'resolved'}: ${name}`,
    data: {
      fingerprint: occurrence.fingerprint,
      startsAt: occurrence.startsAt.toISOString(),
      endsAt: occurrence.endsAt?.toISOString() ?? null,
      labels: occurrence.labels,
    },
  };
}
