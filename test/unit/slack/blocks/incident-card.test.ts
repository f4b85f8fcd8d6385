import { describe, expect, it } from 'vitest';
import { type IncidentCardView, incidentCardMessage } from '../../../../src/slack/blocks/incident-card.js';
import { incidentStatusMessage } from '../../../../src/slack/blocks/incident-list.js';
import {
  ACTION_IDS,
  type Block,
  type ButtonElement,
  type InteractiveElement,
  incidentActionsBlockId,
  parseIncidentActionsBlockId,
  type SlackMessage,
  type StaticSelectElement,
  type TextObject,
} from '../../../../src/slack/blocks/types.js';
import { actionRunFixture, alertFixture, incidentFixture } from '../../../support/domain-fixtures.js';

const NOW = new Date('2026-11-24T21:30:00Z');

function card(overrides: Partial<IncidentCardView> = {}): SlackMessage {
  return incidentCardMessage({
    incident: incidentFixture(),
    alerts: [alertFixture(1), alertFixture(2), alertFixture(3, { status: 'resolved' })],
    channelId: 'C0INC42',
    ...overrides,
  });
}

function textObjects(block: Block): TextObject[] {
  switch (block.type) {
    case 'header':
      return [block.text];
    case 'section':
      return [...(block.text ? [block.text] : []), ...(block.fields ?? [])];
    case 'context':
      return block.elements;
    default:
      return [];
  }
}

function allText(message: SlackMessage): string {
  return message.blocks
    .flatMap(textObjects)
    .map((object) => object.text)
    .join('\n');
}

/** What Slack parses for mentions and links: the fallback text and every mrkdwn object. */
function parsedText(message: SlackMessage): string {
  const objects = message.blocks.flatMap(textObjects).filter((object) => object.type === 'mrkdwn');
  return [message.text, ...objects.map((object) => object.text)].join('\n');
}

function elements(message: SlackMessage): InteractiveElement[] {
  return message.blocks.flatMap((block) => {
    if (block.type === 'actions') return block.elements;
    if (block.type === 'section' && block.accessory) return [block.accessory];
    return [];
  });
}

function actionsBlockIds(message: SlackMessage): string[] {
  const actions = message.blocks.find((block) => block.type === 'actions');
  return actions?.type === 'actions' ? actions.elements.map((element) => element.action_id) : [];
}

function expectWithinSlackLimits(message: SlackMessage): void {
  expect(message.blocks.length).toBeLessThanOrEqual(50);
  expect(message.text.length).toBeLessThanOrEqual(40000);
  expect(JSON.stringify(message.blocks).length).toBeLessThan(12000);
  for (const block of message.blocks) {
    switch (block.type) {
      case 'header':
        expect(block.text.text.length).toBeLessThanOrEqual(150);
        break;
      case 'section':
        expect(block.text?.text.length ?? 0).toBeLessThanOrEqual(3000);
        expect(block.fields?.length ?? 0).toBeLessThanOrEqual(10);
        for (const field of block.fields ?? []) expect(field.text.length).toBeLessThanOrEqual(2000);
        break;
      case 'context':
        expect(block.elements.length).toBeLessThanOrEqual(10);
        for (const element of block.elements) expect(element.text.length).toBeLessThanOrEqual(3000);
        break;
      case 'actions':
        expect(block.elements.length).toBeLessThanOrEqual(25);
        break;
    }
  }
  for (const element of elements(message)) {
    if (element.type === 'button') expect(element.text.text.length).toBeLessThanOrEqual(75);
  }
}

