import { describeRun, EXECUTED_STATUSES } from '../actions/action-run.js';
import type { ChangeEvent } from '../changes/change-event.js';
import type { IncidentClass, Layer } from '../diagnosis/runbook-schema.js';
import {
  CHANGE_KIND_LABELS,
  type PostmortemClass,
  type PostmortemDiagnosis,
  type PostmortemDurations,
  type PostmortemKeyTimes,
  type PostmortemRecord,
} from './postmortem.js';
import { formatElapsed } from './postmortem-times.js';

/** What aisre can say from the record alone, as plain text; responders confirm and complete it. */
export interface PostmortemSeeds {
  wentWell: string[];
  wentWrong: string[];
  gotLucky: string[];
  actionItems: string[];
}

export interface SeedInput {
  record: PostmortemRecord;
  times: PostmortemKeyTimes;
  durations: PostmortemDurations;
  diagnosis: PostmortemDiagnosis | null;
  layer: Layer | null;
  incidentClass: PostmortemClass;
}

const MINUTE = 60;
// Thresholds for calling a phase quick or slow; between them the seeds say nothing.
const QUICK_DETECTION = 5 * MINUTE;
const SLOW_DETECTION = 15 * MINUTE;
const QUICK_ACK = 15 * MINUTE;
const SLOW_ACK = 30 * MINUTE;
/** A change this long before the first alert means the alerting lagged the change. */
const CHANGE_LAG = 10 * MINUTE;
const ERRORS_NAMED = 3;

// Practices that would have caught or contained a fault in each layer.
const LAYER_ITEMS: Record<Layer, string[]> = {
  retrieval: [
    'Alert on index freshness (time since the last successful index refresh), not only on answer quality.',
    'Ship embedding model changes together with a reindex, and block one without the other.',
  ],
  generation: [
    'Review and canary prompt diffs like code deployments, with the previous version ready to roll back to.',
    'Run the golden set in CI for every prompt and model change.',
  ],
  routing: [
    'Review and canary gateway routing changes like code deployments.',
    'Alert when the responding model differs from the requested one, and on the fallback rate.',
  ],
  provider_drift: [
    'Pin the model to a dated version instead of a floating alias.',
    'Run the golden set on a schedule and alert when the response model or system_fingerprint changes.',
  ],
  integration: [
    'Add contract tests on the model output schema and the mapping that consumes it.',
    'Validate model output against its schema at the boundary and alert on schema errors.',
  ],
  cost: [
    'Set a budget cap on agent keys at the gateway.',
    'Cap agent steps per session and retries, and alert on token spend against the day before.',
  ],
  safety: [
    'Keep a guardrail regression suite (refusals, content filter) and run it on every prompt, model and policy change.',
  ],
  infrastructure: ['Add a synthetic probe of the failing dependency and alert on its errors and latency.'],
  unknown: ['Extend the runbook so that the diagnosis can conclude for incidents like this one.'],
};

const NO_DIAGNOSIS_ITEM =
  'Give incidents like this one a runbook that matches them, so that aisre diagnoses them.';

const CLASS_ITEMS: Record<IncidentClass, string> = {
  infrastructure: 'Give the failing dependency a health check and a documented fallback.',
  data: 'Monitor data freshness and quality (ingestion, index, embeddings) as service level indicators.',
  model_behaviour: 'Alert on the online eval pass rate against its SLO, not only on errors and latency.',
  evaluation_policy: 'Version the eval set, the judge and the policies, and review their changes like code.',
};

const seconds = (from: Date, to: Date) => Math.floor((to.getTime() - from.getTime()) / 1000);
const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

function changeName(change: ChangeEvent): string {
  const versions =
    change.fromVersion && change.toVersion
      ? ` (${change.fromVersion} → ${change.toVersion})`
      : change.toVersion
        ? ` (now ${change.toVersion})`
        : '';
  return `the ${CHANGE_KIND_LABELS[change.kind].toLowerCase()} change on ${change.service}${versions}`;
}

/** The latest change that took effect before the incident started. */
function lastChangeBefore(changes: readonly ChangeEvent[], start: Date): ChangeEvent | null {
  let last: ChangeEvent | null = null;
  for (const change of changes) {
    if (change.at <= start && (!last || change.at > last.at)) last = change;
  }
  return last;
}

