import { formatDistanceStrict } from 'date-fns';
import type { ActionRun } from '../../actions/action-run.js';
import {
  type AlertOccurrence,
  type Incident,
  type IncidentStatus,
  incidentRef,
  isOpen,
  SEVERITIES,
  type Severity,
} from '../../incidents/incident.js';
import { actionRunLine } from './action-run.js';
import { LIMITS, listWithOverflow, MESSAGE_JSON_BUDGET } from './limits.js';
import {
  channelMention,
  escapeInline,
  escapeMrkdwn,
  link,
  singleLine,
  truncate,
  userMention,
} from './mrkdwn.js';
import {
  ACTION_IDS,
  type ActionsBlock,
  type Block,
  type ButtonElement,
  type ContextBlock,
  type InteractiveElement,
  incidentActionsBlockId,
  mrkdwn,
  plainText,
  type SectionBlock,
  type SelectOption,
  type SlackMessage,
} from './types.js';

/** Everything the incident card shows. Times render as Slack date tokens, so no `now` is needed. */
export interface IncidentCardView {
  incident: Incident;
  /**
   * Newest first. The first CARD_ALERT_LINES firing-then-resolved alerts are all the card can show;
   * how many it left out is counted from the incident's tallies, so more need not be loaded.
   */
  alerts: AlertOccurrence[];
  channelId: string | null;
  /** The incident's action runs, oldest first; the card lists where the latest ones stand. */
  actions?: readonly ActionRun[];
  /** False leaves out buttons, for copies such as ephemeral summaries whose buttons would go stale. */
  interactive?: boolean;
}

const SEVERITY_EMOJI: Record<Severity, string> = { SEV1: '🔴', SEV2: '🟠', SEV3: '🟡', SEV4: '🔵' };

const STATUS_EMOJI: Record<IncidentStatus, string> = {
  triggered: '🚨',
  acknowledged: '👀',
  investigating: '🔍',
  mitigated: '🩹',
  resolved: '✅',
  cancelled: '🚫',
};

// Labels that identify what is broken in an AI system, shown before any other label.
const KEY_LABELS = ['service', 'model', 'layer', 'namespace', 'pod', 'instance', 'job'];
const LABELS_PER_ALERT = 3;
/** The most alerts the card lists, firing ones first; callers need load no more than these. */
export const CARD_ALERT_LINES = 20;
const RESPONDERS_SHOWN = 10;
const DESCRIPTION_CHARS = 500;
// Below this the alert list is not worth showing; the counts line still is.
const MIN_ALERT_SECTION_CHARS = 200;

/** The severity with its colour, e.g. `🔴 SEV1`. */
export function severityBadge(severity: Severity): string {
  return `${SEVERITY_EMOJI[severity]} ${severity}`;
}

/** The status with its emoji, e.g. `🚨 Triggered`. */
export function statusBadge(status: IncidentStatus): string {
  return `${STATUS_EMOJI[status]} ${status.charAt(0).toUpperCase()}${status.slice(1)}`;
}

/** The alert counts, e.g. `3 firing · 1 resolved`. */
export function alertCounts(incident: Pick<Incident, 'alertsFiring' | 'alertsResolved'>): string {
  return `${incident.alertsFiring} firing · ${incident.alertsResolved} resolved`;
}

