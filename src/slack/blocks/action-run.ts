import type { ActionRisk } from '../../actions/action-catalog.js';
import type { ActionRun, ActionRunStatus } from '../../actions/action-run.js';
import { describeRun } from '../../actions/action-run.js';
import type { Recommendations } from '../../actions/action-service.js';
import type { ActionChange } from '../../actions/action-type.js';
import { redactBody } from '../../actions/integration-client.js';
import { isStorableId } from '../../storable.js';
import { LIMITS, listWithOverflow } from './limits.js';
import { escapeInline, escapeMrkdwn, truncate, userMention } from './mrkdwn.js';
import {
  type Block,
  type ButtonElement,
  type ConfirmDialog,
  type ModalView,
  mrkdwn,
  plainText,
  type SelectOption,
  type SlackMessage,
} from './types.js';

/** Action ids of action-run messages and of the conclusion's action controls. */
export const ACTION_RUN_IDS = {
  preview: 'action.preview',
  pick: 'action.pick',
  execute: 'action.execute',
  approve: 'action.approve',
  reject: 'action.reject',
  cancel: 'action.cancel',
  undo: 'action.undo',
} as const;

export const ACTION_PARAMS_VIEW = {
  callbackId: 'action.params',
  block: 'params',
  action: 'params',
} as const;

/** An action a responder can pick from the menu. */
export interface ActionCatalogEntry {
  id: string;
  description: string;
  risk: ActionRisk;
}

/** What a recommendation's Preview button carries. */
export interface PreviewButtonValue {
  incident: number;
  session: number;
  index: number;
}

/** What the "pick any action" modal carries to its submission. */
export interface ActionParamsMetadata {
  incidentId: number;
  actionId: string;
}

/** `action_pick:<incidentId>`: the block id of the menu of every action. */
export function actionPickBlockId(incidentId: number): string {
  return `action_pick:${incidentId}`;
}

export function parseActionPickBlockId(blockId: string): number | null {
  const match = /^action_pick:([1-9][0-9]{0,14})$/.exec(blockId);
  const id = match?.[1] ? Number(match[1]) : null;
  return id !== null && isStorableId(id) ? id : null;
}

const STATUS_LINE: Record<ActionRunStatus, string> = {
  previewed: '👀 Previewed: nothing has changed yet',
  awaiting_approval: '✋ Waiting for approval by a second person',
  executing: '⏳ Executing…',
  verifying: '🔁 Executed; checking recovery',
  recovered: '✅ Recovered',
  not_recovered: '❌ Not recovered',
  unverified: '❔ Executed; not verified',
  failed: '💥 Failed',
  rejected: '🚫 Rejected',
  cancelled: '🗑️ Cancelled',
};

/**
 * Where a run stands, in words. An undo puts back the state from before an action, so its
 * verification says whether the checks pass afterwards rather than that something recovered.
 */
function statusLine(run: Pick<ActionRun, 'kind' | 'status'>): string {
  if (run.kind === 'undo' && run.status === 'recovered') return '✅ Undone; the checks pass';
  if (run.kind === 'undo' && run.status === 'not_recovered') return '❌ Undone; the checks fail';
  return STATUS_LINE[run.status];
}

/** One line for the incident card: which action, and where it stands. */
export function actionRunLine(run: ActionRun): string {
  return `\`${escapeInline(describeRun(run), 80)}\` ${statusLine(run)}`;
}

const RISK_LABEL: Record<ActionRisk, string> = { low: 'low risk', high: '⚠️ high risk' };