function detection({ record, times, durations }: SeedInput, seeds: PostmortemSeeds): void {
  if (times.startedBy === 'declaration') {
    seeds.wentWrong.push(
      'No alert fired: the incident was declared by hand, so monitoring did not catch it.',
    );
    seeds.actionItems.push('Add an alert that would have caught this incident; it was declared by hand.');
  } else if (durations.toDetect !== null && durations.toDetect <= QUICK_DETECTION) {
    seeds.wentWell.push(
      `aisre opened the incident ${formatElapsed(durations.toDetect)} after the first alert started.`,
    );
  } else if (durations.toDetect !== null && durations.toDetect > SLOW_DETECTION) {
    seeds.wentWrong.push(
      `aisre opened the incident ${formatElapsed(durations.toDetect)} after the first alert started; alert grouping or routing held the notification back.`,
    );
  }
  const change = lastChangeBefore(record.changes, times.started);
  if (change && times.startedBy === 'alert') {
    const lag = seconds(change.at, times.started);
    if (lag >= CHANGE_LAG) {
      seeds.wentWrong.push(
        `The first alert fired ${formatElapsed(lag)} after ${changeName(change)}; the change itself raised no signal.`,
      );
      seeds.actionItems.push(
        `Catch a bad ${CHANGE_KIND_LABELS[change.kind].toLowerCase()} change within minutes of its rollout (this time the first alert came ${formatElapsed(lag)} later), e.g. by comparing the affected metric with the previous version's.`,
      );
    }
  }
  if (record.incident.truncatedAlerts > 0) {
    seeds.wentWrong.push(
      `Alertmanager left ${plural(record.incident.truncatedAlerts, 'alert')} out of its notification, so the record of alerts is incomplete.`,
    );
  }
  if (durations.toAcknowledge !== null && durations.toAcknowledge <= QUICK_ACK) {
    seeds.wentWell.push(
      `A responder acknowledged the incident ${formatElapsed(durations.toAcknowledge)} after it opened.`,
    );
  } else if (durations.toAcknowledge !== null && durations.toAcknowledge > SLOW_ACK) {
    const took = formatElapsed(durations.toAcknowledge);
    seeds.wentWrong.push(`Acknowledgement came ${took} after the incident opened.`);
    seeds.actionItems.push(`Review who is paged for this alert and how: acknowledgement took ${took}.`);
  }
}

function diagnosisLessons({ record, times, diagnosis }: SeedInput, seeds: PostmortemSeeds): void {
  if (!diagnosis) {
    seeds.wentWrong.push('No diagnosis ran, so the failing layer was not recorded.');
    return;
  }
  const { conclusion, concludedAt } = diagnosis;
  if (conclusion && concludedAt) {
    const took = formatElapsed(Math.max(0, seconds(diagnosis.startedAt, concludedAt)));
    const answers = diagnosis.steps.filter(
      (step) => step.answer !== null && step.status !== 'overridden',
    ).length;
    const overridden = diagnosis.steps.some((step) => step.status === 'overridden');
    const help = overridden
      ? 'once a responder overrode it'
      : answers === 0
        ? 'without needing a human answer'
        : `with ${plural(answers, 'answer')} from responders`;
    if (conclusion.layer === 'unknown') {
      seeds.wentWrong.push(`The diagnosis concluded in ${took} without finding the failing layer.`);
    } else {
      seeds.wentWell.push(
        `Diagnosis concluded in ${took} ${help}, pointing at the ${conclusion.layer.replace('_', ' ')} layer.`,
      );
    }
    const change = lastChangeBefore(record.changes, times.started);
    if (change)
      seeds.wentWell.push(
        `${capitalise(changeName(change))} was on record, so the diagnosis could weigh it.`,
      );
  } else {
    const where = diagnosis.steps.at(-1)?.title ?? 'its first node';
    const state = diagnosis.status === 'waiting' ? 'was waiting for an answer' : 'stopped';
    seeds.wentWrong.push(`The diagnosis did not conclude; it ${state} at “${where}”.`);
    seeds.actionItems.push(
      `Extend the runbook “${diagnosis.runbookTitle}” at “${where}” so that it concludes for incidents like this one.`,
    );
  }
  for (const step of diagnosis.steps) {
    if (step.status !== 'overridden') continue;
    const sent = step.next ? ` and sent it to “${step.next.title}”` : '';
    seeds.wentWrong.push(
      `A responder overrode the diagnosis at “${step.title}”${sent}: the runbook's checks pointed elsewhere.`,
    );
    seeds.actionItems.push(
      `Improve the runbook at “${step.title}” so that its checks lead where the responders went.`,
    );
  }
  const errors = diagnosis.steps.flatMap((step) =>
    step.checks
      .filter((check) => check.result?.status === 'error')
      .map((check) => `${check.title}: ${check.result?.summary}`),
  );
  if (errors.length > 0) {
    const more = errors.length > ERRORS_NAMED ? `; and ${errors.length - ERRORS_NAMED} more` : '';
    seeds.wentWrong.push(
      `${plural(errors.length, 'diagnosis check')} could not run: ${errors.slice(0, ERRORS_NAMED).join('; ')}${more}.`,
    );
    seeds.actionItems.push(
      'Fix the diagnosis checks that could not run, so that the next diagnosis has their evidence.',
    );
  }
}

