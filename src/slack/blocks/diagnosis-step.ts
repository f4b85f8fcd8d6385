import type { Recommendations } from '../../actions/action-service.js';
import type { CheckResult, CheckStatus } from '../../checks/check-type.js';
import type { DiagnosisSession, DiagnosisStep } from '../../diagnosis/diagnosis.js';
import { isConclusion } from '../../diagnosis/runbook-schema.js';
import { isStorableId } from '../../storable.js';
import { type ActionCatalogEntry, recommendationBlocks } from './action-run.js';
import { escapeInline, escapeMrkdwn, link, truncate, userMention } from './mrkdwn.js';
import {
  type Block,
  mrkdwn,
  plainText,
  type SectionBlock,
  type SelectOption,
  type SlackMessage,
} from './types.js';

/** Action ids of diagnosis messages. Answer buttons carry their index: `diagnosis.answer.<i>`. */
export const DIAGNOSIS_ACTION_IDS = {
  answerPrefix: 'diagnosis.answer.',
  override: 'diagnosis.override',
} as const;

/** What an answer button carries, so the click names the exact question it answers. */
export interface AnswerButtonValue {
  session: number;
  seq: number;
  answer: number;
}

/** `diagnosis_override:<sessionId>`: the block id of the override menu. */
export function overrideBlockId(sessionId: number): string {
  return `diagnosis_override:${sessionId}`;
}

export function parseOverrideBlockId(blockId: string): number | null {
  const match = /^diagnosis_override:([1-9][0-9]{0,14})$/.exec(blockId);
  const id = match?.[1] ? Number(match[1]) : null;
  return id !== null && isStorableId(id) ? id : null;
}

const STATUS_EMOJI: Record<CheckStatus, string> = { pass: '✅', fail: '❌', inconclusive: '❔', error: '⚠️' };
const EVIDENCE_SHOWN = 5;
const LINKS_SHOWN = 3;

function checkBlocks(title: string, result: CheckResult | undefined, running: boolean): Block[] {
  if (!result) {
    const state = running ? '⏳' : '➖';
    return [
      {
        type: 'section',
        text: mrkdwn(`${state} *${escapeInline(title, 150)}* ${running ? 'running…' : 'not run'}`),
      },
    ];
  }
  const blocks: Block[] = [
    {
      type: 'section',
      text: mrkdwn(
        `${STATUS_EMOJI[result.status]} *${escapeInline(title, 150)}* · ${result.status}\n${escapeMrkdwn(truncate(result.summary, 500))}`,
      ),
    },
  ];
  const details = [
    ...result.evidence
      .slice(0, EVIDENCE_SHOWN)
      .map((item) => `${escapeInline(item.label, 60)}: ${escapeInline(item.value, 200)}`),
    ...result.links.slice(0, LINKS_SHOWN).map((item) => `🔗 ${link(item.url, item.label)}`),
  ];
  if (details.length > 0) blocks.push({ type: 'context', elements: details.slice(0, 10).map(mrkdwn) });
  return blocks;
}

/**
 * The thread message for one visit of one diagnosis node: each check with its evidence and
 * links as results arrive, then the question (buttons), the move to the next node, or the
 * conclusion with its recommended actions and an override menu.
 */
