import { type ActionRun, describeRun } from '../actions/action-run.js';
import { redactBody } from '../actions/integration-client.js';
import type { ChangeEvent } from '../changes/change-event.js';
import type { CheckResult } from '../checks/check-type.js';
import type { DiagnosisSession, DiagnosisStep } from '../diagnosis/diagnosis.js';
import { isConclusion } from '../diagnosis/runbook-schema.js';
import { type AlertOccurrence, incidentRef, type TimelineEntry } from '../incidents/incident.js';
import {
  clip,
  markdownBlock,
  markdownInline,
  markdownInlineKeepingMentions,
  markdownLink,
  responderMarkdown,
} from './markdown.js';
import {
  CHANGE_KIND_LABELS,
  POSTMORTEM_CLASS_LABELS,
  type PostmortemActionItem,
  type PostmortemCheck,
  type PostmortemDiagnosis,
  type PostmortemDraft,
  type PostmortemEdits,
  type PostmortemList,
  type PostmortemRecord,
  type PostmortemStep,
  type PostmortemSummary,
} from './postmortem.js';
import { seedPostmortem } from './postmortem-lessons.js';
import { durationsOf, formatElapsed, formatUtc, keyTimes } from './postmortem-times.js';

export interface DraftOptions {
  /** Stated in the draft's header; omit it for output that depends on the record alone. */
  generatedAt?: Date;
}

/** The longest model-written summary kept; the rest is cut. */
export const MAX_MODEL_SUMMARY = 2000;

const byTime =
  <T extends { id: number }>(at: (item: T) => Date) =>
  (a: T, b: T) =>
    at(a).getTime() - at(b).getTime() || a.id - b.id;

function diagnosisPath(session: DiagnosisSession, steps: readonly DiagnosisStep[]): PostmortemDiagnosis {
  const { nodes } = session.runbook;
  const titleOf = (nodeId: string) => nodes[nodeId]?.title ?? nodeId;
  const path = [...steps]
    .sort((a, b) => a.seq - b.seq)
    .map((step): PostmortemStep => {
      const node = nodes[step.nodeId];
      const conclusion = node !== undefined && isConclusion(node);
      const checks: PostmortemCheck[] = [];
      const listed = new Set<string>();
      for (const spec of node?.checks ?? []) {
        listed.add(spec.id);
        const result = step.results[spec.id] ?? null;
        // A conclusion's checks confirm recovery after an action; the diagnosis itself never runs them.
        if (conclusion && !result) continue;
        checks.push({ id: spec.id, title: spec.title ?? spec.id, result });
      }
      for (const [id, result] of Object.entries(step.results)) {
        if (!listed.has(id)) checks.push({ id, title: id, result });
      }
      const asked = step.answer !== null || step.status === 'asking';
      return {
        seq: step.seq,
        nodeId: step.nodeId,
        title: titleOf(step.nodeId),
        conclusion,
        status: step.status,
        checks,
        question: asked && node && !isConclusion(node) ? (node.question?.text ?? null) : null,
        answer: step.answer,
        answeredBy: step.answeredBy,
        outcome: step.outcome,
        next: step.nextNode ? { nodeId: step.nextNode, title: titleOf(step.nextNode) } : null,
        startedAt: step.startedAt,
        finishedAt: step.finishedAt,
      };
    });
  return {
    runbookId: session.runbookId,
    runbookTitle: session.runbook.title,
    runbookVersion: session.runbookVersion,
    status: session.status,
    startedBy: session.startedBy,
    startedAt: session.startedAt,
    concludedAt: session.concludedAt,
    steps: path,
    conclusion: session.status === 'concluded' ? session.conclusion : null,
  };
}

function commonLabelsOf(alerts: readonly AlertOccurrence[]): Record<string, string> {
  const [first, ...rest] = alerts;
  if (!first) return {};
  const common: Record<string, string> = {};
  for (const [key, value] of Object.entries(first.labels)) {
    if (rest.every((alert) => alert.labels[key] === value)) common[key] = value;
  }
  return common;
}

function sentenceList(names: readonly string[], most = 3): string {
  const shown = names.slice(0, most);
  const more = names.length - shown.length;
  if (more > 0) return `${shown.join(', ')} and ${more} more`;
  return shown.length <= 1 ? (shown[0] ?? '') : `${shown.slice(0, -1).join(', ')} and ${shown.at(-1)}`;
}

function endSentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

type SummaryFacts = Pick<
  PostmortemDraft,
  'incident' | 'times' | 'durations' | 'alerts' | 'diagnosis' | 'actions' | 'incidentClass'
>;

/** The deterministic summary: what happened, in the order a reader asks. */
function seededSummary(facts: SummaryFacts): string {
  const { incident, times, durations, alerts, diagnosis } = facts;
  const on = incident.service ? ` on ${incident.service}` : '';
  const sentences: string[] = [];
  if (incident.status === 'resolved' && times.resolved && durations.toResolve !== null) {
    sentences.push(
      `${incidentRef(incident)} (${incident.severity})${on} lasted ${formatElapsed(durations.toResolve)}, from ${formatUtc(times.started)} until it was resolved at ${formatUtc(times.resolved)}.`,
    );
  } else if (incident.status === 'cancelled') {
    sentences.push(
      `${incidentRef(incident)} (${incident.severity})${on} started at ${formatUtc(times.started)} and was cancelled.`,
    );
  } else {
    sentences.push(
      `${incidentRef(incident)} (${incident.severity})${on} started at ${formatUtc(times.started)} and is still ${incident.status}.`,
    );
  }
  const names = [...new Set(alerts.map((alert) => alert.alertname))];
  sentences.push(
    names.length === 0
      ? 'No alert fired: it was declared by hand.'
      : `${sentenceList(names)} fired (${alerts.length} alert${alerts.length === 1 ? '' : 's'}).`,
  );
  const conclusion = diagnosis?.conclusion;
  if (conclusion) {
    sentences.push(
      conclusion.layer === 'unknown'
        ? 'The diagnosis concluded without finding the failing layer.'
        : `The diagnosis concluded that the ${conclusion.layer.replace('_', ' ')} layer failed (class: ${POSTMORTEM_CLASS_LABELS[facts.incidentClass].toLowerCase()}). Its hypothesis: ${endSentence(conclusion.hypothesis)}`,
    );
  } else {
    sentences.push(diagnosis ? 'The diagnosis did not conclude.' : 'No diagnosis was run.');
  }
  const runs = facts.actions.filter((run) => run.kind === 'run');
  const recovered = runs.filter((run) => run.status === 'recovered').map(describeRun);
  if (recovered.length > 0) sentences.push(`${sentenceList(recovered)} recovered the service.`);
  const failed = runs.filter((run) => run.status === 'failed' || run.status === 'not_recovered').length;
  if (failed > 0) sentences.push(`${failed} action${failed === 1 ? '' : 's'} failed or did not recover it.`);
  if (times.mitigated && durations.toMitigate !== null) {
    sentences.push(
      `It was mitigated at ${formatUtc(times.mitigated)}, ${formatElapsed(durations.toMitigate)} after it started.`,
    );
  }
  return sentences.join(' ');
}

const LIST_MARKER = /^\s*(?:[-*+]|\d{1,9}[.)])\s+/;
const CHECKBOX = /^\[([ xX])\]\s+/;

/** A responder's list: one item per line, markers and checkboxes stripped; null when blank. */
function editedItems(text: string | undefined): Array<{ text: string; done: boolean }> | null {
  if (text === undefined) return null;
  const items = text
    .split(/\r?\n/)
    .map((line) => line.replace(LIST_MARKER, ''))
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const box = CHECKBOX.exec(line);
      return { text: (box ? line.slice(box[0].length) : line).trim(), done: box?.[1]?.toLowerCase() === 'x' };
    });
  return items.length > 0 ? items : null;
}

function listOf(edit: string | undefined, seeded: string[]): PostmortemList {
  const edited = editedItems(edit);
  return edited
    ? { source: 'edited', items: edited.map((item) => item.text) }
    : { source: 'seeded', items: seeded };
}

function actionItemsOf(edit: string | undefined, seeded: string[]): PostmortemList<PostmortemActionItem> {
  const edited = editedItems(edit);
  return edited
    ? { source: 'edited', items: edited }
    : { source: 'seeded', items: seeded.map((text) => ({ text, done: false })) };
}

