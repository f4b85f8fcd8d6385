import { describe, expect, it } from 'vitest';
import type { PostmortemVersion } from '../../../../src/postmortems/ports.js';
import { LIMITS, MESSAGE_JSON_BUDGET } from '../../../../src/slack/blocks/limits.js';
import {
  POSTMORTEM_IDS,
  postmortemEditModal,
  postmortemMessage,
} from '../../../../src/slack/blocks/postmortem.js';
import { renderMessageAsText } from '../../../../src/slack/blocks/text-render.js';
import { incidentFixture } from '../../../support/domain-fixtures.js';

function versionFixture(overrides: Partial<PostmortemVersion> = {}): PostmortemVersion {
  return {
    incidentId: 42,
    version: 2,
    reason: 'edited',
    createdBy: 'slack:U0BOB',
    createdAt: new Date('2026-11-23T10:00:00Z'),
    title: 'INC-42: Answers cite the wrong documents',
    summary: 'Retrieval failed after the embedding model changed.',
    summarySource: 'edited',
    markdown: '# INC-42',
    edits: { summary: 'Retrieval failed after the embedding model changed.' },
    ...overrides,
  };
}

describe('postmortemMessage', () => {
  it('shows the title, summary, version and where to read it all, with Edit and Redraft', () => {
    const message = postmortemMessage(
      incidentFixture({ id: 42 }),
      versionFixture(),
      '/api/incidents/42/postmortem.md',
    );
    const text = renderMessageAsText(message);
    expect(message.text).toBe('Postmortem draft v2 for INC-42: INC-42: Answers cite the wrong documents');
    expect(text).toContain('Retrieval failed after the embedding model changed.');
    expect(text).toContain('Version 2, redrafted with edits');
    expect(text).toContain('GET /api/incidents/42/postmortem.md');
    const actions = message.blocks.find((block) => block.type === 'actions');
    expect(
      actions?.type === 'actions' && actions.elements.map((e) => [e.action_id, 'value' in e ? e.value : '']),
    ).toEqual([
      [POSTMORTEM_IDS.edit, '42'],
      [POSTMORTEM_IDS.redraft, '42'],
    ]);
  });

  it('escapes a hostile title and summary, and stays within limits however long they are', () => {
    const message = postmortemMessage(
      incidentFixture({ id: 42 }),
      versionFixture({
        title: '<!channel> x'.repeat(100),
        summary: '<@U0EVIL> *boom* '.repeat(1000),
        summarySource: 'model',
      }),
      '/api/incidents/42/postmortem.md',
    );
    const json = JSON.stringify(message.blocks);
    expect(json).not.toContain('<!channel>');
    expect(json).not.toContain('<@U0EVIL>');
    expect(json.length).toBeLessThan(MESSAGE_JSON_BUDGET);
    expect(renderMessageAsText(message)).toContain('summary written by a model');
  });
});

describe('postmortemEditModal', () => {
  it('has one optional multiline field per editable part, prefilled, within Slack limits', () => {
    const modal = postmortemEditModal(42, {
      summary: 'S',
      wentWell: '- a',
      wentWrong: '- b',
      gotLucky: '- c',
      actionItems: 'x'.repeat(10_000),
    });
    expect(modal.callback_id).toBe(POSTMORTEM_IDS.view);
    expect(JSON.parse(modal.private_metadata ?? '')).toEqual({ incidentId: 42 });
    expect(modal.title.text.length).toBeLessThanOrEqual(24);
    const inputs = modal.blocks.filter((block) => block.type === 'input');
    expect(inputs.map((block) => block.block_id)).toEqual([
      'summary',
      'wentWell',
      'wentWrong',
      'gotLucky',
      'actionItems',
    ]);
    for (const input of inputs) {
      expect(input.optional).toBe(true);
      const value = input.element.type === 'plain_text_input' ? (input.element.initial_value ?? '') : '';
      expect(value.length).toBeLessThanOrEqual(LIMITS.sectionText);
    }
  });
});
