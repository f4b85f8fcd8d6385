import { type ActionRun, EXECUTED_STATUSES } from '../actions/action-run.js';
import { INCIDENT_CLASSES, type IncidentClass, LAYERS, type Layer } from '../diagnosis/runbook-schema.js';
import { type Incident, incidentRef, isOpen, SEVERITIES, type Severity } from '../incidents/incident.js';
import { durationsOf } from './postmortem-times.js';

/** What the review is built from: the incidents and their action runs, as the stores return them. */
export interface WeeklyReviewInput {
  from: Date;
  to: Date;
  /** Incidents opened in `[from, to)` are reviewed; any others are ignored, so a superset is fine. */
  incidents: readonly Incident[];
  /** Action runs of the reviewed incidents, undos included; runs of other incidents are ignored. */
  actions: readonly ActionRun[];
  /** When each incident's diagnosis concluded, by incident id: the incident keeps only the summary. */
  diagnosedAt?: ReadonlyMap<number, Date>;
}

/** An incident without a concluded diagnosis has neither a layer nor a class. */
export type ReviewLayer = Layer | 'undiagnosed';
export type ReviewClass = IncidentClass | 'undiagnosed';

export interface Tally<Key extends string> {
  key: Key;
  count: number;
}

/** One "time to …" over the incidents that got that far; whole seconds, null when none did. */
export interface DurationSummary {
  /** How many incidents the figures cover: those with the end time, cancelled ones left out. */
  incidents: number;
  meanSeconds: number | null;
  medianSeconds: number | null;
}

/**
 * How one action was used. `runs` counts every run of kind `run`, and equals `executed + previewed
 * + pending + rejected + cancelled`. Undo runs are not uses: they show up as `undone` on the run
 * they reverted.
 */
export interface ActionUsage {
  actionId: string;
  runs: number;
  /** Runs whose change was applied or attempted: verifying, recovered, not recovered, unverified or failed. */
  executed: number;
  verifying: number;
  recovered: number;
  notRecovered: number;
  /** Executed with no checks to confirm recovery. */
  unverified: number;
  /** Failed while executing; a failed dry run never executed and counts as `previewed`. */
  failed: number;
  /** Executed runs whose undo was executed too. */
  undone: number;
  /** Shown but never executed, including failed dry runs. */
  previewed: number;
  /** Awaiting approval or executing right now. */
  pending: number;
  rejected: number;
  cancelled: number;
  /**
   * `recovered` over the runs whose outcome is known (recovered, not recovered, failed), 0–1; null
   * when none is. Verifying and unverified runs say nothing yet about recovery, so they are left out.
   */
  recoveryRate: number | null;
}

/** A service or alert behind two or more of the reviewed incidents. */
export interface RepeatOffender {
  kind: 'service' | 'alertname';
  name: string;
  /** `INC-n` of each of its incidents, oldest first. */
  incidents: string[];
}

/** What `/aisre report` shows: how the incidents of a window went, in figures. */
export interface WeeklyReview {
  from: Date;
  to: Date;
  /** The window's length in whole days, for "the last N days". */
  days: number;
  /** Incidents opened in the window, cancelled ones included. */
  incidents: number;
  byStatus: { open: number; resolved: number; cancelled: number };
  /** Every severity, zero or not, so the review always reads the same way. */
  bySeverity: Record<Severity, number>;
  /** Layers and classes that occurred, most frequent first. */
  byLayer: Tally<ReviewLayer>[];
  byClass: Tally<ReviewClass>[];
  /** Measured from when aisre opened each incident; cancelled incidents are left out. */
  times: {
    toAcknowledge: DurationSummary;
    toDiagnose: DurationSummary;
    toMitigate: DurationSummary;
    toResolve: DurationSummary;
  };
  /** Most executed first. */
  actions: ActionUsage[];
  /** Most incidents first. */
  repeatOffenders: RepeatOffender[];
}

const DAY_MS = 86_400_000;

/**
 * Summarises the incidents opened between `from` and `to`: counts by layer, class, severity and
 * status, the mean and median times to acknowledge, diagnose, mitigate and resolve, how the actions
 * fared, and the services and alerts that kept coming back. Pure, so the same record always gives
 * the same review.
 */
export function buildWeeklyReview(input: WeeklyReviewInput): WeeklyReview {
  const incidents = input.incidents
    .filter((incident) => incident.createdAt >= input.from && incident.createdAt < input.to)
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id - b.id);
  const ids = new Set(incidents.map((incident) => incident.id));
  return {
    from: input.from,
    to: input.to,
    days: Math.max(1, Math.round((input.to.getTime() - input.from.getTime()) / DAY_MS)),
    incidents: incidents.length,
    byStatus: {
      open: incidents.filter((incident) => isOpen(incident.status)).length,
      resolved: incidents.filter((incident) => incident.status === 'resolved').length,
      cancelled: incidents.filter((incident) => incident.status === 'cancelled').length,
    },
    bySeverity: Object.fromEntries(
      SEVERITIES.map((severity) => [severity, incidents.filter((i) => i.severity === severity).length]),
    ) as Record<Severity, number>,
    byLayer: tally(
      incidents.map((incident) => conclusionOf(incident)?.layer ?? 'undiagnosed'),
      [...LAYERS, 'undiagnosed'],
    ),
    byClass: tally(
      incidents.map((incident) => conclusionOf(incident)?.class ?? 'undiagnosed'),
      [...INCIDENT_CLASSES, 'undiagnosed'],
    ),
    times: timesOf(incidents, input.diagnosedAt ?? new Map()),
    actions: actionUsage(input.actions.filter((run) => ids.has(run.incidentId))),
    repeatOffenders: repeatOffenders(incidents),
  };
}