/**
 * Drafts a postmortem from the incident record: deterministic, so the same record and edits
 * always give the same draft. Responders' edits replace the seeded summary, lessons and action
 * items; every other section is rebuilt from the record on each regeneration.
 */
export function draftPostmortem(
  record: PostmortemRecord,
  edits: PostmortemEdits = {},
  options: DraftOptions = {},
): PostmortemDraft {
  const { incident } = record;
  const times = keyTimes(record);
  const durations = durationsOf(times);
  const diagnosis = record.diagnosis ? diagnosisPath(record.diagnosis.session, record.diagnosis.steps) : null;
  const conclusion = diagnosis?.conclusion ?? null;
  const incidentClass = conclusion?.class ?? 'unknown';
  const layer = conclusion?.layer ?? null;
  const alerts = [...record.alerts].sort(byTime((alert) => alert.startsAt));
  const actions = [...record.actions].sort(byTime((run) => run.requestedAt));
  const seeds = seedPostmortem({ record, times, durations, diagnosis, layer, incidentClass });
  const summaryEdit = edits.summary?.trim();
  const summary: PostmortemSummary = summaryEdit
    ? { text: summaryEdit, source: 'edited' }
    : {
        text: seededSummary({ incident, times, durations, alerts, diagnosis, actions, incidentClass }),
        source: 'seeded',
      };
  return {
    incident,
    title: `${incidentRef(incident)}: ${incident.title}`,
    summary,
    incidentClass,
    layer,
    hypothesis: conclusion?.hypothesis ?? null,
    times,
    durations,
    impact: record.impact,
    alerts,
    commonLabels: commonLabelsOf(alerts),
    diagnosis,
    changes: [...record.changes].sort(byTime((change) => change.at)),
    actions,
    timeline: [...record.timeline].sort(byTime((entry) => entry.at)),
    wentWell: listOf(edits.wentWell, seeds.wentWell),
    wentWrong: listOf(edits.wentWrong, seeds.wentWrong),
    gotLucky: listOf(edits.gotLucky, seeds.gotLucky),
    actionItems: actionItemsOf(edits.actionItems, seeds.actionItems),
    generatedAt: options.generatedAt ?? null,
  };
}

/**
 * The draft with a model-written summary in place of the seeded one. A responder's edit always
 * wins, so an edited summary is kept. The text is untrusted: it is cut here and escaped when
 * rendered.
 */
export function withModelSummary(draft: PostmortemDraft, text: string): PostmortemDraft {
  const summary = text.trim();
  if (draft.summary.source === 'edited' || summary === '') return draft;
  return { ...draft, summary: { text: clip(summary, MAX_MODEL_SUMMARY), source: 'model' } };
}

/**
 * The editable fields as a Slack modal should show them: the current text of each, seeded or
 * edited, lists one item per line. Pass a submission through `changedEdits` before storing it.
 */
export function editableText(draft: PostmortemDraft): Required<PostmortemEdits> {
  const lines = (list: PostmortemList) => list.items.map((item) => `- ${item}`).join('\n');
  return {
    summary: draft.summary.text,
    wentWell: lines(draft.wentWell),
    wentWrong: lines(draft.wentWrong),
    gotLucky: lines(draft.gotLucky),
    actionItems: draft.actionItems.items
      .map((item) => `- [${item.done ? 'x' : ' '}] ${item.text}`)
      .join('\n'),
  };
}

/**
 * The fields of a submitted modal that a responder actually changed. Fields submitted as shown
 * are left out, so they stay seeded and keep following the record when the draft is regenerated.
 */
export function changedEdits(draft: PostmortemDraft, submitted: PostmortemEdits): PostmortemEdits {
  const shown = editableText(draft);
  const normalise = (text: string) =>
    text
      .replace(/\r\n?/g, '\n')
      .replace(/[ \t]+$/gm, '')
      .trim();
  const changed: PostmortemEdits = {};
  for (const key of Object.keys(shown) as Array<keyof PostmortemEdits>) {
    const value = submitted[key];
    if (value !== undefined && normalise(value) !== normalise(shown[key])) changed[key] = value;
  }
  return changed;
}

// ---- Markdown ----

