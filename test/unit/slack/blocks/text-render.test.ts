import { describe, expect, it } from 'vitest';
import type { AlertOccurrence, Incident } from '../../../../src/incidents/incident.js';
import { declareIncidentModal } from '../../../../src/slack/blocks/declare-modal.js';
import { incidentCardMessage } from '../../../../src/slack/blocks/incident-card.js';
import { renderMessageAsText } from '../../../../src/slack/blocks/text-render.js';
import { alertFixture, incidentFixture } from '../../../support/domain-fixtures.js';

function makeIncident(overrides: Partial<Incident> = {}): Incident {
  return incidentFixture({
    id: 7,
    title: 'Embedding service timeouts',
    severity: 'SEV1',
    service: 'embedder',
    groupLabels: { alertname: 'EmbeddingTimeouts' },
    runbookUrl: 'https://runbooks.example.com/embedder?section=timeouts&lang=en',
    generatorUrl: null,
    externalUrl: null,
    commanderId: 'U0ONCALL',
    responderIds: [],
    alertsFiring: 1,
    alertsResolved: 0,
    updatedAt: new Date('2026-11-22T21:05:00Z'),
    ...overrides,
  });
}

function makeAlert(labels: Record<string, string>): AlertOccurrence {
  return alertFixture(1, {
    incidentId: 7,
    alertname: 'EmbeddingTimeouts',
    labels: { alertname: 'EmbeddingTimeouts', ...labels },
  });
}

describe('renderMessageAsText', () => {
  const text = renderMessageAsText(
    incidentCardMessage({
      incident: makeIncident(),
      alerts: [makeAlert({ service: 'embedder', model: '<!channel> & <https://evil|click>' })],
      channelId: 'C0INC7',
    }),
  );

  it('underlines the header', () => {
    const lines = text.split('\n');
    expect(lines[0]).toBe('INC-7 · Embedding service timeouts');
    expect(lines[1]).toMatch(/^═+$/);
    expect(lines[1]).toHaveLength(lines[0]?.length ?? 0);
  });

  it('shows fields as label: value with readable mentions and times', () => {
    expect(text).toContain('Status: 🚨 Triggered');
    expect(text).toContain('Commander: @U0ONCALL');
    expect(text).toContain('Channel: #C0INC7');
    expect(text).toContain('Created: 2026-11-22 21:05 UTC');
  });

  it('shows buttons and the severity select', () => {
    expect(text).toContain(
      '[ Acknowledge ]  [ Start diagnosis ]  [ Change severity: 🔴 SEV1 ▾ ]  [ Resolve ]',
    );
  });

  it('spells out links and decodes escaped text', () => {
    expect(text).toContain('Runbook (https://runbooks.example.com/embedder?section=timeouts&lang=en)');
    expect(text).toContain('model=<!channel> & <https://evil|click>');
  });

  it('renders a modal with its title, inputs and buttons', () => {
    const modal = renderMessageAsText(declareIncidentModal());
    expect(modal).toContain('Declare incident');
    expect(modal).toContain('Severity: [ SEV3 ▾ ]');
    expect(modal).toContain('Service (optional): [ e.g. rag-api ]');
    expect(modal.trimEnd().endsWith('[ Cancel ]  [ Declare ]')).toBe(true);
  });

  it('renders Slack control sequences as a reader sees them', () => {
    const rendered = renderMessageAsText({
      text: 'fallback',
      blocks: [
        { type: 'divider' },
        {
          type: 'context',
          elements: [
            {
              type: 'mrkdwn',
              text: '<!here> <#C1|incidents> <!date^1795381500^{date_num}|2026-11-22> _quiet_',
            },
          ],
        },
      ],
    });
    expect(rendered).toBe(`${'─'.repeat(40)}\n@here #incidents 2026-11-22 quiet`);
  });

  it('falls back to the message text when there are no blocks', () => {
    expect(renderMessageAsText({ text: 'Only &lt;text&gt;', blocks: [] })).toBe('Only <text>');
  });
});