function conclusionOf(incident: Incident) {
  return incident.diagnosis?.status === 'concluded' ? incident.diagnosis.conclusion : null;
}

/** The keys that occur, most frequent first; ties keep the order of `order`. */
function tally<Key extends string>(keys: readonly Key[], order: readonly Key[]): Tally<Key>[] {
  return order
    .map((key) => ({ key, count: keys.filter((k) => k === key).length }))
    .filter((entry) => entry.count > 0)
    .sort((a, b) => b.count - a.count);
}

function timesOf(
  incidents: readonly Incident[],
  diagnosedAt: ReadonlyMap<number, Date>,
): WeeklyReview['times'] {
  const durations = incidents
    .filter((incident) => incident.status !== 'cancelled')
    .map((incident) =>
      // Measured from when aisre opened the incident (the postmortem's "detected"), as the review
      // loads no alerts; `durationsOf` then drops end times that lie before it, as postmortems do.
      durationsOf({
        started: incident.createdAt,
        startedBy: 'declaration',
        detected: incident.createdAt,
        acknowledged: incident.acknowledgedAt,
        diagnosed: diagnosedAt.get(incident.id) ?? null,
        mitigated: incident.mitigatedAt,
        resolved: incident.resolvedAt,
      }),
    );
  return {
    toAcknowledge: summarise(durations.map((d) => d.toAcknowledge)),
    toDiagnose: summarise(durations.map((d) => d.toDiagnose)),
    toMitigate: summarise(durations.map((d) => d.toMitigate)),
    toResolve: summarise(durations.map((d) => d.toResolve)),
  };
}

function summarise(seconds: readonly (number | null)[]): DurationSummary {
  const known = seconds.filter((s): s is number => s !== null).sort((a, b) => a - b);
  if (known.length === 0) return { incidents: 0, meanSeconds: null, medianSeconds: null };
  const middle = Math.floor(known.length / 2);
  const median = known.length % 2 === 1 ? known[middle]! : (known[middle - 1]! + known[middle]!) / 2;
  return {
    incidents: known.length,
    meanSeconds: Math.round(known.reduce((sum, s) => sum + s, 0) / known.length),
    medianSeconds: Math.round(median),
  };
}

function emptyUsage(actionId: string): ActionUsage {
  return {
    actionId,
    runs: 0,
    executed: 0,
    verifying: 0,
    recovered: 0,
    notRecovered: 0,
    unverified: 0,
    failed: 0,
    undone: 0,
    previewed: 0,
    pending: 0,
    rejected: 0,
    cancelled: 0,
    recoveryRate: null,
  };
}

/** Adds one run of kind `run` to its action's usage. */
function count(usage: ActionUsage, run: ActionRun, undone: boolean): void {
  usage.runs += 1;
  switch (run.status) {
    case 'verifying':
    case 'recovered':
    case 'not_recovered':
    case 'unverified': {
      const field = run.status === 'not_recovered' ? 'notRecovered' : run.status;
      usage[field] += 1;
      usage.executed += 1;
      if (undone) usage.undone += 1;
      return;
    }
    case 'failed':
      // A failed dry run (nothing executed) is told apart from a failed execution by `executedAt`.
      if (run.executedAt === null) {
        usage.previewed += 1;
        return;
      }
      usage.failed += 1;
      usage.executed += 1;
      return;
    case 'previewed':
      usage.previewed += 1;
      return;
    case 'awaiting_approval':
    case 'executing':
      usage.pending += 1;
      return;
    case 'rejected':
    case 'cancelled':
      usage[run.status] += 1;
      return;
  }
}

function actionUsage(runs: readonly ActionRun[]): ActionUsage[] {
  const undoneIds = new Set(
    runs
      // A previewed or withdrawn undo reverted nothing; only one whose change is in place counts.
      .filter((run) => run.kind === 'undo' && EXECUTED_STATUSES.includes(run.status))
      .map((run) => run.undoOf),
  );
  const byAction = new Map<string, ActionUsage>();
  for (const run of runs) {
    if (run.kind !== 'run') continue;
    let usage = byAction.get(run.actionId);
    if (!usage) {
      usage = emptyUsage(run.actionId);
      byAction.set(run.actionId, usage);
    }
    count(usage, run, undoneIds.has(run.id));
  }
  for (const usage of byAction.values()) {
    const known = usage.recovered + usage.notRecovered + usage.failed;
    usage.recoveryRate = known === 0 ? null : usage.recovered / known;
  }
  return [...byAction.values()].sort(
    (a, b) => b.executed - a.executed || b.runs - a.runs || compareText(a.actionId, b.actionId),
  );
}

function repeatOffenders(incidents: readonly Incident[]): RepeatOffender[] {
  const groups = new Map<string, RepeatOffender>();
  const add = (kind: RepeatOffender['kind'], name: string | null | undefined, incident: Incident) => {
    if (!name) return;
    const key = `${kind}\u0000${name}`;
    const group = groups.get(key) ?? { kind, name, incidents: [] };
    group.incidents.push(incidentRef(incident));
    groups.set(key, group);
  };
  for (const incident of incidents) {
    add('service', incident.service, incident);
    add('alertname', incident.groupLabels.alertname, incident);
  }
  return [...groups.values()]
    .filter((group) => group.incidents.length >= 2)
    .sort(
      (a, b) =>
        b.incidents.length - a.incidents.length ||
        (a.kind === b.kind ? 0 : a.kind === 'service' ? -1 : 1) ||
        compareText(a.name, b.name),
    );
}

// Code-unit order rather than localeCompare, so the review does not depend on the server's locale.
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