describe('incidentCardMessage', () => {
  it('shows the reference, title, status, severity, people and creation time', () => {
    const message = card();
    expect(message.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: 'INC-42 · RAG answers cite stale documents', emoji: true },
    });
    const text = allText(message);
    expect(text).toContain('🚨 Triggered');
    expect(text).toContain('🟠 SEV2');
    expect(text).toContain('<@U0COMMANDER>');
    expect(text).toContain('<@U0ALICE>, <@U0BOB>');
    expect(text).toContain('rag-api');
    expect(text).toContain('retrieval');
    expect(text).toContain('2026-11-22 21:05 UTC');
    expect(text).toContain('{ago}');
    expect(text).toContain('2 firing · 1 resolved');
    expectWithinSlackLimits(message);
  });

  it('has a fallback text that says what the incident is', () => {
    expect(card().text).toBe(
      '🟠 SEV2 INC-42 triggered: RAG answers cite stale documents · 2 firing · 1 resolved',
    );
  });

  it('escapes hostile alert labels, alert names and titles', () => {
    const message = card({
      incident: incidentFixture({ title: '<!here> outage', service: '<@U999>' }),
      alerts: [
        alertFixture(1, {
          alertname: '<!everyone>',
          labels: { service: '<!channel>', model: '<https://evil.example|click>' },
        }),
      ],
    });
    const text = parsedText(message);
    for (const raw of ['<!here>', '<!channel>', '<!everyone>', '<https://evil.example', '<@U999>']) {
      expect(text).not.toContain(raw);
    }
    expect(text).toContain('service=&lt;!channel&gt;');
    expect(text).toContain('model=&lt;https://evil.example|click&gt;');
    expect(text).toContain('&lt;!here&gt; outage');
    // Slack does not parse plain_text, so the header shows the title exactly as written.
    expect(message.blocks[0]).toMatchObject({
      text: { type: 'plain_text', text: 'INC-42 · <!here> outage' },
    });
  });

  it('stays within Slack limits with 1000 alerts, huge label values and a huge title', () => {
    const huge = '<&">'.repeat(500);
    const alerts = Array.from({ length: 1000 }, (_, n) =>
      alertFixture(n, {
        alertname: huge,
        labels: { service: huge, model: huge, layer: huge, pod: huge },
      }),
    );
    const message = card({
      incident: incidentFixture({
        title: 'T'.repeat(5000),
        description: huge,
        service: huge,
        layerHint: huge,
        responderIds: Array.from({ length: 200 }, (_, n) => `U${n}ABC`),
        runbookUrl: `https://runbooks.example.com/${'a&b'.repeat(300)}`,
        alertsFiring: 1000,
        truncatedAlerts: 250,
      }),
      alerts,
    });
    expectWithinSlackLimits(message);
    const header = message.blocks[0];
    expect(header?.type === 'header' && header.text.text.startsWith('INC-42 · TTT')).toBe(true);
    expect(header?.type === 'header' && header.text.text.endsWith('…')).toBe(true);
    expect(allText(message)).toMatch(/…and \d+ more/);
    expect(actionsBlockIds(message)).toContain(ACTION_IDS.resolve);
  });

  it('lists at most a screenful of ordinary alerts and says how many it left out', () => {
    const alerts = Array.from({ length: 1000 }, (_, n) => alertFixture(n));
    const message = card({ alerts });
    expectWithinSlackLimits(message);
    expect(allText(message)).toContain('…and 980 more');
  });

  it("counts the alerts it was not given from the incident's tallies", () => {
    // The outbox loads only the alerts the card can list.
    const alerts = Array.from({ length: 20 }, (_, n) => alertFixture(n));
    const message = card({ incident: incidentFixture({ alertsFiring: 150, alertsResolved: 50 }), alerts });
    expect(allText(message)).toContain('…and 180 more');
    expect(allText(message)).toContain('150 firing · 50 resolved');
  });

  it('lists firing alerts before resolved ones', () => {
    const message = card({
      alerts: [
        alertFixture(1, { status: 'resolved', alertname: 'ResolvedOne' }),
        alertFixture(2, { alertname: 'StillFiring' }),
      ],
    });
    const text = allText(message);
    expect(text.indexOf('🔥 *StillFiring*')).toBeGreaterThan(-1);
    expect(text.indexOf('🔥 *StillFiring*')).toBeLessThan(text.indexOf('✅ *ResolvedOne*'));
  });

  it.each([
    [
      'triggered',
      [ACTION_IDS.acknowledge, ACTION_IDS.startDiagnosis, ACTION_IDS.changeSeverity, ACTION_IDS.resolve],
    ],
    ['acknowledged', [ACTION_IDS.startDiagnosis, ACTION_IDS.changeSeverity, ACTION_IDS.resolve]],
    ['investigating', [ACTION_IDS.startDiagnosis, ACTION_IDS.changeSeverity, ACTION_IDS.resolve]],
    ['mitigated', [ACTION_IDS.startDiagnosis, ACTION_IDS.changeSeverity, ACTION_IDS.resolve]],
  ] as const)('offers the actions that make sense while %s', (status, expected) => {
    expect(actionsBlockIds(card({ incident: incidentFixture({ status }) }))).toEqual(expected);
  });

  it('hides Start diagnosis while a diagnosis runs, and shows where it stands or what it concluded', () => {
    const diagnosis = {
      sessionId: 3,
      runbookId: 'ai_incident',
      status: 'waiting' as const,
      node: 'triage',
      nodeTitle: 'Which layer failed?',
      conclusion: null,
    };
    const waiting = card({ incident: incidentFixture({ status: 'investigating', diagnosis }) });
    expect(actionsBlockIds(waiting)).toEqual([ACTION_IDS.changeSeverity, ACTION_IDS.resolve]);
    expect(allText(waiting)).toContain('Diagnosis needs an answer');

    const concluded = card({
      incident: incidentFixture({
        status: 'investigating',
        diagnosis: {
          ...diagnosis,
          status: 'concluded',
          conclusion: {
            node: 'prompt_regression',
            title: 'Prompt regression',
            layer: 'generation',
            class: 'model_behaviour',
            hypothesis: 'A prompt <!channel> change made answers worse.',
            actions: [{ action: 'prompt.rollback', params: { prompt: 'rag' }, auto: false }],
          },
        },
      }),
    });
    const text = allText(concluded);
    expect(text).toContain('Diagnosis: generation layer');
    expect(text).toContain('`prompt.rollback`');
    expect(text).not.toContain('<!channel>');
    expect(actionsBlockIds(concluded)).toContain(ACTION_IDS.startDiagnosis);
  });

  it('lists where the latest five actions stand, newest first, and counts the others', () => {
    const runs = [1, 2, 3, 4, 5, 6].map((id) =>
      actionRunFixture({ id, status: id === 6 ? 'recovered' : 'failed' }),
    );
    const text = allText(card({ actions: runs }));
    expect(text).toContain(
      '⚙️ *Actions*\n`gateway.rate_limit (A-6)` ✅ Recovered\n`gateway.rate_limit (A-5)` 💥 Failed',
    );
    expect(text).toContain('…and 1 more');
    expect(text).not.toContain('(A-1)');
    expect(allText(card())).not.toContain('*Actions*');
  });

  it('puts the incident id on every button and in the actions block id', () => {
    const message = card();
    const buttons = elements(message).filter(
      (element): element is ButtonElement => element.type === 'button',
    );
    expect(buttons.length).toBeGreaterThan(0);
    for (const button of buttons) expect(button.value).toBe('42');
    const actions = message.blocks.find((block) => block.type === 'actions');
    expect(actions?.block_id).toBe(incidentActionsBlockId(42));
    expect(parseIncidentActionsBlockId(actions?.block_id ?? '')).toBe(42);
  });

  it('asks for confirmation before resolving', () => {
    const resolve = elements(card()).find((element) => element.action_id === ACTION_IDS.resolve);
    expect(resolve).toMatchObject({ type: 'button', style: 'danger', confirm: { style: 'danger' } });
  });

  it('preselects the current severity', () => {
    const select = elements(card({ incident: incidentFixture({ severity: 'SEV1' }) })).find(
      (element): element is StaticSelectElement => element.type === 'static_select',
    );
    expect(select?.options.map((option) => option.value)).toEqual(['SEV1', 'SEV2', 'SEV3', 'SEV4']);
    expect(select?.initial_option?.value).toBe('SEV1');
    expect(select?.options).toContainEqual(select?.initial_option);
  });

  it('offers to resolve right in a banner once every alert has resolved', () => {
    const message = card({
      incident: incidentFixture({
        status: 'acknowledged',
        alertsFiring: 0,
        alertsResolved: 3,
        allAlertsResolvedAt: new Date('2026-11-24T21:00:00Z'),
      }),
    });
    const banner = message.blocks.find(
      (block) => block.type === 'section' && block.text?.text.includes('All alerts have resolved'),
    );
    expect(banner).toMatchObject({
      accessory: { type: 'button', action_id: ACTION_IDS.resolve, value: '42' },
    });
    expect(allText(message)).toContain('Resolve the incident?');
    expect(allText(card())).not.toContain('All alerts have resolved');
  });

  it('shows no actions once resolved, only when it was resolved', () => {
    const message = card({
      incident: incidentFixture({
        status: 'resolved',
        allAlertsResolvedAt: new Date('2026-11-23T08:00:00Z'),
        resolvedAt: new Date('2026-11-23T09:15:00Z'),
      }),
    });
    expect(elements(message)).toEqual([]);
    const text = allText(message);
    expect(text).toContain('✅ Resolved');
    expect(text).toContain('2026-11-23 09:15 UTC');
    expect(text).toContain('12 hours after it opened');
    expect(text).not.toContain('All alerts have resolved');
  });

  it('shows no actions once cancelled', () => {
    const message = card({ incident: incidentFixture({ status: 'cancelled', resolvedAt: NOW }) });
    expect(elements(message)).toEqual([]);
    expect(allText(message)).toContain('🚫 Cancelled');
  });

  it('warns when Alertmanager left alerts out', () => {
    expect(allText(card({ incident: incidentFixture({ truncatedAlerts: 7 }) }))).toContain(
      'Alertmanager left out 7 alerts from the latest notification',
    );
    expect(allText(card())).not.toContain('left out');
  });

  it('links the runbook, Prometheus and Alertmanager, but only over http(s)', () => {
    const text = allText(card());
    expect(text).toContain('<https://runbooks.example.com/retrieval|Runbook>');
    expect(text).toContain('<http://prometheus:9090/graph?g0.expr=recall&amp;g0.tab=1|Prometheus>');
    expect(text).toContain('<http://alertmanager:9093|Alertmanager>');
    const hostile = allText(card({ incident: incidentFixture({ runbookUrl: 'javascript:alert(1)' }) }));
    expect(hostile).not.toContain('<javascript:');
  });
});

describe('incidentStatusMessage', () => {
  it('is the card without anything clickable', () => {
    const message = incidentStatusMessage(
      incidentFixture({ allAlertsResolvedAt: new Date('2026-11-24T21:00:00Z') }),
      [alertFixture(1)],
    );
    expect(elements(message)).toEqual([]);
    expect(allText(message)).toContain('All alerts have resolved');
    expect(message.text).toContain('INC-42');
  });
});
