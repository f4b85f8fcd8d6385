import type { CheckIncident } from '../checks/check-type.js';
import type { AlertOccurrence, Incident } from '../incidents/incident.js';

/** Labels every alert of the incident shares, so templates see what the group has in common. */
export function commonLabels(alerts: readonly AlertOccurrence[]): Record<string, string> {
  const [first, ...rest] = alerts;
  if (!first) return {};
  return Object.fromEntries(
    Object.entries(first.labels).filter(([key, value]) => rest.every((alert) => alert.labels[key] === value)),
  );
}

/** The facts checks may use about an incident: its labels and when its first alert started. */
export function checkIncident(incident: Incident, alerts: readonly AlertOccurrence[]): CheckIncident {
  const startedAt = alerts.reduce<Date>(
    (earliest, alert) => (alert.startsAt < earliest ? alert.startsAt : earliest),
    incident.createdAt,
  );
  return {
    id: incident.id,
    title: incident.title,
    service: incident.service,
    layerHint: incident.layerHint,
    labels: { ...commonLabels(alerts), ...incident.groupLabels },
    startedAt,
  };
}
