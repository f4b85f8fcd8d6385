import { afterEach, describe, expect, it } from 'vitest';
import type { EmulatedMessage, RecordedCall, SlackEmulator } from '../support/slack-emulator.js';
import {
  actionsBlock,
  blocksOf,
  cardFields,
  controlLabels,
  element,
  incidentDetail,
  openIncident,
  responseUrl,
  type SlackFlow,
  startSlackFlow,
  updatesOf,
  waitForUpdate,
} from '../support/slack-flow.js';
import {
  type BlockActionInput,
  blockActionsBody,
  eventBody,
  postSigned,
  signSlackRequest,
} from '../support/slack-requests.js';
import { TEST_DB_KIND } from '../support/test-database.js';
import { SIGNING_SECRET } from '../support/test-service.js';

let flow: SlackFlow | undefined;
afterEach(async () => {
  await flow?.dispose();
  flow = undefined;
});

/** What a click on the card sends: the control as it was rendered on the (possibly stale) card. */
function click(
  card: EmulatedMessage,
  channelId: string,
  userId: string,
  action: BlockActionInput,
  url?: string,
): string {
  return blockActionsBody({
    userId,
    channelId,
    messageTs: card.ts,
    actions: [action],
    message: { blocks: card.blocks },
    ...(url ? { responseUrl: url } : {}),
  });
}

/** Top-level posts in the incident channel: the card, once (thread replies are not the card). */
/** Posts of the card itself (not of the postmortem that follows resolution). */
function cardPosts(emulator: SlackEmulator, channelId: string): RecordedCall[] {
  return emulator
    .callsTo('chat.postMessage')
    .filter(
      (call) =>
        call.args.channel === channelId &&
        !call.args.thread_ts &&
        !String(call.args.text ?? '').startsWith('Postmortem draft'),
    );
}

function button(blocks: unknown, actionId: string): BlockActionInput {
  const control = element(blocks, actionId);
  return { action_id: actionId, block_id: actionsBlock(blocks)!.block_id!, value: control.value! };
}

