import { describe, expect, it } from 'vitest';
import type { Incident } from '../../../../src/incidents/incident.js';
import { appHomeView } from '../../../../src/slack/blocks/app-home.js';
import {
  declareIncidentModal,
  parseDeclareModalMetadata,
} from '../../../../src/slack/blocks/declare-modal.js';
import { helpMessage } from '../../../../src/slack/blocks/help.js';
import { incidentAnnouncementMessage } from '../../../../src/slack/blocks/incident-announcement.js';
import { incidentListMessage } from '../../../../src/slack/blocks/incident-list.js';
import { renderMessageAsText } from '../../../../src/slack/blocks/text-render.js';
import { ACTION_IDS, DECLARE_MODAL_IDS, VIEW_IDS } from '../../../../src/slack/blocks/types.js';
import { incidentFixture } from '../../../support/domain-fixtures.js';

const NOW = new Date('2026-11-24T12:00:00Z');

function makeIncident(overrides: Partial<Incident> = {}): Incident {
  return incidentFixture({
    title: 'Guardrail blocks all answers',
    severity: 'SEV1',
    service: 'guardrails',
    layerHint: 'safety',
    commanderId: null,
    responderIds: [],
    alertsFiring: 3,
    createdAt: new Date('2026-11-24T11:00:00Z'),
    updatedAt: new Date('2026-11-24T11:00:00Z'),
    ...overrides,
  });
}

function manyIncidents(count: number): Incident[] {
  return Array.from({ length: count }, (_, n) =>
    makeIncident({ id: n + 1, createdAt: new Date(NOW.getTime() - (count - n) * 60_000) }),
  );
}

describe('incidentAnnouncementMessage', () => {
  it('shows severity, reference, title, status and the incident channel', () => {
    const message = incidentAnnouncementMessage({ incident: makeIncident(), channelId: 'C0INC42' });
    const text = renderMessageAsText(message);
    expect(text).toContain('🔴 SEV1 · INC-42 · Guardrail blocks all answers');
    expect(text).toContain('🚨 Triggered · Join #C0INC42');
    expect(message.text).toContain('INC-42');
  });

  it('leaves live alert tallies to the card, so a storm does not keep editing the shared channel', () => {
    const firing = incidentAnnouncementMessage({
      incident: makeIncident({ alertsFiring: 7 }),
      channelId: null,
    });
    expect(firing).toEqual(incidentAnnouncementMessage({ incident: makeIncident(), channelId: null }));
    const over = incidentAnnouncementMessage({
      incident: makeIncident({ alertsFiring: 0, alertsResolved: 4 }),
      channelId: null,
    });
    expect(renderMessageAsText(over)).toContain('all alerts resolved');
  });

  it('leaves out the channel until it exists and escapes the title', () => {
    const message = incidentAnnouncementMessage({
      incident: makeIncident({ title: '<!channel> help' }),
      channelId: null,
    });
    expect(JSON.stringify(message)).not.toContain('<!channel>');
    expect(JSON.stringify(message)).not.toContain('Join');
  });
});

describe('incidentListMessage', () => {
  it('says so when nothing is open', () => {
    const message = incidentListMessage([makeIncident({ status: 'resolved' })], NOW);
    expect(message.text).toBe('No open incidents');
    expect(renderMessageAsText(message)).toContain('No open incidents');
  });

  it('lists open incidents newest first', () => {
    const text = renderMessageAsText(incidentListMessage(manyIncidents(3), NOW));
    expect(text).toContain('3 open incidents');
    expect(text.indexOf('INC-3')).toBeLessThan(text.indexOf('INC-1'));
  });

  it('shows 20 incidents and counts the rest', () => {
    const message = incidentListMessage(manyIncidents(30), NOW);
    expect(message.blocks.length).toBeLessThanOrEqual(50);
    const text = renderMessageAsText(message);
    expect(text).toContain('INC-30');
    expect(text).not.toContain('INC-10 ');
    expect(text).toContain('…and 10 more');
  });
});

describe('appHomeView', () => {
  it('offers to declare an incident', () => {
    const view = appHomeView([], NOW);
    expect(view.type).toBe('home');
    expect(JSON.stringify(view)).toContain(`"action_id":"${ACTION_IDS.openDeclareModal}"`);
    expect(ACTION_IDS.openDeclareModal).toBe('incident.declare_open');
    expect(renderMessageAsText(view)).toContain('No open incidents');
  });

  it('stays within the view block limit however many incidents are open', () => {
    const view = appHomeView(manyIncidents(500), NOW);
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    const text = renderMessageAsText(view);
    expect(text).toMatch(/…and \d+ more/);
    expect(text.indexOf('INC-500')).toBeLessThan(text.indexOf('INC-499'));
  });
});

describe('declareIncidentModal', () => {
  it('asks for title, severity (SEV3 by default), service and description', () => {
    const modal = declareIncidentModal({ channelId: 'C0GENERAL' });
    expect(modal).toMatchObject({
      type: 'modal',
      callback_id: VIEW_IDS.declare,
      submit: { text: 'Declare' },
      close: { text: 'Cancel' },
    });
    expect(modal.blocks.map((block) => block.block_id)).toEqual([
      DECLARE_MODAL_IDS.title.block,
      DECLARE_MODAL_IDS.severity.block,
      DECLARE_MODAL_IDS.service.block,
      DECLARE_MODAL_IDS.description.block,
    ]);
    expect(modal.blocks[0]).toMatchObject({ element: { type: 'plain_text_input', max_length: 150 } });
    expect(modal.blocks[1]).toMatchObject({ element: { initial_option: { value: 'SEV3' } } });
    expect(modal.blocks[2]).toMatchObject({ optional: true });
    expect(modal.blocks[3]).toMatchObject({ optional: true, element: { multiline: true } });
  });

  it('carries the channel it was opened from through private_metadata', () => {
    expect(
      parseDeclareModalMetadata(declareIncidentModal({ channelId: 'C0GENERAL' }).private_metadata),
    ).toEqual({
      channelId: 'C0GENERAL',
    });
    expect(parseDeclareModalMetadata(declareIncidentModal().private_metadata)).toEqual({});
    expect(parseDeclareModalMetadata('not json')).toEqual({});
  });
});

describe('helpMessage', () => {
  it('lists every command and explains that the id is optional in an incident channel', () => {
    const text = renderMessageAsText(helpMessage());
    for (const command of [
      'declare',
      'list',
      'status [INC-id]',
      'ack [INC-id]',
      'sev <INC-id> <SEV1-4>',
      'resolve',
      'help',
    ]) {
      expect(text).toContain(`/aisre ${command}`);
    }
    expect(text).toContain('Inside an incident channel the INC-id can be left out');
  });
});