function actionLessons({ record }: SeedInput, seeds: PostmortemSeeds): void {
  for (const run of record.actions) {
    const name = describeRun(run);
    const checks = run.verification ? ` (${run.verification.summary})` : '';
    const executed = EXECUTED_STATUSES.includes(run.status);
    if (run.kind === 'undo') {
      if (executed)
        seeds.wentWell.push(`The ${name} restored the state recorded before A-${run.undoOf} ran.`);
      if (run.undoOf !== null) seeds.wentWrong.push(`The change made by A-${run.undoOf} had to be undone.`);
    } else if (run.status === 'recovered') {
      seeds.wentWell.push(`${name} recovered the service${checks}.`);
    } else if (run.status === 'not_recovered') {
      seeds.wentWrong.push(`Action ${name} ran but did not recover the service${checks}.`);
      seeds.actionItems.push(
        `Review why ${name} did not recover the service, and correct what the runbook recommends for this conclusion.`,
      );
    }
    if (run.status === 'failed') {
      seeds.wentWrong.push(`Action ${name} failed: ${run.error ?? 'no error was recorded'}.`);
      seeds.actionItems.push(`Find out why ${name} failed and fix the action or its configuration.`);
    }
    if (run.approvedBy && executed) {
      seeds.wentWell.push(
        `${capitalise(name)} is high risk and was approved by a second person before it ran.`,
      );
    }
  }
}

function luck({ record, times }: SeedInput, seeds: PostmortemSeeds): void {
  const allResolved = record.incident.allAlertsResolvedAt;
  const recovered = record.actions.some((run) => run.kind === 'run' && run.status === 'recovered');
  if (allResolved && !recovered && (!times.mitigated || allResolved <= times.mitigated)) {
    seeds.gotLucky.push(
      'Every alert resolved before any action was seen to recover the service: the problem went away on its own, or through something the record does not show.',
    );
  }
  const share = record.impact?.errorBudget?.shareBelowSlo;
  if (share !== undefined && share !== null && share < 0.5) {
    seeds.gotLucky.push(
      `The eval pass rate stayed above its SLO for ${Math.round((1 - share) * 100)}% of the incident.`,
    );
  }
}

/**
 * Seeds the lessons and suggests action items from the record, in blameless words: they name
 * systems, signals and decisions, never people. Suggestions for the layer and class come first,
 * then one for each thing that failed.
 */
export function seedPostmortem(input: SeedInput): PostmortemSeeds {
  const found: PostmortemSeeds = { wentWell: [], wentWrong: [], gotLucky: [], actionItems: [] };
  detection(input, found);
  diagnosisLessons(input, found);
  actionLessons(input, found);
  luck(input, found);
  // Without a conclusion, the runbook is what to improve: diagnosisLessons names where.
  const suggested = input.layer ? [...LAYER_ITEMS[input.layer]] : input.diagnosis ? [] : [NO_DIAGNOSIS_ITEM];
  if (input.incidentClass !== 'unknown') suggested.push(CLASS_ITEMS[input.incidentClass]);
  return { ...found, actionItems: [...new Set([...suggested, ...found.actionItems])] };
}
