import type { Knex } from 'knex';
import type { SlackEmulator } from '../../test/support/slack-emulator.js';
import { countBy, round } from './stats.js';
import { occurrenceKey, type Workload } from './workload.js';

/** What a knex raw query returns on node-postgres and on PGlite alike. */
const rowsOf = async <T>(query: Knex.Raw): Promise<T[]> => ((await query) as { rows: T[] }).rows;

/**
 * Compares the database with what aisre accepted: every accepted occurrence stored once with its
 * last status, one incident per group, and incident counters that match their alerts. Takes a
 * knex handle so that PostgreSQL and PGlite (opened once aisre has stopped) are checked alike.
 */
export async function verifyDatabase(db: Knex, workload: Workload) {
  const [totals] = await rowsOf<{ rows: number; distinct: number }>(
    db.raw(
      `select count(*)::int as rows, count(distinct (receiver, fingerprint, starts_at))::int as distinct
         from alert_occurrences`,
    ),
  );
  const { rows, distinct } = totals!;
  const stored = new Map<string, string>();
  const occurrences = await rowsOf<{
    receiver: string;
    fingerprint: string;
    starts_at: Date;
    status: string;
  }>(db.raw('select receiver, fingerprint, starts_at, status from alert_occurrences'));
  for (const row of occurrences) {
    stored.set(occurrenceKey(row.receiver, row.fingerprint, new Date(row.starts_at).getTime()), row.status);
  }
  let lost = 0;
  let statusMismatches = 0;
  for (const [key, status] of workload.expected) {
    const actual = stored.get(key);
    if (actual === undefined) lost += 1;
    else if (actual !== status) statusMismatches += 1;
  }
  let unexpected = 0;
  for (const key of stored.keys()) if (!workload.expected.has(key)) unexpected += 1;

  const groups = await rowsOf<{ receiver: string; group_key: string; incidents: number }>(
    db.raw(
      'select receiver, group_key, count(*)::int as incidents from incidents group by receiver, group_key',
    ),
  );
  const incidentsByGroup = new Map(groups.map((row) => [`${row.receiver}\u0000${row.group_key}`, row]));
  const incidents = groups.reduce((sum, row) => sum + row.incidents, 0);
  const groupsWithoutIncident = [...workload.openedGroups].filter((key) => !incidentsByGroup.has(key)).length;
  const groupsWithSeveralIncidents = groups.filter((row) => row.incidents > 1).length;
  const [counters] = await rowsOf<{ mismatched: number }>(
    db.raw(
      `select count(*)::int as mismatched
         from incidents i
         left join (select incident_id,
                           count(*) filter (where status = 'firing') as firing,
                           count(*) filter (where status = 'resolved') as resolved
                      from alert_occurrences group by incident_id) a on a.incident_id = i.id
        where i.alerts_firing <> coalesce(a.firing, 0) or i.alerts_resolved <> coalesce(a.resolved, 0)`,
    ),
  );
  const outbox = await rowsOf<{ status: string; kind: string; n: number }>(
    db.raw(
      'select status, kind, count(*)::int as n from slack_outbox group by status, kind order by status, kind',
    ),
  );
  const timeline = await rowsOf<{ kind: string; n: number }>(
    db.raw('select kind, count(*)::int as n from incident_timeline group by kind order by kind'),
  );
  return {
    expectedOccurrences: workload.expected.size,
    storedRows: rows,
    storedDistinct: distinct,
    lost,
    duplicated: rows - distinct,
    unexpected,
    statusMismatches,
    groupsSent: workload.openedGroups.size,
    incidents,
    groupsWithoutIncident,
    groupsWithSeveralIncidents,
    incidentCountersMismatched: counters!.mismatched,
    outbox: Object.fromEntries(outbox.map((row) => [`${row.kind}/${row.status}`, row.n])),
    timeline: Object.fromEntries(timeline.map((row) => [row.kind, row.n])),
  };
}

/** What `verifyDatabase` found. */
export type DatabaseCheck = Awaited<ReturnType<typeof verifyDatabase>>;

/** The correctness targets `check` misses, in words; empty when every one is met. */
export function databaseFailures(check: DatabaseCheck): string[] {
  const failures: string[] = [];
  if (check.lost > 0) failures.push(`${check.lost} accepted occurrences are not stored`);
  if (check.duplicated > 0) failures.push(`${check.duplicated} occurrences are stored more than once`);
  if (check.unexpected > 0) failures.push(`${check.unexpected} stored occurrences were never accepted`);
  if (check.statusMismatches > 0)
    failures.push(`${check.statusMismatches} occurrences have the wrong status`);
  if (
    check.incidents !== check.groupsSent ||
    check.groupsWithoutIncident > 0 ||
    check.groupsWithSeveralIncidents > 0
  ) {
    failures.push(`${check.incidents} incidents for ${check.groupsSent} groups`);
  }
  if (check.incidentCountersMismatched > 0) {
    failures.push(`${check.incidentCountersMismatched} incidents count their alerts wrongly`);
  }
  return failures;
}

/** The Slack Web API calls aisre made, per incident and by outcome, and how far apart it edited one message. */
export function slackStats(emulator: SlackEmulator, incidents: number) {
  const byMethod = countBy(emulator.calls, (call) => call.method);
  const perIncident = Object.fromEntries(
    Object.entries(byMethod).map(([method, n]) => [method, round(n / Math.max(1, incidents))]),
  );
  const outcomes = countBy(emulator.calls, (call) => {
    if (call.status === null) return 'dropped';
    const body = call.response as { ok?: boolean; error?: string } | null;
    return body?.ok ? `${call.status} ok` : `${call.status} ${body?.error ?? 'error'}`;
  });
  // Updates of one message must be spaced by ~1 s (coalesced), whatever the alert rate.
  const updates = new Map<string, number[]>();
  for (const call of emulator.calls) {
    if (call.method !== 'chat.update') continue;
    const key = `${String(call.args.channel)}/${String(call.args.ts)}`;
    const times = updates.get(key) ?? [];
    times.push(call.at);
    updates.set(key, times);
  }
  let minGapMs = Number.POSITIVE_INFINITY;
  let maxUpdatesPerMessage = 0;
  for (const times of updates.values()) {
    maxUpdatesPerMessage = Math.max(maxUpdatesPerMessage, times.length);
    for (let i = 1; i < times.length; i++) minGapMs = Math.min(minGapMs, times[i]! - times[i - 1]!);
  }
  const first = emulator.calls[0]?.at ?? 0;
  const last = emulator.calls.at(-1)?.at ?? 0;
  return {
    calls: emulator.calls.length,
    callsPerIncident: round(emulator.calls.length / Math.max(1, incidents)),
    byMethod,
    perIncident,
    outcomes,
    messagesUpdated: updates.size,
    maxUpdatesPerMessage,
    minGapBetweenUpdatesOfOneMessageMs: Number.isFinite(minGapMs) ? minGapMs : null,
    slackActivitySeconds: round((last - first) / 1000, 1),
  };
}