/** `2026-11-22 21:05 UTC`: unambiguous for incidents that span days and for readers in any zone. */
function utcTime(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** `3 hours ago`, clamped so that clock skew never yields "in 2 seconds". */
export function age(at: Date, now: Date): string {
  return formatDistanceStrict(at.getTime() > now.getTime() ? now : at, now, { addSuffix: true });
}

/**
 * mrkdwn for a point in time. Slack renders it in each reader's time zone with a live "3 hours
 * ago", so the message needs no edit as time passes; other renderers show the UTC fallback.
 */
export function formatWhen(at: Date): string {
  const epoch = Math.floor(at.getTime() / 1000);
  return `<!date^${epoch}^{date_num} {time} ({ago})|${utcTime(at)}>`;
}

/**
 * The one-line summary used as notification text: `🔴 SEV1 INC-42 triggered: Title · 3 firing`;
 * without the tallies when `counts` is false.
 */
export function incidentSummaryLine(incident: Incident, { counts = true } = {}): string {
  const tallies =
    counts && incident.alertsFiring + incident.alertsResolved > 0 ? ` · ${alertCounts(incident)}` : '';
  return (
    `${severityBadge(incident.severity)} ${incidentRef(incident)} ${incident.status}: ` +
    `${escapeInline(incident.title, 200)}${tallies}`
  );
}

/** The Resolve button, with a confirmation because resolving cannot be undone. */
function resolveButton(incident: Incident, style: 'primary' | 'danger'): ButtonElement {
  return {
    type: 'button',
    action_id: ACTION_IDS.resolve,
    text: plainText('Resolve'),
    value: String(incident.id),
    style,
    confirm: {
      title: plainText(`Resolve ${incidentRef(incident)}?`),
      text: mrkdwn('This closes the incident. Alerts that fire again will open a new incident.'),
      confirm: plainText('Resolve'),
      deny: plainText('Keep open'),
      style: 'danger',
    },
  };
}

function severityOption(severity: Severity): SelectOption {
  return { text: plainText(severityBadge(severity)), value: severity };
}

function field(label: string, value: string) {
  return mrkdwn(`*${label}*\n${value}`);
}

function sourceText(incident: Incident): string {
  switch (incident.source) {
    case 'alertmanager':
      return incident.receiver ? `Alertmanager (${escapeInline(incident.receiver, 80)})` : 'Alertmanager';
    case 'slack':
      return 'Declared in Slack';
    case 'api':
      return 'API';
  }
}

function detailsSection(view: IncidentCardView): SectionBlock {
  const { incident } = view;
  const responders = listWithOverflow(incident.responderIds.map(userMention), 600, RESPONDERS_SHOWN);
  const fields = [
    field('Status', statusBadge(incident.status)),
    field('Severity', severityBadge(incident.severity)),
    field('Commander', incident.commanderId ? userMention(incident.commanderId) : '_Unassigned_'),
    field('Responders', responders.length > 0 ? responders.join(', ') : '—'),
    field('Source', sourceText(incident)),
    field('Created', formatWhen(incident.createdAt)),
  ];
  if (incident.service) fields.push(field('Service', escapeInline(incident.service, 80)));
  if (incident.layerHint) fields.push(field('Layer hint', escapeInline(incident.layerHint, 80)));
  if (view.channelId) fields.push(field('Channel', channelMention(view.channelId)));
  return { type: 'section', fields };
}

function alertLine(alert: AlertOccurrence, groupLabels: Record<string, string>): string {
  // Labels shared by the whole group say nothing about this alert in particular.
  const labels = Object.entries(alert.labels)
    .filter(([name, value]) => name !== 'alertname' && groupLabels[name] !== value)
    .sort(([a], [b]) => labelRank(a) - labelRank(b) || a.localeCompare(b))
    .slice(0, LABELS_PER_ALERT)
    .map(([name, value]) => `${escapeInline(name, 30)}=${escapeInline(value, 40)}`);
  const emoji = alert.status === 'firing' ? '🔥' : '✅';
  const name = escapeInline(alert.alertname, 80) || 'unnamed alert';
  return `${emoji} *${name}*${labels.length > 0 ? ` · ${labels.join(', ')}` : ''}`;
}

function labelRank(name: string): number {
  const rank = KEY_LABELS.indexOf(name);
  return rank === -1 ? KEY_LABELS.length : rank;
}

function alertsSection(view: IncidentCardView, maxChars: number): SectionBlock[] {
  if (view.alerts.length === 0) return [];
  const heading = `*Alerts* · ${alertCounts(view.incident)}`;
  if (maxChars < MIN_ALERT_SECTION_CHARS) return [{ type: 'section', text: mrkdwn(heading) }];
  // Firing alerts are what responders act on, so they go first even when older.
  const ordered = [
    ...view.alerts.filter((alert) => alert.status === 'firing'),
    ...view.alerts.filter((alert) => alert.status !== 'firing'),
  ];
  const { alertsFiring, alertsResolved } = view.incident;
  const lines = listWithOverflow(
    ordered.map((alert) => alertLine(alert, view.incident.groupLabels)),
    maxChars - heading.length - 1,
    CARD_ALERT_LINES,
    Math.max(view.alerts.length, alertsFiring + alertsResolved),
  );
  return [{ type: 'section', text: mrkdwn([heading, ...lines].join('\n')) }];
}

function bannerSection(incident: Incident, allResolvedAt: Date, interactive: boolean): SectionBlock {
  const banner: SectionBlock = {
    type: 'section',
    text: mrkdwn(
      `✅ *All alerts have resolved.* Resolve the incident?\n_Last alert resolved ${formatWhen(allResolvedAt)}_`,
    ),
  };
  if (interactive) banner.accessory = resolveButton(incident, 'primary');
  return banner;
}

function linksContext(incident: Incident): ContextBlock[] {
  const links = [
    incident.runbookUrl ? `📖 ${link(incident.runbookUrl, 'Runbook')}` : null,
    incident.generatorUrl ? `📈 ${link(incident.generatorUrl, 'Prometheus')}` : null,
    incident.externalUrl ? `🔔 ${link(incident.externalUrl, 'Alertmanager')}` : null,
  ].filter((text): text is string => text !== null);
  return links.length > 0 ? [{ type: 'context', elements: links.map(mrkdwn) }] : [];
}

function actionsBlock(incident: Incident): ActionsBlock {
  const value = String(incident.id);
  const elements: InteractiveElement[] = [];
  if (incident.status === 'triggered') {
    elements.push({
      type: 'button',
      action_id: ACTION_IDS.acknowledge,
      text: plainText('Acknowledge'),
      value,
      style: 'primary',
    });
  }
  // Offered whenever no diagnosis is under way; mitigated incidents may need a second look.
  const diagnosing = incident.diagnosis?.status === 'running' || incident.diagnosis?.status === 'waiting';
  if (!diagnosing) {
    elements.push({
      type: 'button',
      action_id: ACTION_IDS.startDiagnosis,
      text: plainText('Start diagnosis'),
      value,
    });
  }
  elements.push(
    {
      type: 'static_select',
      action_id: ACTION_IDS.changeSeverity,
      placeholder: plainText('Change severity'),
      options: SEVERITIES.map(severityOption),
      initial_option: severityOption(incident.severity),
    },
    resolveButton(incident, 'danger'),
  );
  return { type: 'actions', block_id: incidentActionsBlockId(incident.id), elements };
}

const CLASS_NAMES: Record<string, string> = {
  infrastructure: 'infrastructure failure',
  data: 'data failure',
  model_behaviour: 'model-behaviour failure',
  evaluation_policy: 'evaluation or policy failure',
};

/** Where the diagnosis stands; the step-by-step evidence lives in the thread under the card. */
function diagnosisSection(incident: Incident): SectionBlock[] {
  const diagnosis = incident.diagnosis;
  if (!diagnosis || diagnosis.status === 'stopped') return [];
  const conclusion = diagnosis.conclusion;
  if (conclusion) {
    const actions = conclusion.actions.map((action) => `\`${escapeInline(action.action, 60)}\``);
    const text =
      `🎯 *Diagnosis: ${escapeInline(conclusion.layer.replace('_', ' '), 40)} layer* · ` +
      `${CLASS_NAMES[conclusion.class] ?? conclusion.class}\n${escapeMrkdwn(truncate(conclusion.hypothesis, 600))}` +
      (actions.length > 0 ? `\n*Recommended:* ${actions.join(', ')}` : '');
    return [{ type: 'section', text: mrkdwn(text) }];
  }
  const where = escapeInline(diagnosis.nodeTitle, 150);
  const text =
    diagnosis.status === 'waiting'
      ? `🙋 *Diagnosis needs an answer* at “${where}”: see the thread below.`
      : `🔎 *Diagnosing:* running the checks of “${where}”…`;
  return [{ type: 'section', text: mrkdwn(text) }];
}

const ACTION_LINES = 5;

/** Where the latest actions stand; each has its own message, with its buttons, in the thread. */
function actionsSection(runs: readonly ActionRun[] | undefined): SectionBlock[] {
  if (!runs || runs.length === 0) return [];
  const lines = listWithOverflow(
    runs.slice(-ACTION_LINES).reverse().map(actionRunLine),
    LIMITS.sectionText - 100,
    ACTION_LINES,
    runs.length,
  );
  return [{ type: 'section', text: mrkdwn(`⚙️ *Actions*\n${lines.join('\n')}`) }];
}

function closingContext(incident: Incident): ContextBlock {
  const closedAt = incident.resolvedAt ?? incident.updatedAt;
  const text =
    incident.status === 'resolved'
      ? `✅ Resolved ${formatWhen(closedAt)}, ${formatDistanceStrict(incident.createdAt, closedAt)} after it opened`
      : `🚫 Cancelled ${formatWhen(closedAt)}`;
  return { type: 'context', elements: [mrkdwn(text)] };
}

/**
 * The incident's main message, kept up to date in its channel. Sized to stay within Slack's limits
 * however many alerts, labels or characters the incident carries.
 */
export function incidentCardMessage(view: IncidentCardView): SlackMessage {
  const { incident } = view;
  const open = isOpen(incident.status);
  const interactive = view.interactive ?? true;

  // plain_text is shown verbatim, so the title is not escaped here: readers would see `&lt;`.
  const header = truncate(`${incidentRef(incident)} · ${singleLine(incident.title)}`, LIMITS.headerText);
  const top: Block[] = [{ type: 'header', text: plainText(header) }, detailsSection(view)];
  if (incident.description?.trim()) {
    const description = escapeMrkdwn(truncate(incident.description.trim(), DESCRIPTION_CHARS));
    top.push({ type: 'section', text: mrkdwn(`*Description*\n${description}`) });
  }
  top.push(...diagnosisSection(incident), ...actionsSection(view.actions));
  if (open && incident.allAlertsResolvedAt) {
    top.push({ type: 'divider' }, bannerSection(incident, incident.allAlertsResolvedAt, interactive), {
      type: 'divider',
    });
  }

  const bottom: Block[] = [];
  if (incident.truncatedAlerts > 0) {
    const n = incident.truncatedAlerts;
    bottom.push({
      type: 'context',
      elements: [
        mrkdwn(
          `⚠️ Alertmanager left out ${n} alert${n === 1 ? '' : 's'} from the latest notification, ` +
            'so the counts above may be low.',
        ),
      ],
    });
  }
  bottom.push(...linksContext(incident));
  if (!open) bottom.push(closingContext(incident));
  else if (interactive) bottom.push(actionsBlock(incident));

  // Escaping and JSON encoding can inflate alert text several times over, so the alert list gives
  // way until the whole message fits the budget.
  const assemble = (alertChars: number) => [...top, ...alertsSection(view, alertChars), ...bottom];
  let alertChars: number = LIMITS.sectionText;
  let blocks = assemble(alertChars);
  let size = JSON.stringify(blocks).length;
  while (size > MESSAGE_JSON_BUDGET && alertChars > 0) {
    alertChars = Math.max(0, alertChars - (size - MESSAGE_JSON_BUDGET) - 100);
    blocks = assemble(alertChars);
    size = JSON.stringify(blocks).length;
  }
  return { text: incidentSummaryLine(incident), blocks };
}
