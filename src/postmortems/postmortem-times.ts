import { differenceInSeconds, formatDuration } from 'date-fns';
import type { AlertOccurrence, Incident } from '../incidents/incident.js';
import type { PostmortemDurations, PostmortemKeyTimes, PostmortemRecord } from './postmortem.js';

/** When the incident started: its earliest alert's `startsAt`, or its declaration if no alert fired. */
export function incidentStart(
  incident: Pick<Incident, 'createdAt'>,
  alerts: readonly Pick<AlertOccurrence, 'startsAt'>[],
): { at: Date; by: PostmortemKeyTimes['startedBy'] } {
  let earliest: Date | null = null;
  for (const alert of alerts) if (!earliest || alert.startsAt < earliest) earliest = alert.startsAt;
  return earliest ? { at: earliest, by: 'alert' } : { at: incident.createdAt, by: 'declaration' };
}

/** The moments the Impact section reports, taken from the incident, its alerts and its diagnosis. */
export function keyTimes(
  record: Pick<PostmortemRecord, 'incident' | 'alerts' | 'diagnosis'>,
): PostmortemKeyTimes {
  const { incident } = record;
  const start = incidentStart(incident, record.alerts);
  return {
    started: start.at,
    startedBy: start.by,
    detected: incident.createdAt,
    acknowledged: incident.acknowledgedAt,
    diagnosed: record.diagnosis?.session.concludedAt ?? null,
    mitigated: incident.mitigatedAt,
    resolved: incident.resolvedAt,
  };
}

function between(start: Date | null, end: Date | null): number | null {
  if (!start || !end) return null;
  const seconds = differenceInSeconds(end, start);
  return seconds >= 0 ? seconds : null;
}

/** Time to detect, acknowledge, diagnose, mitigate and resolve, each from the moment it counts from. */
export function durationsOf(times: PostmortemKeyTimes): PostmortemDurations {
  return {
    // A declared incident's start is its declaration: when it really started is not on record.
    toDetect: times.startedBy === 'alert' ? between(times.started, times.detected) : null,
    toAcknowledge: between(times.detected, times.acknowledged),
    toDiagnose: between(times.detected, times.diagnosed),
    toMitigate: between(times.started, times.mitigated),
    toResolve: between(times.started, times.resolved),
  };
}

/** `2026-11-22 10:04:05 UTC`: the full date always, so a multi-day incident reads right anywhere. */
export function formatUtc(date: Date): string {
  const iso = date.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

const UNITS: Partial<Record<string, string>> = { xDays: 'd', xHours: 'h', xMinutes: 'min', xSeconds: 's' };
const SHORT_UNITS = { formatDistance: (token: string, count: number) => `${count} ${UNITS[token] ?? token}` };

/**
 * `1 d 2 h 5 min`; seconds only under a minute (`35 s`). Days are whole 24 h spans, not calendar
 * days, so the figure does not depend on the server's time zone or its DST changes.
 */
export function formatElapsed(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  const duration = {
    days: Math.floor(minutes / 1440),
    hours: Math.floor((minutes % 1440) / 60),
    minutes: minutes % 60,
  };
  return formatDuration(duration, { format: ['days', 'hours', 'minutes'], locale: SHORT_UNITS });
}
