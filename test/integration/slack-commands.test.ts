import { afterEach, describe, expect, it } from 'vitest';
import {
  actionsBlock,
  blocksOf,
  cardFields,
  controlLabels,
  findCard,
  incidentDetail,
  listIncidents,
  openIncident,
  responseUrl,
  type SlackFlow,
  startSlackFlow,
  waitForUpdate,
} from '../support/slack-flow.js';
import { slashCommandBody, viewSubmissionBody } from '../support/slack-requests.js';
import { TEST_DB_KIND } from '../support/test-database.js';
import { INCIDENTS_CHANNEL } from '../support/test-service.js';

let flow: SlackFlow | undefined;
afterEach(async () => {
  await flow?.dispose();
  flow = undefined;
});

interface Reply {
  response_type?: string;
  replace_original?: boolean;
  text: string;
  blocks?: unknown[];
}

/** Runs `/aisre <text>` as `userId` in `channelId` and returns the private reply. */
async function aisre(flow: SlackFlow, text: string, channelId: string, userId = 'U0ALICE'): Promise<Reply> {
  const reply = responseUrl(flow.emulator);
  const response = await flow.slack(slashCommandBody({ text, userId, channelId, responseUrl: reply.url }));
  expect(response.status).toBe(200);
  // Slash commands are acknowledged with an empty body: nothing is posted in the channel for all to see.
  expect(await response.text()).toBe('');
  const body = (await reply.reply()).body as Reply;
  expect(body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
  return body;
}

const declareValues = (title: string) => ({
  title: { title },
  severity: { severity: { selected: 'SEV2' } },
  service: { service: 'rag-api' },
  description: { description: 'Answers cite documents from the <!channel> archive' },
});

describe(`/aisre slash command (${TEST_DB_KIND})`, () => {
  it('lists, shows, acknowledges, re-grades and resolves incidents, and explains itself', async () => {
    flow = await startSlackFlow();
    const { emulator, service } = flow;
    const { id, channelId, card } = await openIncident(flow, {
      annotations: { summary: 'Embedding drift on rag-assistant' },
    });

    const list = await aisre(flow, 'list', INCIDENTS_CHANNEL);
    expect(list.text).toBe(`1 open incident: INC-${id}`);
    expect(JSON.stringify(list.blocks)).toContain(`*INC-${id}* · Embedding drift on rag-assistant`);

    // In the incident channel the incident is implied.
    const status = await aisre(flow, 'status', channelId);
    expect(status.text).toContain(`INC-${id} triggered: Embedding drift on rag-assistant`);
    expect(blocksOf(status.blocks)[0]!.text!.text).toBe(`INC-${id} · Embedding drift on rag-assistant`);
    expect(cardFields(status.blocks).Status).toBe('🚨 Triggered');
    // An ephemeral copy has no buttons: they would go stale.
    expect(actionsBlock(status.blocks)).toBeUndefined();

    const ack = await aisre(flow, 'ack', channelId, 'U0BOB');
    expect(ack.text).toBe(`INC-${id} acknowledged.`);
    await waitForUpdate(emulator, card.ts, (blocks) => cardFields(blocks).Status === '👀 Acknowledged');
    let detail = await incidentDetail(service, id);
    expect(detail.incident).toMatchObject({ status: 'acknowledged', commanderId: 'U0BOB' });
    expect(detail.timeline.find((entry) => entry.kind === 'status.changed')?.actor).toBe('slack:U0BOB');

    // Outside the channel the incident is named.
    const sev = await aisre(flow, `sev INC-${id} SEV1`, INCIDENTS_CHANNEL);
    expect(sev.text).toBe(`INC-${id} is now SEV1.`);
    await waitForUpdate(emulator, card.ts, (blocks) => cardFields(blocks).Severity === '🔴 SEV1');
    detail = await incidentDetail(service, id);
    expect(detail.incident.severity).toBe('SEV1');
    expect(detail.timeline.find((entry) => entry.kind === 'severity.changed')).toMatchObject({
      actor: 'slack:U0ALICE',
      data: { from: 'SEV3', to: 'SEV1' },
    });

    const again = await aisre(flow, `sev INC-${id} sev1`, INCIDENTS_CHANNEL);
    expect(again.text).toBe(`INC-${id} is already SEV1.`);

    const mitigate = await aisre(flow, 'mitigate', channelId);
    expect(mitigate.text).toBe(`INC-${id} marked mitigated.`);
    await waitForUpdate(emulator, card.ts, (blocks) => cardFields(blocks).Status === '🩹 Mitigated');
    expect((await aisre(flow, 'cancel', channelId)).text).toMatch(/is mitigated; it cannot be cancelled/);

    const resolve = await aisre(flow, 'resolve', channelId);
    expect(resolve.text).toBe(`INC-${id} resolved.`);
    await waitForUpdate(emulator, card.ts, (blocks) => cardFields(blocks).Status === '✅ Resolved');
    expect(controlLabels(card.blocks)).toEqual([]);
    expect((await incidentDetail(service, id)).incident.status).toBe('resolved');
    expect((await aisre(flow, 'list', INCIDENTS_CHANNEL)).text).toBe('No open incidents');

    const help = await aisre(flow, 'help', INCIDENTS_CHANNEL);
    expect(help.text).toBe(
      'aisre commands: declare, list, status, ack, sev, diagnose, mitigate, resolve, cancel, postmortem, report, help',
    );
    const helpText = JSON.stringify(help.blocks);
    for (const usage of ['/aisre declare', '/aisre list', '/aisre status', '/aisre ack', '/aisre resolve']) {
      expect(helpText).toContain(usage);
    }
    expect(helpText).toContain('/aisre sev &lt;INC-id&gt; &lt;SEV1-4&gt;');

    const unknown = await aisre(flow, 'frobnicate now', INCIDENTS_CHANNEL);
    expect(unknown.text).toBe('Unknown subcommand "frobnicate".');
    expect(unknown.blocks).toEqual(help.blocks);
  });

  it('answers commands that cannot know their incident with a clear private error', async () => {
    flow = await startSlackFlow();
    const { emulator, service } = flow;
    const { id } = await openIncident(flow);
    const editsBefore = emulator.callsTo('chat.update').length;
    const which =
      ':warning: Which incident? Name it, e.g. `INC-42`, or run the command in the incident channel.';

    expect((await aisre(flow, 'ack', INCIDENTS_CHANNEL)).text).toBe(which);
    expect((await aisre(flow, 'status', 'C0RANDOM')).text).toBe(which);
    expect((await aisre(flow, 'resolve', INCIDENTS_CHANNEL)).text).toBe(which);
    expect((await aisre(flow, 'sev SEV9', INCIDENTS_CHANNEL)).text).toBe(
      ':warning: Give a severity from SEV1 to SEV4, e.g. `/aisre sev INC-42 SEV2`.',
    );
    expect((await aisre(flow, 'ack INC-999', INCIDENTS_CHANNEL)).text).toBe(
      ':warning: There is no incident INC-999.',
    );

    await service.aisre.outbox.drain();
    const detail = await incidentDetail(service, id);
    expect(detail.incident).toMatchObject({ status: 'triggered', commanderId: null });
    expect(detail.timeline.map((entry) => entry.kind)).toEqual(['incident.opened', 'alert.firing']);
    expect(emulator.callsTo('chat.update')).toHaveLength(editsBefore);
  });

  it('declares an incident through the modal, with inline errors for a missing title', async () => {
    flow = await startSlackFlow();
    const { emulator, service } = flow;
    const trigger = '1234567890.1111111111.abcdefabcdefabcdefabcdefabcdefab';
    const opened = await flow.slack(
      slashCommandBody({
        text: 'declare',
        userId: 'U0ALICE',
        channelId: INCIDENTS_CHANNEL,
        responseUrl: emulator.responseUrl(),
        triggerId: trigger,
      }),
    );
    expect(opened.status).toBe(200);
    const viewsOpen = await emulator.waitFor((calls) => calls.find((call) => call.method === 'views.open'));
    expect(viewsOpen.response).toMatchObject({ ok: true });
    expect(viewsOpen.args.trigger_id).toBe(trigger);
    const modal = viewsOpen.args.view as { callback_id: string; private_metadata: string; type: string };
    expect(modal).toMatchObject({ type: 'modal', callback_id: 'incident.declare' });
    expect(JSON.parse(modal.private_metadata)).toEqual({ channelId: INCIDENTS_CHANNEL });

    // A blank title is refused on the field itself, and nothing is declared.
    const blank = await flow.slack(
      viewSubmissionBody({
        userId: 'U0ALICE',
        callbackId: 'incident.declare',
        values: declareValues('   '),
        privateMetadata: modal.private_metadata,
      }),
    );
    expect(blank.status).toBe(200);
    expect(await blank.json()).toEqual({
      response_action: 'errors',
      errors: { title: 'Give the incident a short title.' },
    });
    expect(await listIncidents(service)).toEqual([]);

    const submitted = await flow.slack(
      viewSubmissionBody({
        userId: 'U0ALICE',
        callbackId: 'incident.declare',
        values: declareValues('Chat answers cite the wrong documents'),
        privateMetadata: modal.private_metadata,
      }),
    );
    expect(submitted.status).toBe(200);
    // A plain ack closes the modal.
    expect(await submitted.text()).toBe('');

    const ephemeral = await emulator.waitFor((calls) =>
      calls.find((call) => call.method === 'chat.postEphemeral'),
    );
    expect(ephemeral.args).toMatchObject({ channel: INCIDENTS_CHANNEL, user: 'U0ALICE' });
    const incidents = await listIncidents(service);
    expect(incidents).toHaveLength(1);
    const incident = incidents[0]!;
    expect(incident).toMatchObject({
      title: 'Chat answers cite the wrong documents',
      severity: 'SEV2',
      source: 'slack',
      status: 'triggered',
      commanderId: 'U0ALICE',
    });
    expect(ephemeral.args.text).toBe(
      `INC-${incident.id} declared: Chat answers cite the wrong documents. Its channel is being set up.`,
    );

    await service.aisre.outbox.drain();
    const detail = await incidentDetail(service, incident.id);
    expect(detail.timeline.map((entry) => [entry.kind, entry.actor])).toEqual([
      ['incident.declared', 'slack:U0ALICE'],
    ]);
    const date = incident.createdAt.slice(0, 10).replaceAll('-', '');
    expect(detail.slack).toMatchObject({
      mode: 'channel',
      channelName: `inc-${date}-chat-answers-cite-the-wrong-documents`,
    });
    const channelId = detail.slack!.channelId;
    const announcement = emulator.messages(INCIDENTS_CHANNEL);
    expect(announcement).toHaveLength(1);
    expect(JSON.stringify(announcement[0]!.blocks)).toContain(`Join <#${channelId}>`);
    const invite = emulator.callsTo('conversations.invite')[0]!;
    expect(String(invite.args.users).split(',').sort()).toEqual(['U0ALICE', 'U0BOB', 'U0CAROL']);
    const card = findCard(emulator, channelId, incident.id)!;
    expect(cardFields(card.blocks)).toMatchObject({
      Severity: '🟠 SEV2',
      Commander: '<@U0ALICE>',
      Source: 'Declared in Slack',
      Service: 'rag-api',
    });
    expect(JSON.stringify(card.blocks)).toContain('documents from the &lt;!channel&gt; archive');
    expect(controlLabels(card.blocks)).toEqual([
      'Acknowledge',
      'Start diagnosis',
      'Change severity ▾',
      'Resolve',
    ]);
  });
});
