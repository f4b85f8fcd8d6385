import { SEVERITIES } from '../../incidents/incident.js';
import { POSTMORTEM_CLASS_LABELS } from '../../postmortems/postmortem.js';
import { formatElapsed } from '../../postmortems/postmortem-times.js';
import type {
  ActionUsage,
  DurationSummary,
  RepeatOffender,
  ReviewClass,
  ReviewLayer,
  WeeklyReview,
} from '../../postmortems/weekly-review.js';
import { severityBadge } from './incident-card.js';
import { LIMITS, listWithOverflow, MESSAGE_JSON_BUDGET } from './limits.js';
import { escapeInline } from './mrkdwn.js';
import { type Block, mrkdwn, plainText, type SectionBlock, type SlackMessage } from './types.js';

// Past this many lines a list in a chat message stops being scannable; the rest is "…and N more".
const LIST_LINES = 15;
// Enough references to find the incidents without the line running on for hundreds of them.
const REFS_SHOWN = 8;

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** `2026-11-16`: the window's bounds in UTC, the same for every reader. */
function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

function layerName(layer: ReviewLayer): string {
  return layer.replaceAll('_', ' ');
}

function className(incidentClass: ReviewClass): string {
  return incidentClass === 'undiagnosed' ? 'Undiagnosed' : POSTMORTEM_CLASS_LABELS[incidentClass];
}

function field(label: string, lines: readonly string[]) {
  return mrkdwn(`*${label}*\n${lines.join('\n')}`);
}

function countsSection(review: WeeklyReview): SectionBlock {
  const { open, resolved, cancelled } = review.byStatus;
  return {
    type: 'section',
    fields: [
      field('Incidents', [
        `${review.incidents} in all: ${open} open, ${resolved} resolved, ${cancelled} cancelled`,
      ]),
      field(
        'By severity',
        SEVERITIES.map((severity) => `${severityBadge(severity)}: ${review.bySeverity[severity]}`),
      ),
      field(
        'By layer',
        review.byLayer.map((entry) => `${layerName(entry.key)}: ${entry.count}`),
      ),
      field(
        'By class',
        review.byClass.map((entry) => `${className(entry.key)}: ${entry.count}`),
      ),
    ],
  };
}

function timeField(label: string, summary: DurationSummary, of: number) {
  if (summary.meanSeconds === null || summary.medianSeconds === null) {
    return field(label, ['—', '_no incident got this far_']);
  }
  return field(label, [
    `mean ${formatElapsed(summary.meanSeconds)} · median ${formatElapsed(summary.medianSeconds)}`,
    `_over ${summary.incidents} of ${plural(of, 'incident')}_`,
  ]);
}

function timesSection(review: WeeklyReview): SectionBlock {
  // Cancelled incidents are left out of the times, so the figures cover the rest.
  const measured = review.incidents - review.byStatus.cancelled;
  const { toAcknowledge, toDiagnose, toMitigate, toResolve } = review.times;
  return {
    type: 'section',
    fields: [
      timeField('Time to acknowledge', toAcknowledge, measured),
      timeField('Time to diagnose', toDiagnose, measured),
      timeField('Time to mitigate', toMitigate, measured),
      timeField('Time to resolve', toResolve, measured),
    ],
  };
}