const STATUS_TEXT: Record<ActionRun['status'], string> = {
  previewed: 'previewed only',
  awaiting_approval: 'waiting for approval',
  executing: 'executing',
  verifying: 'executed; recovery being checked',
  recovered: 'recovered',
  not_recovered: 'did not recover',
  unverified: 'executed; not verified',
  failed: 'failed',
  rejected: 'rejected',
  cancelled: 'cancelled',
};

const SLACK_USER = /^[UW][A-Z0-9]+$/;

function person(userId: string): string {
  return SLACK_USER.test(userId) ? `@${userId}` : markdownInline(userId, 50);
}

/** Who an actor ref (`slack:U…`, `alertmanager:<receiver>`, `api`, `system`) names, for Markdown. */
function actorName(ref: string): string {
  if (ref.startsWith('slack:')) return person(ref.slice('slack:'.length));
  if (ref.startsWith('alertmanager:')) {
    return `Alertmanager (${markdownInline(ref.slice('alertmanager:'.length), 60)})`;
  }
  if (ref === 'system') return 'aisre';
  return ref === 'api' ? 'the API' : markdownInline(ref, 60);
}

function at(date: Date | null): string {
  return date ? formatUtc(date) : '—';
}

function elapsed(seconds: number | null): string {
  return seconds === null ? '—' : formatElapsed(seconds);
}

function table(header: readonly string[], rows: readonly string[][]): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ];
}

