import { describe, expect, it } from 'vitest';
import type { Incident } from '../../../../src/incidents/incident.js';
import { buildWeeklyReview, type WeeklyReviewInput } from '../../../../src/postmortems/weekly-review.js';
import { LIMITS, MESSAGE_JSON_BUDGET } from '../../../../src/slack/blocks/limits.js';
import { renderMessageAsText } from '../../../../src/slack/blocks/text-render.js';
import type { SlackMessage } from '../../../../src/slack/blocks/types.js';
import { weeklyReviewMessage } from '../../../../src/slack/blocks/weekly-review.js';
import { actionRunFixture, incidentFixture } from '../../../support/domain-fixtures.js';

const FROM = new Date('2026-11-16T00:00:00Z');
const TO = new Date('2026-11-23T00:00:00Z');
const OPENED = new Date('2026-11-20T10:00:00Z');

function at(seconds: number): Date {
  return new Date(OPENED.getTime() + seconds * 1000);
}

function message(input: Partial<WeeklyReviewInput>): SlackMessage {
  return weeklyReviewMessage(buildWeeklyReview({ from: FROM, to: TO, incidents: [], actions: [], ...input }));
}

function incident(id: number, overrides: Partial<Incident> = {}): Incident {
  return incidentFixture({ id, createdAt: OPENED, ...overrides });
}

/** Every mrkdwn string Slack parses for mentions and links, plus the notification text. */
function mrkdwnTexts(msg: SlackMessage): string[] {
  const texts = [msg.text];
  for (const block of msg.blocks) {
    if (block.type === 'section') {
      for (const object of [...(block.text ? [block.text] : []), ...(block.fields ?? [])])
        texts.push(object.text);
    }
    if (block.type === 'context') texts.push(...block.elements.map((element) => element.text));
  }
  return texts;
}

function expectWithinLimits(msg: SlackMessage): void {
  expect(msg.blocks.length).toBeLessThanOrEqual(LIMITS.messageBlocks);
  expect(JSON.stringify(msg.blocks).length).toBeLessThanOrEqual(MESSAGE_JSON_BUDGET);
  expect(msg.text.length).toBeLessThanOrEqual(LIMITS.messageText);
  for (const block of msg.blocks) {
    if (block.type === 'header') expect(block.text.text.length).toBeLessThanOrEqual(LIMITS.headerText);
    if (block.type === 'context') expect(block.elements.length).toBeLessThanOrEqual(LIMITS.contextElements);
    if (block.type !== 'section') continue;
    expect(block.text?.text.length ?? 0).toBeLessThanOrEqual(LIMITS.sectionText);
    expect(block.fields?.length ?? 0).toBeLessThanOrEqual(10);
    for (const field of block.fields ?? []) expect(field.text.length).toBeLessThanOrEqual(LIMITS.fieldText);
  }
}