export function diagnosisStepMessage(view: {
  session: DiagnosisSession;
  step: DiagnosisStep;
  /** The conclusion's actions with their parameters filled in, and every action for the menu. */
  actions?: { recommendations: Recommendations | undefined; catalog: ActionCatalogEntry[] };
}): SlackMessage {
  const { session, step } = view;
  const node = session.runbook.nodes[step.nodeId];
  if (!node) return { text: `Diagnosis step ${step.seq}`, blocks: [] };
  const blocks: Block[] = [
    {
      type: 'section',
      text: mrkdwn(
        `${isConclusion(node) ? '🎯' : '🔎'} *Step ${step.seq} · ${escapeInline(node.title, 150)}*` +
          (node.description ? `\n${escapeMrkdwn(truncate(node.description, 500))}` : ''),
      ),
    },
  ];

  if (isConclusion(node)) {
    const { conclusion } = node;
    const fields = [
      mrkdwn(`*Layer*\n${escapeInline(conclusion.layer.replace('_', ' '), 40)}`),
      mrkdwn(`*Class*\n${escapeInline(conclusion.class.replace('_', ' '), 40)}`),
    ];
    blocks.push({
      type: 'section',
      text: mrkdwn(`*Hypothesis:* ${escapeMrkdwn(truncate(conclusion.hypothesis, 1500))}`),
      fields,
    });
    const current = step.status !== 'overridden' && view.actions?.recommendations?.sessionId === session.id;
    if (conclusion.actions.length > 0 || current) {
      blocks.push({ type: 'section', text: mrkdwn('*Recommended actions*') });
      if (current && view.actions) {
        blocks.push(
          ...recommendationBlocks(
            session.incidentId,
            view.actions.recommendations,
            view.actions.catalog,
            true,
          ),
        );
      } else {
        const lines = conclusion.actions.map(
          (action) =>
            `• \`${escapeInline(action.action, 60)}\`` +
            (action.why ? ` — ${escapeInline(action.why, 200)}` : ''),
        );
        if (lines.length > 0) blocks.push({ type: 'section', text: mrkdwn(lines.join('\n')) });
      }
    }
    if (step.status === 'overridden') {
      blocks.push(moveContext(step, session));
    } else {
      blocks.push(overrideMenu(session));
    }
    return {
      text: `Diagnosis concluded: ${conclusion.layer} layer. ${truncate(conclusion.hypothesis, 200)}`,
      blocks,
    };
  }

  const running = step.status === 'checking';
  for (const check of node.checks)
    blocks.push(...checkBlocks(check.title ?? check.id, step.results[check.id], running));
  if (step.status === 'asking' && node.question && !step.answeredBy) {
    blocks.push({ type: 'section', text: mrkdwn(`🙋 *${escapeMrkdwn(node.question.text)}*`) });
    blocks.push({
      type: 'actions',
      block_id: `diagnosis_question:${session.id}:${step.seq}`,
      elements: node.question.answers.map((answer, index) => ({
        type: 'button' as const,
        action_id: `${DIAGNOSIS_ACTION_IDS.answerPrefix}${index}`,
        text: plainText(truncate(answer.label, 75)),
        value: JSON.stringify({
          session: session.id,
          seq: step.seq,
          answer: index,
        } satisfies AnswerButtonValue),
      })),
    });
  } else if (step.status === 'decided' || step.status === 'overridden') {
    blocks.push(moveContext(step, session));
  }
  const summary = running ? 'running checks' : step.status === 'asking' ? 'waiting for an answer' : 'decided';
  return { text: `Diagnosis step ${step.seq}: ${truncate(node.title, 100)} (${summary})`, blocks };
}

function moveContext(step: DiagnosisStep, session?: DiagnosisSession): Block {
  const next = step.nextNode ? (session?.runbook.nodes[step.nextNode]?.title ?? step.nextNode) : 'elsewhere';
  const who =
    step.answeredBy && /^[UW][A-Z0-9]+$/.test(step.answeredBy) ? ` (${userMention(step.answeredBy)})` : '';
  return {
    type: 'context',
    elements: [
      mrkdwn(`➡️ *${escapeInline(next, 150)}* · ${escapeMrkdwn(truncate(step.outcome ?? '', 300))}${who}`),
    ],
  };
}

function overrideMenu(session: DiagnosisSession): SectionBlock {
  const options: SelectOption[] = Object.entries(session.runbook.nodes)
    .slice(0, 100)
    .map(([id, node]) => ({ text: plainText(truncate(node.title, 75)), value: id }));
  return {
    type: 'section',
    block_id: overrideBlockId(session.id),
    text: mrkdwn('Not this? Send the diagnosis elsewhere:'),
    accessory: {
      type: 'static_select',
      action_id: DIAGNOSIS_ACTION_IDS.override,
      placeholder: plainText('Go to…'),
      options,
    },
  };
}