/** A value for one line: strings as they are, anything else as compact JSON. */
function valueText(value: unknown): string {
  if (value === null || value === undefined) return 'none';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function paramsText(params: Record<string, unknown>): string {
  const safe = redactBody(params) as Record<string, unknown>;
  const pairs = Object.entries(safe).map(([key, value]) => `${key}=${valueText(value)}`);
  return pairs.length > 0 ? markdownInline(pairs.join(', '), 500) : 'none';
}

function number(value: number, digits: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function header(draft: PostmortemDraft): string[] {
  const when = draft.generatedAt ? ` on ${formatUtc(draft.generatedAt)}` : '';
  return [
    `# ${markdownInline(draft.title, 200)}`,
    '',
    `_Draft written by aisre from the incident record${when}. It is blameless: it describes systems, signals and decisions, not people's faults. Responders can edit the summary, the lessons and the action items from Slack; regenerating the draft keeps their edits._`,
    '',
    '## Summary',
    '',
    draft.summary.source === 'edited'
      ? responderMarkdown(draft.summary.text)
      : markdownBlock(draft.summary.text),
    ...(draft.summary.source === 'model'
      ? ['', '_Written by a language model from the record; check it against the sections below._']
      : []),
    '',
    '## Severity and incident class',
    '',
    `- **Severity:** ${draft.incident.severity}`,
    `- **Incident class:** ${POSTMORTEM_CLASS_LABELS[draft.incidentClass]}`,
    `- **Layer:** ${draft.layer ? draft.layer.replace('_', ' ') : 'not determined'}`,
    `- **Service:** ${draft.incident.service ? markdownInline(draft.incident.service, 100) : 'not recorded'}`,
    `- **Status:** ${draft.incident.status}`,
    '',
  ];
}

function impactSection(draft: PostmortemDraft): string[] {
  const { times, durations, incident, alerts } = draft;
  const lines = [
    '## Impact',
    '',
    '### Key times',
    '',
    ...table(
      ['Moment', 'Time (UTC)'],
      [
        [
          times.startedBy === 'alert' ? 'Started (first alert fired)' : 'Started (declared; no alert fired)',
          at(times.started),
        ],
        [
          times.startedBy === 'alert'
            ? 'Detected (aisre opened the incident)'
            : 'Detected (declared by hand)',
          at(times.detected),
        ],
        ['Acknowledged', at(times.acknowledged)],
        ['Diagnosed (diagnosis concluded)', at(times.diagnosed)],
        ['Mitigated', at(times.mitigated)],
        [incident.status === 'cancelled' ? 'Cancelled' : 'Resolved', at(times.resolved)],
      ],
    ),
    '',
    '### Durations',
    '',
    ...table(
      ['Measure', 'From → to', 'Duration'],
      [
        ['Time to detect', 'started → detected', elapsed(durations.toDetect)],
        ['Time to acknowledge', 'detected → acknowledged', elapsed(durations.toAcknowledge)],
        ['Time to diagnose', 'detected → diagnosed', elapsed(durations.toDiagnose)],
        ['Time to mitigate', 'started → mitigated', elapsed(durations.toMitigate)],
        ['Time to resolve', 'started → resolved', elapsed(durations.toResolve)],
      ],
    ),
    '',
    '### Alerts involved',
    '',
  ];
  if (alerts.length === 0) {
    lines.push('None: the incident was declared by hand.');
  } else {
    const counts = new Map<string, number>();
    for (const alert of alerts) counts.set(alert.alertname, (counts.get(alert.alertname) ?? 0) + 1);
    const firing = alerts.filter((alert) => alert.status === 'firing').length;
    const names = [...counts].map(([name, count]) => `${markdownInline(name, 100)} ×${count}`);
    const plural = alerts.length === 1 ? '' : 's';
    lines.push(
      `${alerts.length} alert${plural} (${firing} still firing, ${alerts.length - firing} resolved): ${names.join(', ')}.`,
    );
  }
  if (incident.truncatedAlerts > 0) {
    lines.push(
      '',
      `Alertmanager left ${incident.truncatedAlerts} more alerts out of its notification; they are not in this record.`,
    );
  }
  lines.push('', '### Quality and cost', '');
  const impact = draft.impact;
  if (!impact || (!impact.errorBudget && impact.costUsd === undefined && impact.tokens === undefined)) {
    lines.push(
      'No figures: Prometheus was not configured, could not be reached, or had no data for the incident window.',
    );
  } else {
    const window = `${formatUtc(impact.window.from)} to ${formatUtc(impact.window.to)}`;
    const budget = impact.errorBudget;
    if (budget) {
      const share =
        budget.shareBelowSlo === null
          ? ''
          : `; it was below the SLO for ${Math.round(budget.shareBelowSlo * 100)}% of the window`;
      const burn =
        budget.slo < 1
          ? `; failures ran at ${number((1 - budget.averagePassRate) / (1 - budget.slo), 1)}× the rate the SLO allows`
          : '';
      lines.push(
        `- **Quality error budget:** the eval pass rate averaged ${number(budget.averagePassRate, 2)} against an SLO of ${number(budget.slo, 2)}${share}${burn}.`,
      );
    } else {
      lines.push('- **Quality error budget:** no eval pass rate data.');
    }
    const cost = impact.costUsd !== undefined ? `USD ${number(impact.costUsd, 2)}` : 'no cost data';
    const tokens = impact.tokens !== undefined ? `, ${number(impact.tokens, 0)} tokens` : '';
    lines.push(`- **Cost burned:** ${cost}${tokens}.`, `- **Window:** ${window}.`);
  }
  lines.push('');
  return lines;
}

function labelsText(labels: Record<string, string>, leave: Record<string, string>): string {
  const pairs = Object.keys(labels)
    .filter((key) => key !== 'alertname' && leave[key] !== labels[key])
    .sort()
    .map((key) => `${key}=${labels[key]}`);
  return pairs.length > 0 ? markdownInline(pairs.join(', '), 300) : '—';
}

function detectionSection(draft: PostmortemDraft): string[] {
  const { incident, alerts, times, durations } = draft;
  const lines = ['## Detection', ''];
  if (alerts.length === 0) {
    lines.push(
      `No alert fired. The incident was declared by hand (${incident.source === 'api' ? 'through the API' : 'in Slack'}) at ${formatUtc(incident.createdAt)}.`,
      '',
    );
    return lines;
  }
  const receiver = incident.receiver ? ` (receiver ${markdownInline(incident.receiver, 60)})` : '';
  lines.push(
    `Alertmanager${receiver} notified aisre, which opened ${incidentRef(incident)} at ${formatUtc(times.detected)}, ${elapsed(durations.toDetect)} after the first alert started.`,
    '',
  );
  const common = draft.commonLabels;
  if (Object.keys(common).some((key) => key !== 'alertname')) {
    lines.push(`Labels every alert shares: ${labelsText(common, {})}.`, '');
  }
  lines.push(
    ...table(
      ['Alert', 'Labels of note', 'Summary', 'Started (UTC)', 'Status'],
      alerts.map((alert) => {
        const text = alert.annotations.summary ?? alert.annotations.description;
        const source = alert.generatorUrl ? ` ${markdownLink(alert.generatorUrl, 'source')}` : '';
        const status =
          alert.status === 'resolved' ? `resolved ${alert.endsAt ? at(alert.endsAt) : ''}`.trim() : 'firing';
        return [
          markdownInline(alert.alertname, 100),
          labelsText(alert.labels, common),
          `${text ? markdownInline(text, 300) : '—'}${source}`,
          at(alert.startsAt),
          status,
        ];
      }),
    ),
    '',
  );
  return lines;
}

function checkLines(result: CheckResult | null, title: string): string[] {
  if (!result) return [`- **not run** · ${markdownInline(title, 150)}`];
  const lines = [
    `- **${result.status}** · ${markdownInline(title, 150)}: ${markdownInline(result.summary, 500)}`,
  ];
  for (const item of result.evidence.slice(0, 20)) {
    lines.push(`  - ${markdownInline(item.label, 80)}: ${markdownInline(item.value, 300)}`);
  }
  for (const item of result.links.slice(0, 5)) lines.push(`  - ${markdownLink(item.url, item.label)}`);
  return lines;
}

function stepLines(step: PostmortemStep): string[] {
  const kind = step.conclusion ? ' (conclusion)' : '';
  const lines = [
    `### Step ${step.seq} · ${markdownInline(step.title, 150)}${kind}`,
    '',
    `_Reached at ${formatUtc(step.startedAt)}._`,
    '',
  ];
  for (const check of step.checks) lines.push(...checkLines(check.result, check.title));
  if (step.question) lines.push(`- **Question:** ${markdownInline(step.question, 500)}`);
  const next = step.next ? ` → **${markdownInline(step.next.title, 150)}**` : '';
  const by = step.answeredBy ? ` by ${person(step.answeredBy)}` : '';
  if (step.status === 'overridden') {
    lines.push(`- **Overridden**${by}${next}`);
  } else if (step.answer !== null) {
    lines.push(`- **Answered** “${markdownInline(step.answer, 100)}”${by}${next}`);
  } else if (step.outcome !== null) {
    lines.push(`- **Outcome:** ${markdownInline(step.outcome, 300)}${next}`);
  } else if (step.status === 'asking') {
    lines.push('- **Waiting** for an answer when the draft was made.');
  } else if (step.status === 'checking') {
    lines.push('- **Checking** when the draft was made.');
  }
  if (lines.at(-1) === '') lines.pop();
  lines.push('');
  return lines;
}

function diagnosisSection(draft: PostmortemDraft): string[] {
  const lines = ['## Diagnosis path', ''];
  const diagnosis = draft.diagnosis;
  if (!diagnosis) return [...lines, 'No diagnosis was run.', ''];
  const end = diagnosis.concludedAt
    ? `; it concluded at ${formatUtc(diagnosis.concludedAt)}`
    : `; it is ${diagnosis.status === 'waiting' ? 'waiting for an answer' : diagnosis.status}`;
  lines.push(
    `Runbook “${markdownInline(diagnosis.runbookTitle, 150)}” (${markdownInline(`${diagnosis.runbookId}@${diagnosis.runbookVersion}`, 100)}), started by ${diagnosis.startedBy === 'system' ? 'aisre automatically' : actorName(diagnosis.startedBy)} at ${formatUtc(diagnosis.startedAt)}${end}.`,
    '',
  );
  for (const step of diagnosis.steps) lines.push(...stepLines(step));
  return lines;
}

function rootCauseSection(draft: PostmortemDraft): string[] {
  const lines = ['## Root cause layer and hypothesis', ''];
  const conclusion = draft.diagnosis?.conclusion;
  if (!conclusion) {
    const why = draft.diagnosis ? 'the diagnosis did not conclude' : 'no diagnosis was run';
    return [...lines, `Not determined: ${why}. _To complete:_ name the layer that failed and why.`, ''];
  }
  return [
    ...lines,
    `- **Layer:** ${conclusion.layer.replace('_', ' ')}`,
    `- **Incident class:** ${POSTMORTEM_CLASS_LABELS[conclusion.class]}`,
    `- **Conclusion:** ${markdownInline(conclusion.title, 150)}`,
    `- **Hypothesis:** ${markdownInline(conclusion.hypothesis, 1000)}`,
    '',
    "_The hypothesis is the runbook's for this conclusion; confirm it against the evidence above._",
    '',
  ];
}

function relativeToStart(change: ChangeEvent, started: Date): string {
  const seconds = Math.round((started.getTime() - change.at.getTime()) / 1000);
  return seconds >= 0 ? `${formatElapsed(seconds)} before` : `${formatElapsed(-seconds)} after`;
}

function versions(change: ChangeEvent): string {
  if (change.fromVersion && change.toVersion) return `${change.fromVersion} → ${change.toVersion}`;
  if (change.toVersion) return `now ${change.toVersion}`;
  return change.fromVersion ? `was ${change.fromVersion}` : '—';
}

function changesSection(draft: PostmortemDraft): string[] {
  const lines = ['## Changes in the window', ''];
  if (draft.changes.length === 0) {
    return [
      ...lines,
      'No prompt, model, embedding, index, config or code change was recorded in the window.',
      '',
    ];
  }
  lines.push(
    ...table(
      ['Time (UTC)', 'Relative to start', 'Kind', 'Service', 'Version', 'Author', 'Summary'],
      draft.changes.map((change) => [
        at(change.at),
        relativeToStart(change, draft.times.started),
        CHANGE_KIND_LABELS[change.kind],
        markdownInline(change.service, 100),
        markdownInline(versions(change), 150),
        change.author ? markdownInline(change.author, 100) : '—',
        `${change.summary ? markdownInline(change.summary, 300) : '—'}${change.link ? ` ${markdownLink(change.link, 'link')}` : ''}`,
      ]),
    ),
    '',
  );
  return lines;
}

function verifiedAt(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? markdownInline(iso, 40) : formatUtc(date);
}

interface RunContext {
  runs: ReadonlyMap<number, ActionRun>;
  /** Each undone run's undo, by the undone run's id. */
  undos: ReadonlyMap<number, ActionRun>;
  /** Who rejected or cancelled a run: the run itself does not record it, its timeline entry does. */
  closedBy: ReadonlyMap<number, TimelineEntry>;
}

function runContext(draft: PostmortemDraft): RunContext {
  const undos = new Map<number, ActionRun>();
  for (const run of draft.actions) if (run.kind === 'undo' && run.undoOf !== null) undos.set(run.undoOf, run);
  const closedBy = new Map<number, TimelineEntry>();
  for (const entry of draft.timeline) {
    const closing = entry.kind === 'action.rejected' || entry.kind === 'action.cancelled';
    if (closing && typeof entry.data.runId === 'number') closedBy.set(entry.data.runId, entry);
  }
  return { runs: new Map(draft.actions.map((run) => [run.id, run])), undos, closedBy };
}

function byWhom(verb: string, actor: string, when: Date | null): string {
  return `${verb} by ${actorName(actor)}${when ? ` at ${formatUtc(when)}` : ''}`;
}

function runLines(run: ActionRun, context: RunContext): string[] {
  const title = run.kind === 'undo' ? `Undo of ${run.actionId}` : run.actionId;
  const lines = [`### A-${run.id} · ${markdownInline(title, 100)} · ${STATUS_TEXT[run.status]}`, ''];
  const original = run.undoOf === null ? undefined : context.runs.get(run.undoOf);
  if (run.undoOf !== null) {
    lines.push(
      `- **Undoes:** A-${run.undoOf}${original ? ` (${markdownInline(original.actionId, 100)})` : ''}`,
    );
  }
  lines.push(`- **Parameters:** ${paramsText(run.params)} (${run.risk} risk)`);
  const who = [byWhom('requested', run.requestedBy, run.requestedAt)];
  if (run.approvedBy) who.push(byWhom('approved', run.approvedBy, run.approvedAt));
  if (run.executedBy) who.push(byWhom('executed', run.executedBy, run.executedAt));
  const closed = context.closedBy.get(run.id);
  if (closed) who.push(byWhom(run.status, closed.actor, closed.at));
  lines.push(`- **Who:** ${who.join('; ')}`);
  // Without an outcome, the dry run shows what the run would have done (or tried to).
  const result = run.outcome ?? run.preview;
  if (result) {
    lines.push(`- **${run.outcome ? 'Result' : 'Preview'}:** ${markdownInline(result.summary, 500)}`);
    for (const change of result.changes) {
      const from = markdownInline(valueText(redactBody(change.from)), 200);
      const to = markdownInline(valueText(redactBody(change.to)), 200);
      lines.push(`  - ${markdownInline(change.target, 150)}: ${from} → ${to}`);
    }
  }
  const check = run.verification;
  if (check) {
    lines.push(
      `- **Verification:** ${check.status.replace('_', ' ')}: ${markdownInline(check.summary, 300)} (${verifiedAt(check.at)})`,
    );
  }
  if (run.error) lines.push(`- **Error:** ${markdownInline(run.error, 600)}`);
  const undo = context.undos.get(run.id);
  if (undo) lines.push(`- **Undone by:** A-${undo.id} (${STATUS_TEXT[undo.status]})`);
  lines.push('');
  return lines;
}

function actionsSection(draft: PostmortemDraft): string[] {
  const lines = ['## Actions taken', ''];
  const shown = draft.actions.filter((run) => run.status !== 'previewed');
  const previewed = draft.actions.filter((run) => run.status === 'previewed');
  if (shown.length === 0) lines.push('No runbook action was run through aisre.', '');
  const context = runContext(draft);
  for (const run of shown) lines.push(...runLines(run, context));
  if (previewed.length > 0) {
    const names = previewed.map((run) => markdownInline(describeRun(run), 120));
    lines.push(`Previewed but not executed: ${names.join(', ')}.`, '');
  }
  return lines;
}

function timelineSection(draft: PostmortemDraft): string[] {
  // A long timeline has thousands of entries but a handful of actors.
  const actors = new Map<string, string>();
  const actor = (ref: string) => actors.get(ref) ?? actors.set(ref, actorName(ref)).get(ref)!;
  const rows = draft.timeline.map((entry: TimelineEntry) => [
    formatUtc(entry.at),
    actor(entry.actor),
    markdownInlineKeepingMentions(entry.summary, 600),
  ]);
  return ['## Full timeline', '', ...table(['Time (UTC)', 'Actor', 'Event'], rows), ''];
}

const TO_COMPLETE =
  '_To complete:_ aisre seeded this from the record; confirm it, correct it and add what the record cannot show.';

function listSection(heading: string, list: PostmortemList, empty: string): string[] {
  const lines = [heading, ''];
  if (list.source === 'seeded') lines.push(TO_COMPLETE, '');
  if (list.items.length === 0) lines.push(empty);
  for (const item of list.items) {
    lines.push(`- ${list.source === 'edited' ? responderMarkdown(item) : markdownInline(item, 1000)}`);
  }
  lines.push('');
  return lines;
}

function lessonsSection(draft: PostmortemDraft): string[] {
  return [
    '## Lessons',
    '',
    ...listSection('### What went well', draft.wentWell, '_Nothing seeded._'),
    ...listSection('### What went wrong', draft.wentWrong, '_Nothing seeded._'),
    ...listSection('### Where we got lucky', draft.gotLucky, '_Nothing seeded._'),
  ];
}

function actionItemsSection(draft: PostmortemDraft): string[] {
  const { actionItems } = draft;
  const lines = ['## Action items', ''];
  if (actionItems.source === 'seeded') {
    lines.push(
      '_To complete:_ suggested from the layer, the class and what failed; keep what applies, give each an owner and a due date.',
      '',
    );
  }
  for (const item of actionItems.items) {
    const text =
      actionItems.source === 'edited' ? responderMarkdown(item.text) : markdownInline(item.text, 1000);
    lines.push(`- [${item.done ? 'x' : ' '}] ${text}`);
  }
  return lines;
}

/** The draft as one Markdown document, every untrusted string escaped. */
export function renderPostmortemMarkdown(draft: PostmortemDraft): string {
  return [
    ...header(draft),
    ...impactSection(draft),
    ...detectionSection(draft),
    ...diagnosisSection(draft),
    ...rootCauseSection(draft),
    ...changesSection(draft),
    ...actionsSection(draft),
    ...timelineSection(draft),
    ...lessonsSection(draft),
    ...actionItemsSection(draft),
  ]
    .join('\n')
    .concat('\n');
}
