import { describe, expect, it } from 'vitest';
import type { Recommendations } from '../../../../src/actions/action-service.js';
import {
  ACTION_PARAMS_VIEW,
  ACTION_RUN_IDS,
  actionParamsModal,
  actionRunMessage,
  parseActionPickBlockId,
  recommendationBlocks,
} from '../../../../src/slack/blocks/action-run.js';
import { LIMITS, MESSAGE_JSON_BUDGET } from '../../../../src/slack/blocks/limits.js';
import { renderMessageAsText } from '../../../../src/slack/blocks/text-render.js';
import type { ActionsBlock, Block } from '../../../../src/slack/blocks/types.js';
import { actionRunFixture } from '../../../support/domain-fixtures.js';

const AT = new Date('2026-11-23T10:00:00Z');
const runFixture = actionRunFixture;

const buttons = (blocks: Block[]) =>
  blocks
    .filter((block): block is ActionsBlock => block.type === 'actions')
    .flatMap((block) => block.elements.map((element) => element.action_id));

describe('actionRunMessage', () => {
  it('shows the dry run from → to, masks the key, and offers Execute (with a confirmation) and Cancel', () => {
    const message = actionRunMessage(runFixture());
    const text = renderMessageAsText(message);
    expect(text).toContain('gateway.rate_limit (A-7)');
    expect(text).toContain('key sk-…9876 rpm_limit: `1000` → `60`');
    expect(text).toContain('Previewed: nothing has changed yet');
    expect(JSON.stringify(message)).not.toContain('sk-live-agent-key-9876');
    expect(buttons(message.blocks)).toEqual([ACTION_RUN_IDS.execute, ACTION_RUN_IDS.cancel]);
    const execute = (message.blocks.find((block) => block.type === 'actions') as ActionsBlock).elements[0];
    expect(execute).toMatchObject({ value: '7', confirm: { confirm: { text: 'Execute' } } });
  });

  it('asks for approval of high-risk actions, then offers Approve and Reject', () => {
    const previewed = actionRunMessage(runFixture({ risk: 'high' }));
    expect(renderMessageAsText(previewed)).toContain('Request approval');
    const waiting = actionRunMessage(runFixture({ risk: 'high', status: 'awaiting_approval' }));
    expect(buttons(waiting.blocks)).toEqual([ACTION_RUN_IDS.approve, ACTION_RUN_IDS.reject]);
    expect(renderMessageAsText(waiting)).toContain('Waiting for approval by a second person');
  });

  it('shows the result, who did what, the verification and Undo once executed', () => {
    const message = actionRunMessage(
      runFixture({
        status: 'recovered',
        approvedBy: 'slack:U0BOB',
        executedBy: 'slack:U0BOB',
        outcome: {
          summary: 'Set rpm_limit 1000 → 60 on key sk-…9876',
          changes: [{ target: 'key sk-…9876 rpm_limit', from: 1000, to: 60 }],
          previousState: { rpm_limit: 1000 },
        },
        verification: {
          status: 'recovered',
          summary: '1 of 1 checks pass',
          results: {
            eval_pass: {
              status: 'pass',
              value: 0.95,
              summary: 'eval pass rate 0.95 >= 0.9',
              evidence: [],
              links: [],
            },
          },
          at: AT.toISOString(),
        },
      }),
    );
    const text = renderMessageAsText(message);
    expect(text).toContain('Result');
    expect(text).toContain('Recovered · 1 of 1 checks pass');
    expect(text).toContain('eval_pass: eval pass rate 0.95 >= 0.9');
    expect(text).toMatch(/approved by (<@U0BOB>|@U0BOB)/);
    expect(buttons(message.blocks)).toEqual([ACTION_RUN_IDS.undo]);
    expect(
      buttons(actionRunMessage(runFixture({ status: 'recovered', kind: 'undo', undoOf: 6 })).blocks),
    ).toEqual([]);
  });

  it('says whether the checks pass after an undo rather than that it recovered', () => {
    const undo = actionRunMessage(runFixture({ status: 'recovered', kind: 'undo', undoOf: 6 }));
    expect(undo.text).toBe('undo of gateway.rate_limit (A-7): ✅ Undone; the checks pass');
  });

  it('shows why a run failed, escaped, with no buttons', () => {
    const message = actionRunMessage(
      runFixture({ status: 'failed', error: 'litellm answered 500: <!channel> boom', preview: null }),
    );
    const json = JSON.stringify(message);
    expect(json).toContain('&lt;!channel&gt; boom');
    expect(json).not.toContain('<!channel>');
    expect(buttons(message.blocks)).toEqual([]);
  });

  it('escapes parameters filled in from alert labels', () => {
    const message = actionRunMessage(
      runFixture({
        actionId: 'http.webhook',
        params: { webhook: 'reindex', body: { service: '<@U0EVIL> *x*' } },
      }),
    );
    expect(JSON.stringify(message)).not.toContain('<@U0EVIL>');
  });
});