describe(`Slack card buttons and events (${TEST_DB_KIND})`, () => {
  it('runs the incident from its card: acknowledge, severity, diagnosis, resolve', async () => {
    flow = await startSlackFlow();
    const { emulator, service } = flow;
    const { id, channelId, card } = await openIncident(flow);
    const original = structuredClone(card.blocks);
    const stale = { ...card, blocks: original };

    // Alice acknowledges: the card is edited in place and she becomes the commander.
    const alice = responseUrl(emulator);
    const acked = await flow.slack(
      click(stale, channelId, 'U0ALICE', button(original, 'incident.acknowledge'), alice.url),
    );
    expect(acked.status).toBe(200);
    const ackEdit = await waitForUpdate(emulator, card.ts, (b) => cardFields(b).Status === '👀 Acknowledged');
    expect(ackEdit.args.channel).toBe(channelId);
    expect(cardFields(ackEdit.args.blocks)).toMatchObject({
      Commander: '<@U0ALICE>',
      Responders: '<@U0ALICE>',
    });
    expect(controlLabels(ackEdit.args.blocks)).toEqual(['Start diagnosis', 'Change severity ▾', 'Resolve']);
    // Edited, never posted again.
    expect(cardPosts(emulator, channelId)).toHaveLength(1);
    let detail = await incidentDetail(service, id);
    expect(detail.incident).toMatchObject({ status: 'acknowledged', commanderId: 'U0ALICE' });
    expect(detail.timeline.slice(-3).map((entry) => [entry.kind, entry.actor])).toEqual([
      ['status.changed', 'slack:U0ALICE'],
      ['commander.assigned', 'slack:U0ALICE'],
      ['responder.joined', 'slack:U0ALICE'],
    ]);
    expect(detail.timeline.at(-3)!.data).toEqual({ from: 'triggered', to: 'acknowledged' });

    // Bob clicks Acknowledge on the card he still sees: nothing changes, and only he is told why.
    const entriesBefore = detail.timeline.length;
    const editsBefore = updatesOf(emulator, card.ts).length;
    const bob = responseUrl(emulator);
    const late = await flow.slack(
      click(stale, channelId, 'U0BOB', button(original, 'incident.acknowledge'), bob.url),
    );
    expect(late.status).toBe(200);
    expect((await bob.reply()).body).toEqual({
      response_type: 'ephemeral',
      replace_original: false,
      text: `INC-${id} is already acknowledged by <@U0ALICE>.`,
    });
    await service.aisre.outbox.drain();
    detail = await incidentDetail(service, id);
    expect(detail.timeline).toHaveLength(entriesBefore);
    expect(detail.incident).toMatchObject({ commanderId: 'U0ALICE', responderIds: ['U0ALICE'] });
    expect(updatesOf(emulator, card.ts)).toHaveLength(editsBefore);
    // Alice's click changed something, so she got no private reply.
    expect(emulator.responses.map((response) => response.id)).toEqual([bob.url.split('/').at(-1)]);

    // Bob raises the severity from the card's menu; its block id names the incident.
    const severity = await flow.slack(
      click(card, channelId, 'U0BOB', {
        action_id: 'incident.change_severity',
        block_id: `incident_actions:${id}`,
        selected_option: { value: 'SEV1' },
      }),
    );
    expect(severity.status).toBe(200);
    const sevEdit = await waitForUpdate(emulator, card.ts, (b) => cardFields(b).Severity === '🔴 SEV1');
    expect(element(sevEdit.args.blocks, 'incident.change_severity').initial_option!.value).toBe('SEV1');
    expect(cardFields(sevEdit.args.blocks).Responders).toBe('<@U0ALICE>, <@U0BOB>');
    detail = await incidentDetail(service, id);
    const sevEntry = detail.timeline.find((entry) => entry.kind === 'severity.changed')!;
    expect(sevEntry).toMatchObject({ actor: 'slack:U0BOB', data: { from: 'SEV3', to: 'SEV1' } });

    // Start diagnosis.
    await flow.slack(click(card, channelId, 'U0ALICE', button(card.blocks, 'incident.start_diagnosis')));
    const diagEdit = await waitForUpdate(
      emulator,
      card.ts,
      (b) => cardFields(b).Status === '🔍 Investigating',
    );
    expect(controlLabels(diagEdit.args.blocks)).not.toContain('Acknowledge');
    expect(controlLabels(diagEdit.args.blocks)).toEqual(
      expect.arrayContaining(['Change severity ▾', 'Resolve']),
    );
    expect((await incidentDetail(service, id)).incident.status).toBe('investigating');

    // Resolve: the card keeps its content but loses every control.
    await flow.slack(click(card, channelId, 'U0ALICE', button(card.blocks, 'incident.resolve')));
    const resolvedEdit = await waitForUpdate(
      emulator,
      card.ts,
      (b) => cardFields(b).Status === '✅ Resolved',
    );
    expect(actionsBlock(resolvedEdit.args.blocks)).toBeUndefined();
    expect(JSON.stringify(resolvedEdit.args.blocks)).not.toContain('"type":"button"');
    expect(JSON.stringify(resolvedEdit.args.blocks)).toContain('✅ Resolved <!date^');
    expect(actionsBlock(card.blocks)).toBeUndefined();
    detail = await incidentDetail(service, id);
    expect(detail.incident.status).toBe('resolved');
    expect(
      detail.timeline.filter((entry) => entry.kind === 'status.changed').map((e) => [e.data.to, e.actor]),
    ).toEqual([
      ['acknowledged', 'slack:U0ALICE'],
      ['investigating', 'slack:U0ALICE'],
      ['resolved', 'slack:U0ALICE'],
    ]);
    expect(cardPosts(emulator, channelId)).toHaveLength(1);

    // A button left on an old copy of the card cannot reopen anything.
    const carol = responseUrl(emulator);
    await flow.slack(click(stale, channelId, 'U0CAROL', button(original, 'incident.acknowledge'), carol.url));
    expect((await carol.reply()).body).toMatchObject({
      response_type: 'ephemeral',
      text: `:warning: INC-${id} is resolved; it cannot be acknowledged from there.`,
    });
    expect((await incidentDetail(service, id)).incident.status).toBe('resolved');
  });

  it('refuses requests with a bad signature or a stale timestamp, and acts on none of them', async () => {
    flow = await startSlackFlow();
    const { emulator, service } = flow;
    const { id, channelId, card } = await openIncident(flow);
    const events = `${service.url}/slack/events`;
    const reply = responseUrl(emulator);
    const body = click(card, channelId, 'U0ALICE', button(card.blocks, 'incident.acknowledge'), reply.url);
    const before = await incidentDetail(service, id);
    const editsBefore = emulator.callsTo('chat.update').length;

    const wrongSecret = await postSigned(events, { body, signingSecret: 'not-the-signing-secret' });
    expect(wrongSecret.status).toBe(401);
    const sixMinutesAgo = Math.floor(Date.now() / 1000) - 6 * 60;
    const stale = await postSigned(events, { body, signingSecret: SIGNING_SECRET, timestamp: sixMinutesAgo });
    expect(stale.status).toBe(401);
    const unsigned = await fetch(events, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    expect(unsigned.status).toBe(401);
    // Signed for one body, sent with another (Bob instead of Alice).
    const tampered = await postSigned(events, {
      body: body.replaceAll('U0ALICE', 'U0BOB'),
      signingSecret: SIGNING_SECRET,
      headers: { ...signSlackRequest(SIGNING_SECRET, body) },
    });
    expect(tampered.status).toBe(401);
    const staleEvent = await postSigned(events, {
      body: eventBody({ event: { type: 'app_home_opened', user: 'U0ALICE', tab: 'home' } }),
      signingSecret: SIGNING_SECRET,
      timestamp: sixMinutesAgo,
    });
    expect(staleEvent.status).toBe(401);

    await service.aisre.outbox.drain();
    expect(await incidentDetail(service, id)).toEqual(before);
    expect(emulator.responses).toEqual([]);
    expect(emulator.callsTo('chat.update')).toHaveLength(editsBefore);
    expect(emulator.callsTo('views.publish')).toEqual([]);

    // The very same body, properly signed, is acted on: it was only the signature that failed.
    expect((await flow.slack(body)).status).toBe(200);
    await waitForUpdate(emulator, card.ts, (b) => cardFields(b).Status === '👀 Acknowledged');
    const after = await incidentDetail(service, id);
    expect(after.incident).toMatchObject({ status: 'acknowledged', commanderId: 'U0ALICE' });
  });

  it('publishes the App Home with the open incidents, once per event even when Slack retries it', async () => {
    flow = await startSlackFlow();
    const { emulator, service } = flow;
    const { id } = await openIncident(flow, { annotations: { summary: 'Reranker latency p99 over 4s' } });
    const declared = await service.aisre.incidents.declare(
      { title: 'Chat answers cite the wrong documents', severity: 'SEV2', service: null, description: null },
      { kind: 'slack', userId: 'U0CAROL' },
    );
    const closed = await service.aisre.incidents.declare(
      { title: 'Old resolved thing', severity: 'SEV4', service: null, description: null },
      { kind: 'api' },
    );
    await service.aisre.incidents.resolve(closed.id, { kind: 'api' });

    const opened = eventBody({
      event: { type: 'app_home_opened', user: 'U0ALICE', channel: 'D0ALICE', tab: 'home' },
      eventId: 'Ev0HOMEALICE',
    });
    expect((await flow.slack(opened)).status).toBe(200);
    const publish = await emulator.waitFor((calls) => calls.find((call) => call.method === 'views.publish'));
    expect(publish.args.user_id).toBe('U0ALICE');
    const view = publish.args.view as { type: string; blocks: unknown[] };
    expect(view.type).toBe('home');
    const sections = blocksOf(view.blocks)
      .filter((block) => block.type === 'section')
      .map((block) => block.text!.text);
    expect(sections).toHaveLength(2);
    expect(sections[0]).toContain(`*INC-${declared.id}* · Chat answers cite the wrong documents`);
    expect(sections[1]).toContain(`*INC-${id}* · Reranker latency p99 over 4s`);
    expect(JSON.stringify(view.blocks)).not.toContain(`INC-${closed.id}`);
    expect(emulator.homeView('U0ALICE')).toBeDefined();

    // Slack did not hear back in time and sends the same event again.
    const retried = await flow.slack(opened, {
      'x-slack-retry-num': '1',
      'x-slack-retry-reason': 'http_timeout',
    });
    expect(retried.status).toBe(200);
    // Another user's event goes through the same pipeline after the retry; once it is published
    // the retry has long been decided.
    const bobs = eventBody({
      event: { type: 'app_home_opened', user: 'U0BOB', channel: 'D0BOB', tab: 'home' },
      eventId: 'Ev0HOMEBOB',
    });
    expect((await flow.slack(bobs)).status).toBe(200);
    await emulator.waitFor((calls) =>
      calls.find((call) => call.method === 'views.publish' && call.args.user_id === 'U0BOB'),
    );
    expect(emulator.callsTo('views.publish').map((call) => call.args.user_id)).toEqual(['U0ALICE', 'U0BOB']);
  });
});