describe('weeklyReviewMessage', () => {
  it('says plainly when the window had no incidents', () => {
    const msg = message({});
    expect(msg.text).toBe('No incidents in the last 7 days.');
    expect(renderMessageAsText(msg)).toContain('✅ No incidents in the last 7 days.');
    expect(renderMessageAsText(msg)).toContain('2026-11-16 → 2026-11-23 (UTC)');
  });

  it('shows the counts, the times in words, the actions and the repeat offenders', () => {
    const msg = message({
      incidents: [
        incident(1, {
          service: 'rag-api',
          severity: 'SEV1',
          status: 'resolved',
          acknowledgedAt: at(5 * 60),
          resolvedAt: at(3600 + 5 * 60),
          diagnosis: {
            sessionId: 1,
            runbookId: 'rag',
            status: 'concluded',
            node: 'stale_index',
            nodeTitle: 'Index is stale',
            conclusion: {
              node: 'stale_index',
              title: 'Index is stale',
              layer: 'provider_drift',
              hypothesis: 'The embedding model changed.',
              class: 'model_behaviour',
              actions: [],
            },
          },
        }),
        incident(2, { service: 'rag-api', acknowledgedAt: at(15 * 60) }),
        incident(3, { service: 'router', groupLabels: {}, status: 'cancelled', resolvedAt: at(30) }),
      ],
      actions: [
        actionRunFixture({ id: 1, incidentId: 1, status: 'recovered', executedAt: at(600) }),
        actionRunFixture({ id: 2, incidentId: 2, status: 'not_recovered', executedAt: at(600) }),
        actionRunFixture({ id: 3, incidentId: 2, status: 'rejected' }),
      ],
      diagnosedAt: new Map([[1, at(40 * 60)]]),
    });
    const text = renderMessageAsText(msg);
    expect(msg.text).toBe(
      'Incident review, last 7 days: 3 incidents, 1 open; mean time to resolve 1 h 5 min.',
    );
    expect(text).toBe(
      [
        'Incident review · last 7 days',
        '═════════════════════════════',
        '2026-11-16 → 2026-11-23 (UTC)',
        'Incidents: 3 in all: 1 open, 1 resolved, 1 cancelled',
        'By severity: 🔴 SEV1: 1 🟠 SEV2: 2 🟡 SEV3: 0 🔵 SEV4: 0',
        'By layer: undiagnosed: 2 provider drift: 1',
        'By class: Undiagnosed: 2 Model behaviour: 1',
        '─'.repeat(40),
        // The cancelled incident is counted above but left out of the times.
        'Time to acknowledge: mean 10 min · median 10 min over 2 of 2 incidents',
        'Time to diagnose: mean 40 min · median 40 min over 1 of 2 incidents',
        'Time to mitigate: — no incident got this far',
        'Time to resolve: mean 1 h 5 min · median 1 h 5 min over 1 of 2 incidents',
        '─'.repeat(40),
        '⚙️ Actions',
        '`gateway.rate_limit` · 50% recovered · 2 executed · 1 recovered · 1 not recovered (also 1 rejected)',
        '🔁 Repeat offenders',
        'rag-api (service) · 2 incidents: INC-1, INC-2',
        'RetrievalRecallDrop (alert) · 2 incidents: INC-1, INC-2',
      ].join('\n'),
    );
    expectWithinLimits(msg);
  });

  it('says so when no actions ran and nothing repeated', () => {
    const text = renderMessageAsText(message({ incidents: [incident(1)] }));
    expect(text).toContain('No actions were run.');
    expect(text).toContain('No service or alert had more than one incident.');
  });

  it('escapes service and alert names, which come from alerts', () => {
    const hostile = '<!channel> <https://evil.example|click> & <@U0BOSS>';
    const msg = message({
      incidents: [1, 2].map((id) => incident(id, { service: hostile, groupLabels: { alertname: hostile } })),
      actions: [
        actionRunFixture({ incidentId: 1, actionId: '<!here>', status: 'recovered', executedAt: at(60) }),
      ],
    });
    for (const text of mrkdwnTexts(msg)) {
      expect(text).not.toMatch(/<[!@]|<https?:/);
    }
    expect(renderMessageAsText(msg)).toContain(`${hostile} (service) · 2 incidents`);
  });

  it('stays within Slack limits with hundreds of incidents, actions and offenders with long, hostile names', () => {
    const incidents = Array.from({ length: 600 }, (_, i) =>
      incident(i + 1, {
        service: `"svc-${i % 150}" ${'<&>"'.repeat(40)}`,
        groupLabels: { alertname: `Alert${i % 200}${'&'.repeat(60)}` },
        status: i % 5 === 0 ? 'cancelled' : 'resolved',
        acknowledgedAt: at(60 + i),
        resolvedAt: at(3600 + i),
      }),
    );
    const actions = Array.from({ length: 300 }, (_, i) =>
      actionRunFixture({
        id: i + 1,
        incidentId: i + 1,
        actionId: `custom.action_${i}_${'"'.repeat(50)}`,
        status: 'recovered',
        executedAt: at(120),
      }),
    );
    const msg = message({ incidents, actions });
    expectWithinLimits(msg);
    const text = renderMessageAsText(msg);
    expect(text).toContain('600');
    expect(text).toMatch(/…and \d+ more/);
    // Incident references are cut short rather than listing all of an offender's incidents.
    expect(text).toMatch(/4 incidents: INC-\d+, INC-\d+, INC-\d+, INC-\d+/);
  });

  it('shortens the lists until the message fits when JSON encoding inflates the names', () => {
    // Each lone surrogate becomes six characters of JSON, so fifteen such lines overrun the budget.
    const inflating = '\ud800'.repeat(80);
    const incidents = Array.from({ length: 60 }, (_, i) =>
      incident(i + 1, {
        service: `${i % 30}${inflating}`,
        groupLabels: { alertname: `${i % 30}${inflating}` },
      }),
    );
    const actions = Array.from({ length: 30 }, (_, i) =>
      actionRunFixture({
        id: i + 1,
        incidentId: 1,
        actionId: `${i}${inflating}`,
        status: 'recovered',
        executedAt: at(60),
      }),
    );
    const msg = message({ incidents, actions });
    expectWithinLimits(msg);
    expect(renderMessageAsText(msg)).toMatch(/…and \d+ more/);
  });

  it('cuts long offender reference lists to a few with a count of the rest', () => {
    const incidents = Array.from({ length: 12 }, (_, i) => incident(i + 1, { service: 'rag-api' }));
    const text = renderMessageAsText(message({ incidents }));
    expect(text).toContain(
      'rag-api (service) · 12 incidents: INC-1, INC-2, INC-3, INC-4, INC-5, INC-6, INC-7, INC-8, +4',
    );
  });
});