describe('recommendationBlocks', () => {
  const recommendations: Recommendations = {
    sessionId: 2,
    nodeId: 'prompt_bad',
    items: [
      {
        index: 0,
        actionId: 'prompt.rollback',
        description: 'Move the production label back',
        risk: 'low',
        why: 'the prompt changed',
        auto: false,
        params: { prompt: 'rag-answer', label: 'production' },
        error: null,
      },
      {
        index: 1,
        actionId: 'gateway.rate_limit',
        description: 'Lower limits',
        risk: 'low',
        why: null,
        auto: false,
        params: null,
        error: "key: the template's value is empty (is the label set on the alert?)",
      },
    ],
  };
  const catalog = [
    { id: 'gateway.block', description: 'Block a key', risk: 'high' as const },
    { id: 'prompt.rollback', description: 'Roll back a prompt', risk: 'low' as const },
  ];

  it('lists each recommendation with filled-in params and a Preview button, and a menu of every action', () => {
    const blocks = recommendationBlocks(3, recommendations, catalog, true);
    const text = renderMessageAsText({ text: '', blocks });
    expect(text).toContain('prompt=rag-answer · label=production');
    expect(text).toContain("key: the template's value is empty");
    const first = blocks[0];
    expect(first?.type === 'section' && first.accessory).toMatchObject({
      action_id: ACTION_RUN_IDS.preview,
      value: JSON.stringify({ incident: 3, session: 2, index: 0 }),
    });
    expect(blocks[1]?.type === 'section' && blocks[1].accessory).toBeFalsy();
    const menu = blocks.at(-1) as ActionsBlock;
    expect(parseActionPickBlockId(menu.block_id ?? '')).toBe(3);
    expect(menu.elements[0]).toMatchObject({ action_id: ACTION_RUN_IDS.pick });
  });

  it('has no controls when not interactive', () => {
    const blocks = recommendationBlocks(3, recommendations, catalog, false);
    expect(buttons(blocks)).toEqual([]);
    expect(blocks.every((block) => block.type !== 'section' || !block.accessory)).toBe(true);
  });
});

describe('actionParamsModal', () => {
  it('prefills the params as JSON and carries the incident and action', () => {
    const modal = actionParamsModal({
      incidentId: 3,
      action: { id: 'gateway.block', description: 'Block a key', risk: 'high' },
      initialParams: { key: 'sk-x' },
    });
    expect(JSON.parse(modal.private_metadata ?? '')).toEqual({ incidentId: 3, actionId: 'gateway.block' });
    const input = modal.blocks.find((block) => block.type === 'input');
    expect(input).toMatchObject({
      block_id: ACTION_PARAMS_VIEW.block,
      element: { action_id: ACTION_PARAMS_VIEW.action, initial_value: '{\n  "key": "sk-x"\n}' },
    });
    expect(modal.blocks.length).toBeLessThanOrEqual(LIMITS.viewBlocks);
    expect(JSON.stringify(modal.blocks).length).toBeLessThan(MESSAGE_JSON_BUDGET);
  });
});