function actionLine(usage: ActionUsage): string {
  const outcomes = [
    `${usage.executed} executed`,
    usage.recovered > 0 ? `${usage.recovered} recovered` : null,
    usage.notRecovered > 0 ? `${usage.notRecovered} not recovered` : null,
    usage.unverified > 0 ? `${usage.unverified} unverified` : null,
    usage.verifying > 0 ? `${usage.verifying} verifying` : null,
    usage.failed > 0 ? `${usage.failed} failed` : null,
    usage.undone > 0 ? `${usage.undone} undone` : null,
  ].filter((part): part is string => part !== null);
  const rate =
    usage.recoveryRate === null
      ? 'recovery not known yet'
      : `*${Math.round(usage.recoveryRate * 100)}%* recovered`;
  const unexecuted = [
    usage.previewed > 0 ? `${usage.previewed} previewed only` : null,
    usage.pending > 0 ? `${usage.pending} pending` : null,
    usage.rejected > 0 ? `${usage.rejected} rejected` : null,
    usage.cancelled > 0 ? `${usage.cancelled} cancelled` : null,
  ].filter((part): part is string => part !== null);
  const also = unexecuted.length > 0 ? ` _(also ${unexecuted.join(', ')})_` : '';
  return `\`${escapeInline(usage.actionId, 80)}\` · ${rate} · ${outcomes.join(' · ')}${also}`;
}

function offenderLine(offender: RepeatOffender): string {
  const refs = offender.incidents.slice(0, REFS_SHOWN).join(', ');
  const more = offender.incidents.length > REFS_SHOWN ? `, +${offender.incidents.length - REFS_SHOWN}` : '';
  const kind = offender.kind === 'service' ? 'service' : 'alert';
  return `*${escapeInline(offender.name, 80)}* (${kind}) · ${plural(offender.incidents.length, 'incident')}: ${refs}${more}`;
}

/** A titled list cut to `maxChars`, or the `none` sentence when there is nothing to list. */
function listSection(title: string, lines: readonly string[], none: string, maxChars: number): SectionBlock {
  if (lines.length === 0) return { type: 'section', text: mrkdwn(`${title}\n${none}`) };
  const shown = listWithOverflow(lines, Math.max(0, maxChars - title.length - 1), LIST_LINES);
  return { type: 'section', text: mrkdwn([title, ...shown].join('\n')) };
}

/**
 * The reply to `/aisre report [days]`: the review as a message, within Slack's limits however many
 * incidents, actions and offenders the window holds. Service and alert names come from alerts, so
 * they are escaped.
 */
export function weeklyReviewMessage(review: WeeklyReview): SlackMessage {
  const window = `last ${plural(review.days, 'day')}`;
  const top: Block[] = [
    { type: 'header', text: plainText(`Incident review · ${window}`) },
    {
      type: 'context',
      elements: [mrkdwn(`${utcDay(review.from)} → ${utcDay(review.to)} (UTC)`)],
    },
  ];
  if (review.incidents === 0) {
    return {
      text: `No incidents in the ${window}.`,
      blocks: [...top, { type: 'section', text: mrkdwn(`✅ No incidents in the ${window}.`) }],
    };
  }
  top.push(countsSection(review), { type: 'divider' }, timesSection(review), { type: 'divider' });

  const actionLines = review.actions.map(actionLine);
  const offenderLines = review.repeatOffenders.map(offenderLine);
  // Names from alerts can inflate several times over when escaped and JSON-encoded, so the two lists
  // give way until the whole message fits the budget; both shrink together, each by half the excess.
  const assemble = (listChars: number): Block[] => [
    ...top,
    listSection('⚙️ *Actions*', actionLines, 'No actions were run.', listChars),
    listSection(
      '🔁 *Repeat offenders*',
      offenderLines,
      'No service or alert had more than one incident.',
      listChars,
    ),
  ];
  let listChars: number = LIMITS.sectionText;
  let blocks = assemble(listChars);
  let size = JSON.stringify(blocks).length;
  while (size > MESSAGE_JSON_BUDGET && listChars > 0) {
    listChars = Math.max(0, listChars - Math.ceil((size - MESSAGE_JSON_BUDGET) / 2) - 50);
    blocks = assemble(listChars);
    size = JSON.stringify(blocks).length;
  }

  const resolve = review.times.toResolve.meanSeconds;
  return {
    text:
      `Incident review, ${window}: ${plural(review.incidents, 'incident')}, ${review.byStatus.open} open` +
      (resolve === null ? '.' : `; mean time to resolve ${formatElapsed(resolve)}.`),
    blocks,
  };
}