/** A value for one line: strings as they are, anything else as compact JSON. */
function shown(value: unknown): string {
  if (value === null || value === undefined) return 'none';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Parameters as `key=value` pairs, with LiteLLM keys masked and secret-like fields redacted. */
export function paramsLine(params: Record<string, unknown>): string {
  const safe = redactBody(params) as Record<string, unknown>;
  const pairs = Object.entries(safe).map(([key, value]) => `${key}=${shown(value)}`);
  return pairs.length > 0 ? escapeInline(pairs.join(' · '), 500) : 'no parameters';
}

function changeLines(changes: readonly ActionChange[]): string[] {
  return changes.map(
    (change) =>
      `• ${escapeInline(change.target, 150)}: \`${escapeInline(shown(redactBody(change.from)), 200)}\` → \`${escapeInline(shown(redactBody(change.to)), 200)}\``,
  );
}

function actorMention(ref: string | null): string {
  if (!ref) return 'nobody';
  if (ref.startsWith('slack:')) return userMention(ref.slice('slack:'.length));
  return ref === 'system' ? 'aisre (auto)' : escapeInline(ref, 50);
}

function confirm(title: string, text: string, action: string, danger = false): ConfirmDialog {
  return {
    title: plainText(title),
    text: mrkdwn(text),
    confirm: plainText(action),
    deny: plainText('Not now'),
    ...(danger ? { style: 'danger' as const } : {}),
  };
}

function button(
  actionId: string,
  text: string,
  runId: number,
  extra: Partial<ButtonElement> = {},
): ButtonElement {
  return { type: 'button', action_id: actionId, text: plainText(text), value: String(runId), ...extra };
}

function buttonsFor(run: ActionRun): ButtonElement[] {
  const name = escapeMrkdwn(describeRun(run));
  switch (run.status) {
    case 'previewed':
      return [
        button(ACTION_RUN_IDS.execute, run.risk === 'high' ? 'Request approval' : 'Execute', run.id, {
          style: 'primary',
          confirm:
            run.risk === 'high'
              ? confirm(
                  'Request approval?',
                  `${name} is high risk: a second person must approve it.`,
                  'Request',
                )
              : confirm('Execute this action?', `${name} will run now, as previewed.`, 'Execute'),
        }),
        button(ACTION_RUN_IDS.cancel, 'Cancel', run.id),
      ];
    case 'awaiting_approval':
      return [
        button(ACTION_RUN_IDS.approve, 'Approve and execute', run.id, {
          style: 'primary',
          confirm: confirm('Approve this action?', `${name} will run now, as previewed.`, 'Approve'),
        }),
        button(ACTION_RUN_IDS.reject, 'Reject', run.id, { style: 'danger' }),
      ];
    case 'verifying':
    case 'recovered':
    case 'not_recovered':
    case 'unverified':
      return run.kind === 'run'
        ? [
            button(ACTION_RUN_IDS.undo, 'Undo', run.id, {
              confirm: confirm(
                'Prepare the undo?',
                `This previews restoring the state recorded before ${name}; you execute it next.`,
                'Preview undo',
              ),
            }),
          ]
        : [];
    default:
      return [];
  }
}

/**
 * The message of one action run, edited in place as it moves on: what it does, the dry run's
 * changes (from → to), who asked, approved and executed it, the result, the verification, and the
 * buttons its state allows.
 */
export function actionRunMessage(run: ActionRun): SlackMessage {
  const icon = run.kind === 'undo' ? '↩️' : '⚙️';
  const blocks: Block[] = [
    {
      type: 'section',
      text: mrkdwn(
        `${icon} *${escapeMrkdwn(describeRun(run))}* · ${RISK_LABEL[run.risk]}\n${paramsLine(run.params)}`,
      ),
    },
  ];
  const result = run.outcome ?? run.preview;
  if (result) {
    const heading = run.outcome ? '*Result*' : '*Dry run*';
    const lines = listWithOverflow(changeLines(result.changes), 2000, 10);
    blocks.push({
      type: 'section',
      text: mrkdwn(
        `${heading}: ${escapeMrkdwn(truncate(result.summary, 500))}${lines.length > 0 ? `\n${lines.join('\n')}` : ''}`,
      ),
    });
  }
  const status = [statusLine(run)];
  if (run.error) status.push(escapeInline(run.error, 500));
  if (run.verification) status.push(escapeInline(run.verification.summary, 200));
  if (run.status === 'verifying' && run.verifyAt) {
    const epoch = Math.floor(run.verifyAt.getTime() / 1000);
    status.push(`checks run again <!date^${epoch}^{time}|${run.verifyAt.toISOString()}>`);
  }
  blocks.push({ type: 'section', text: mrkdwn(status.join(' · ')) });
  if (run.verification) {
    const checks = Object.entries(run.verification.results).map(
      ([id, check]) =>
        `${check.status === 'pass' ? '✅' : '❌'} ${escapeInline(id, 60)}: ${escapeInline(check.summary, 200)}`,
    );
    if (checks.length > 0)
      blocks.push({ type: 'context', elements: [mrkdwn(listWithOverflow(checks, 2500, 10).join('\n'))] });
  }
  const people = [`asked by ${actorMention(run.requestedBy)}`];
  if (run.approvedBy) people.push(`approved by ${actorMention(run.approvedBy)}`);
  if (run.executedBy) people.push(`executed by ${actorMention(run.executedBy)}`);
  blocks.push({ type: 'context', elements: [mrkdwn(people.join(' · '))] });
  const buttons = buttonsFor(run);
  if (buttons.length > 0)
    blocks.push({ type: 'actions', block_id: `action_run:${run.id}`, elements: buttons });
  return { text: `${describeRun(run)}: ${statusLine(run)}`, blocks };
}

/**
 * The conclusion's recommended actions, each with its filled-in parameters and a Preview button,
 * then a menu of every action for when the runbook did not foresee the fix.
 */
export function recommendationBlocks(
  incidentId: number,
  recommendations: Recommendations | undefined,
  catalog: readonly ActionCatalogEntry[],
  interactive: boolean,
): Block[] {
  const blocks: Block[] = [];
  for (const item of (recommendations?.items ?? []).slice(0, 10)) {
    const risk = item.risk ? ` · ${RISK_LABEL[item.risk]}` : '';
    const detail = item.params
      ? paramsLine(item.params)
      : `⚠️ ${escapeInline(item.error ?? 'cannot be prepared', 400)}`;
    const why = item.why ? `\n_${escapeInline(item.why, 200)}_` : '';
    const auto = item.auto ? ' · runs automatically' : '';
    blocks.push({
      type: 'section',
      text: mrkdwn(`*${escapeInline(item.actionId, 60)}*${risk}${auto}\n${detail}${why}`),
      ...(interactive && item.params && recommendations
        ? {
            accessory: {
              type: 'button' as const,
              action_id: ACTION_RUN_IDS.preview,
              text: plainText('Preview'),
              value: JSON.stringify({
                incident: incidentId,
                session: recommendations.sessionId,
                index: item.index,
              } satisfies PreviewButtonValue),
            },
          }
        : {}),
    });
  }
  if (interactive && catalog.length > 0) {
    blocks.push({
      type: 'actions',
      block_id: actionPickBlockId(incidentId),
      elements: [
        {
          type: 'static_select',
          action_id: ACTION_RUN_IDS.pick,
          placeholder: plainText('Another action…'),
          options: catalog.slice(0, 100).map(
            (action): SelectOption => ({
              text: plainText(truncate(action.id, 75)),
              value: action.id,
              description: plainText(truncate(`${action.risk} risk · ${action.description}`, 75)),
            }),
          ),
        },
      ],
    });
  }
  return blocks;
}

/** The modal for an action picked from the menu: its parameters as JSON, checked on submit. */
export function actionParamsModal(options: {
  incidentId: number;
  action: ActionCatalogEntry;
  initialParams?: Record<string, unknown>;
}): ModalView {
  const metadata: ActionParamsMetadata = { incidentId: options.incidentId, actionId: options.action.id };
  return {
    type: 'modal',
    callback_id: ACTION_PARAMS_VIEW.callbackId,
    private_metadata: JSON.stringify(metadata),
    title: plainText('Preview an action'),
    submit: plainText('Preview'),
    close: plainText('Cancel'),
    blocks: [
      {
        type: 'section',
        text: mrkdwn(
          `*${escapeInline(options.action.id, 60)}* · ${RISK_LABEL[options.action.risk]}\n${escapeMrkdwn(truncate(options.action.description, 300))}`,
        ),
      },
      {
        type: 'input',
        block_id: ACTION_PARAMS_VIEW.block,
        label: plainText('Parameters (JSON)'),
        hint: plainText(
          'Templates such as {{labels.prompt}} are filled in from the alerts. Nothing runs until you execute the preview.',
        ),
        element: {
          type: 'plain_text_input',
          action_id: ACTION_PARAMS_VIEW.action,
          multiline: true,
          max_length: LIMITS.sectionText,
          initial_value: JSON.stringify(options.initialParams ?? {}, null, 2),
        },
      },
    ],
  };
}
