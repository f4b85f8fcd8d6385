import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Severity } from '../../src/incidents/incident.js';
import { alertmanagerBody } from '../support/alertmanager-payloads.js';
import {
  actionsBlock,
  blocksOf,
  cardFields,
  controlLabels,
  element,
  findCard,
  fireAlert,
  incidentDetail,
  listIncidents,
  ONCALL_GROUP,
  openIncident,
  responseUrl,
  type SlackFlow,
  startSlackFlow,
  succeeded,
  updatesOf,
  waitForUpdate,
} from '../support/slack-flow.js';
import { eventBody, slashCommandBody } from '../support/slack-requests.js';
import { withoutPlainText } from '../support/slack-text.js';
import { TEST_DB_KIND } from '../support/test-database.js';
import { INCIDENTS_CHANNEL } from '../support/test-service.js';

let flow: SlackFlow | undefined;
afterEach(async () => {
  await flow?.dispose();
  flow = undefined;
});

const utcDate = (iso: string) => iso.slice(0, 10).replaceAll('-', '');

async function metrics(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

describe(`Slack delivery of incidents (${TEST_DB_KIND})`, () => {
  it('creates the incident channel, announces it, invites the responders and posts the card', async () => {
    flow = await startSlackFlow();
    const { emulator, service } = flow;
    const summary =
      'Eval pass rate fell to 71% on RAG-Assistant (EU-West): retrieval returns STALE documents after the nightly re-index';
    const id = await fireAlert(service, { labels: { severity: 'critical' }, annotations: { summary } });
    await service.aisre.outbox.drain();

    // The user-visible sequence: no call failed or was repeated. (Edits in place may follow: the
    // messages show the incident's age, which can tick over between the first two renders.)
    expect(emulator.calls.every(succeeded)).toBe(true);
    expect(emulator.calls.filter((call) => call.method !== 'chat.update').map((call) => call.method)).toEqual(
      [
        'conversations.create',
        'chat.postMessage',
        'usergroups.users.list',
        'conversations.invite',
        'chat.postMessage',
      ],
    );
    const postedTs = emulator.callsTo('chat.postMessage').map((call) => (call.response as { ts: string }).ts);
    expect(emulator.callsTo('chat.update').every((call) => postedTs.includes(call.args.ts as string))).toBe(
      true,
    );

    const detail = await incidentDetail(service, id);
    const name = emulator.callsTo('conversations.create')[0]!.args.name as string;
    expect(name).toBe(
      `inc-${utcDate(detail.incident.createdAt)}-eval-pass-rate-fell-to-71-on-rag-assistant-eu-west-retrieval-return`,
    );
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name).toMatch(/^[a-z0-9-]+$/);
    const channel = emulator.channel(name)!;
    expect(detail.slack).toEqual({ mode: 'channel', channelId: channel.id, channelName: name });

    const [announcement, card] = emulator.callsTo('chat.postMessage');
    expect(announcement!.args.channel).toBe(INCIDENTS_CHANNEL);
    expect(announcement!.args.thread_ts).toBeUndefined();
    expect(announcement!.args.text).toContain(`INC-${id}`);
    expect(JSON.stringify(announcement!.args.blocks)).toContain(`Join <#${channel.id}>`);
    expect(emulator.messages(INCIDENTS_CHANNEL)).toHaveLength(1);

    expect(emulator.callsTo('usergroups.users.list')[0]!.args.usergroup).toBe(ONCALL_GROUP);
    const invite = emulator.callsTo('conversations.invite')[0]!;
    expect(invite.args.channel).toBe(channel.id);
    expect(String(invite.args.users).split(',').sort()).toEqual(['U0ALICE', 'U0BOB', 'U0CAROL']);
    expect(channel.members).toEqual(expect.arrayContaining(['U0ALICE', 'U0BOB', 'U0CAROL']));

    expect(card!.args.channel).toBe(channel.id);
    expect(card!.args.thread_ts).toBeUndefined();
    expect(emulator.messages(channel.id)).toHaveLength(1);
    const posted = findCard(emulator, channel.id, id)!;
    expect(blocksOf(posted.blocks)[0]!.text!.text).toBe(`INC-${id} · ${summary}`);
    expect(controlLabels(posted.blocks)).toEqual([
      'Acknowledge',
      'Start diagnosis',
      'Change severity ▾',
      'Resolve',
    ]);
    expect(actionsBlock(posted.blocks)!.block_id).toBe(`incident_actions:${id}`);
    expect(element(posted.blocks, 'incident.acknowledge').value).toBe(String(id));
    expect(element(posted.blocks, 'incident.change_severity').initial_option!.value).toBe('SEV1');
    expect(cardFields(posted.blocks)).toMatchObject({
      Status: '🚨 Triggered',
      Severity: '🔴 SEV1',
      Commander: '_Unassigned_',
      Channel: `<#${channel.id}>`,
    });
    expect(detail.timeline.map((entry) => [entry.kind, entry.actor])).toEqual([
      ['incident.opened', 'alertmanager:aisre'],
      ['alert.firing', 'alertmanager:aisre'],
    ]);
  });

  it('adds a -2 suffix when the channel name is taken', async () => {
    const today = utcDate(new Date().toISOString());
    const taken = `inc-${today}-checkout-latency-high`;
    flow = await startSlackFlow({
      emulator: { channels: [{ id: INCIDENTS_CHANNEL, name: 'incidents' }, { name: taken }] },
    });
    const { emulator } = flow;
    const { id, channelId, card } = await openIncident(flow, {
      annotations: { summary: 'Checkout latency HIGH' },
    });

    const creates = emulator.callsTo('conversations.create');
    expect(
      creates.map((call) => [call.args.name, (call.response as { error?: string }).error ?? 'ok']),
    ).toEqual([
      [taken, 'name_taken'],
      [`${taken}-2`, 'ok'],
    ]);
    expect(emulator.channel(channelId)!.name).toBe(`${taken}-2`);
    expect(emulator.messages(taken)).toEqual([]);
    expect(card.thread_ts).toBeUndefined();
    expect((await incidentDetail(flow.service, id)).slack?.channelName).toBe(`${taken}-2`);
  });

  it('runs the incident in a thread under the announcement when channels may not be created', async () => {
    flow = await startSlackFlow({ beforeStart: (emulator) => emulator.setRestrictChannelCreation(true) });
    const { emulator, service } = flow;
    const id = await fireAlert(service);
    await service.aisre.outbox.drain();

    expect(emulator.callsTo('conversations.create').map((call) => call.response)).toEqual([
      { ok: false, error: 'restricted_action' },
    ]);
    expect(emulator.callsTo('conversations.invite')).toEqual([]);
    const [announcement, card] = emulator.messages(INCIDENTS_CHANNEL);
    expect(emulator.messages(INCIDENTS_CHANNEL)).toHaveLength(2);
    expect(announcement!.thread_ts).toBeUndefined();
    expect(JSON.stringify(announcement!.blocks)).not.toContain('Join <#');
    expect(card).toBe(findCard(emulator, INCIDENTS_CHANNEL, id));
    expect(card!.thread_ts).toBe(announcement!.ts);
    expect(emulator.callsTo('chat.postMessage')[1]!.args.thread_ts).toBe(announcement!.ts);
    expect(controlLabels(card!.blocks)).toContain('Acknowledge');
    expect((await incidentDetail(service, id)).slack).toEqual({
      mode: 'thread',
      channelId: INCIDENTS_CHANNEL,
      channelName: null,
    });

    // The threaded card is kept up to date in place too.
    const editsBefore = updatesOf(emulator, card!.ts).length;
    await service.aisre.incidents.acknowledge(id, { kind: 'slack', userId: 'U0ALICE' });
    await service.aisre.outbox.drain();
    expect(updatesOf(emulator, card!.ts)).toHaveLength(editsBefore + 1);
    expect(cardFields(card!.blocks).Status).toBe('👀 Acknowledged');
    expect(emulator.messages(INCIDENTS_CHANNEL)).toHaveLength(2);
  });

  it('starts while Slack is unreachable, keeps alerts through the outage and delivers them all later', async () => {
    flow = await startSlackFlow({ beforeStart: (emulator) => emulator.setOutage(true) });
    const { emulator, service } = flow;
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);

    const id = await fireAlert(service, { annotations: { summary: 'Vector store timeouts' } });
    // aisre tried, and Slack never answered.
    await emulator.waitFor((calls) => calls.find((call) => call.method === 'conversations.create'));
    // More happens while Slack is away: another alert joins, a responder raises the severity.
    const joined = await service.postAlerts(
      alertmanagerBody({
        alerts: [
          { name: 'EvalPassRateLow', fingerprint: 'aaaaaaaaaaaaaaa1' },
          { name: 'RetrievalRecallLow', fingerprint: 'aaaaaaaaaaaaaaa2' },
        ],
      }),
    );
    expect(joined.body).toMatchObject({ incidentId: id, newOccurrences: 1 });
    await service.aisre.incidents.changeSeverity(id, 'SEV1', { kind: 'slack', userId: 'U0BOB' });

    expect(emulator.calls.length).toBeGreaterThan(0);
    expect(emulator.calls.every((call) => call.status === null)).toBe(true);
    expect(emulator.messages(INCIDENTS_CHANNEL)).toEqual([]);
    expect([...emulator.channels.values()].map((channel) => channel.name)).toEqual(['incidents']);
    const stored = await incidentDetail(service, id);
    expect(stored.incident).toMatchObject({ status: 'triggered', severity: 'SEV1', alertsFiring: 2 });
    expect(stored.slack).toBeNull();

    emulator.setOutage(false);
    await service.aisre.outbox.drain(20_000);

    const detail = await incidentDetail(service, id);
    expect(detail.slack?.mode).toBe('channel');
    const channelId = detail.slack!.channelId;
    expect(emulator.callsTo('conversations.create').filter(succeeded)).toHaveLength(1);
    expect(emulator.messages(INCIDENTS_CHANNEL)).toHaveLength(1);
    expect(JSON.stringify(emulator.messages(INCIDENTS_CHANNEL)[0]!.blocks)).toContain(`<#${channelId}>`);
    expect(emulator.messages(channelId)).toHaveLength(1);
    const card = findCard(emulator, channelId, id)!;
    // Nothing that happened during the outage is missing from the card.
    expect(cardFields(card.blocks)).toMatchObject({
      Severity: '🔴 SEV1',
      Commander: '<@U0BOB>',
      Responders: '<@U0BOB>',
    });
    expect(JSON.stringify(card.blocks)).toContain('2 firing');
    expect(emulator.channel(channelId)!.members).toEqual(
      expect.arrayContaining(['U0ALICE', 'U0BOB', 'U0CAROL']),
    );
    expect(await metrics(service.url)).toMatch(/^aisre_slack_outbox_depth 0$/m);
  });

  it('holds back only the rate-limited channel, as long as Retry-After says, and posts once', async () => {
    flow = await startSlackFlow();
    const { emulator, service } = flow;
    // Two seconds, more than the worker's own first backoff (0.8–1.2 s): only honouring the
    // header makes the retry wait this long.
    emulator.failNext('chat.postMessage', { status: 429, retryAfter: 2 });
    const id = await fireAlert(service);
    await service.aisre.outbox.drain();

    const posts = emulator.callsTo('chat.postMessage');
    const { slack } = await incidentDetail(service, id);
    // The card goes to the incident's own channel, which Slack did not limit, without waiting.
    expect(posts.map((call) => [call.args.channel, call.status])).toEqual([
      [INCIDENTS_CHANNEL, 429],
      [slack!.channelId, 200],
      [INCIDENTS_CHANNEL, 200],
    ]);
    expect(posts[1]!.at - posts[0]!.at).toBeLessThan(1000);
    expect(posts[2]!.at - posts[0]!.at).toBeGreaterThanOrEqual(2000);
    expect(emulator.messages(INCIDENTS_CHANNEL)).toHaveLength(1);
    expect(emulator.callsTo('conversations.create')).toHaveLength(1);
    expect(findCard(emulator, slack!.channelId, id)).toBeDefined();
    expect(await metrics(service.url)).toContain(
      'aisre_slack_api_errors_total{method="chat.postMessage",error="ratelimited"} 1',
    );
  });

  it('spreads the messages waiting for a rate-limited channel out instead of retrying them all at once', async () => {
    // Slack-like: a burst of two, then about one message a second per channel.
    flow = await startSlackFlow({ emulator: { postMessageBurst: 2 } });
    const { emulator, service } = flow;
    const groups = ['a', 'b', 'c', 'd', 'e', 'f'];
    const ids: number[] = [];
    for (const group of groups) {
      const response = await service.postAlerts(
        alertmanagerBody({
          groupKey: `{}:{alertname="Storm${group}"}`,
          alerts: [{ name: `Storm${group}`, fingerprint: `${group.repeat(15)}1` }],
        }),
      );
      ids.push(response.body.incidentId as number);
    }
    await service.aisre.outbox.drain(30_000);

    const posts = emulator.callsTo('chat.postMessage');
    const announcements = posts.filter((call) => call.args.channel === INCIDENTS_CHANNEL);
    expect(emulator.messages(INCIDENTS_CHANNEL)).toHaveLength(groups.length);
    // Each refusal holds the line back once; the waiting announcements then go one a second
    // (retrying them all at once, as a paused worker did, met a refusal for nearly each). Before
    // Slack's first refusal, up to an outbox pass's four operations can already be on their way.
    const refused = announcements.filter((call) => call.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeLessThanOrEqual(4);
    const [firstRefusal] = refused;
    const afterIt = announcements.filter((call) => call.at > firstRefusal!.at + 500);
    expect(afterIt.every(succeeded), 'the waiting announcements, spaced out, all go through').toBe(true);
    // Incidents whose announcement had to wait got their channel and card meanwhile.
    let cardsFirst = 0;
    for (const id of ids) {
      const { slack } = await incidentDetail(service, id);
      const card = posts.find((call) => call.args.channel === slack!.channelId && succeeded(call))!;
      const announced = announcements.find(
        (call) => succeeded(call) && String(call.args.text).includes(`INC-${id} `),
      )!;
      if (card.at < announced.at) cardsFirst += 1;
    }
    expect(cardsFirst).toBeGreaterThanOrEqual(1);
    expect(await metrics(service.url)).toMatch(/^aisre_slack_outbox_dead 0$/m);
  });

  it('coalesces a burst of changes into a few card edits that end on the final state', async () => {
    flow = await startSlackFlow();
    const { emulator, service } = flow;
    const { id, card } = await openIncident(flow);
    const editsBefore = updatesOf(emulator, card.ts).length;
    const announcement = emulator.messages(INCIDENTS_CHANNEL)[0]!;
    const announcementEditsBefore = updatesOf(emulator, announcement.ts).length;

    const severities: Severity[] = [
      ...Array.from({ length: 19 }, (_, i): Severity => (i % 2 === 0 ? 'SEV1' : 'SEV2')),
      'SEV4',
    ];
    const burstStarted = Date.now();
    for (const severity of severities) {
      const result = await service.aisre.incidents.changeSeverity(id, severity, { kind: 'api' });
      expect(result.changed).toBe(true);
    }
    // About one edit per second of burst, plus the final state: never one edit per change.
    const editBudget = Math.ceil((Date.now() - burstStarted) / 1000) + 2;
    // Embedded PGlite under a parallel test run is slow; give delivery time rather than race it.
    await service.aisre.outbox.drain(30_000);

    const timeline = (await incidentDetail(service, id)).timeline;
    expect(timeline.filter((entry) => entry.kind === 'severity.changed')).toHaveLength(20);
    const edits = updatesOf(emulator, card.ts).slice(editsBefore);
    expect(edits.length).toBeGreaterThanOrEqual(1);
    expect(edits.length).toBeLessThanOrEqual(Math.min(editBudget, severities.length / 2));
    expect(cardFields(edits.at(-1)!.args.blocks).Severity).toBe('🔵 SEV4');
    expect(cardFields(card.blocks).Severity).toBe('🔵 SEV4');
    expect(element(card.blocks, 'incident.change_severity').initial_option!.value).toBe('SEV4');
    // Slack allows about one edit per message per second; the edits respect that.
    for (let i = 1; i < edits.length; i++) {
      expect(edits[i]!.at - edits[i - 1]!.at).toBeGreaterThanOrEqual(900);
    }
    expect(updatesOf(emulator, announcement.ts).length - announcementEditsBefore).toBeLessThanOrEqual(
      Math.min(editBudget, severities.length / 2),
    );
    expect(announcement.text).toContain('SEV4');
    expect(emulator.callsTo('chat.postMessage')).toHaveLength(2);
  });

  it('edits a busy card for alert tallies only every few seconds, for a person at once, and ends exact', async () => {
    flow = await startSlackFlow();
    const { emulator, service } = flow;
    const { id, card } = await openIncident(flow);
    const posted = emulator
      .callsTo('chat.postMessage')
      .find((call) => (call.response as { ts?: string }).ts === card.ts)!;

    // Alerts join one by one for about three seconds: only the tallies and the alert list change.
    const alerts = [{ name: 'EvalPassRateLow', fingerprint: 'aaaaaaaaaaaaaaa1' }];
    for (let n = 2; n <= 7; n++) {
      alerts.push({ name: 'EvalPassRateLow', fingerprint: `aaaaaaaaaaaaaab${n}` });
      expect((await service.postAlerts(alertmanagerBody({ alerts }))).status).toBe(200);
      await sleep(500);
    }
    await service.aisre.outbox.drain(30_000);

    const tallyEdits = updatesOf(emulator, card.ts);
    expect(tallyEdits.length).toBeGreaterThanOrEqual(1);
    expect(tallyEdits.length).toBeLessThan(6);
    const times = [posted.at, ...tallyEdits.map((call) => call.at)];
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(4900);
    expect(JSON.stringify(card.blocks)).toContain('7 firing');

    // Acknowledging is not held back by the tallies' pace: it shows a second after the last edit.
    await service.aisre.incidents.acknowledge(id, { kind: 'slack', userId: 'U0ALICE' });
    const acknowledged = await waitForUpdate(
      emulator,
      card.ts,
      (blocks) => cardFields(blocks).Status === '👀 Acknowledged',
    );
    expect(acknowledged.at - tallyEdits.at(-1)!.at).toBeLessThan(4500);
  });

  it('does not lose a change made while the card is being edited', async () => {
    flow = await startSlackFlow({ proxy: true });
    const { emulator, service, proxy } = flow;
    const { id, card } = await openIncident(flow);
    const editsBefore = updatesOf(emulator, card.ts).length;
    const edit = proxy!.holdNext((method, form) => method === 'chat.update' && form.get('ts') === card.ts);
    await service.aisre.incidents.changeSeverity(id, 'SEV1', { kind: 'api' });
    await edit.reached;
    // Slack has not answered the SEV1 edit yet when the severity changes again.
    await service.aisre.incidents.changeSeverity(id, 'SEV2', { kind: 'api' });
    edit.release();
    await service.aisre.outbox.drain();

    expect((await incidentDetail(service, id)).incident.severity).toBe('SEV2');
    const edits = updatesOf(emulator, card.ts).slice(editsBefore);
    expect(edits.map((call) => cardFields(call.args.blocks).Severity)).toEqual(['🔴 SEV1', '🟠 SEV2']);
    expect(cardFields(card.blocks).Severity).toBe('🟠 SEV2');
    expect(await metrics(service.url)).toMatch(/^aisre_slack_outbox_depth 0$/m);
  });

  it('invites every responder it can when a user group or a user does not exist', async () => {
    flow = await startSlackFlow({ env: { SLACK_RESPONDERS: 'U0ALICE,U0GONE,S0GONE,S0ONCALL' } });
    const { emulator, service } = flow;
    const { channelId } = await openIncident(flow);

    expect(emulator.channel(channelId)!.members.sort()).toEqual(['U0ALICE', 'U0BOB', 'U0BOT', 'U0CAROL']);
    expect(emulator.messages(INCIDENTS_CHANNEL)).toHaveLength(1);
    expect(emulator.messages(channelId)).toHaveLength(1);
    expect(await metrics(service.url)).toMatch(/^aisre_slack_outbox_dead 0$/m);
  });

  it('never lets alert text ping people or plant links', async () => {
    flow = await startSlackFlow();
    const { emulator, service } = flow;
    const { id, channelId } = await openIncident(flow, {
      name: 'Eval<!here>Failing',
      labels: { severity: 'critical', model: '<!channel>', team: '<https://evil.example|click>' },
      annotations: {
        summary: '<!channel> answers are wrong <https://evil.example|click>',
        description: 'Ask <@U0CAROL> or <!everyone>, see <https://evil.example|click> & retry',
        runbook_url: 'https://evil.example|click>',
      },
    });
    // Every surface that shows incident text: card, announcement, App Home, list and status replies.
    const list = responseUrl(emulator);
    await flow.slack(
      slashCommandBody({
        text: 'list',
        userId: 'U0ALICE',
        channelId: INCIDENTS_CHANNEL,
        responseUrl: list.url,
      }),
    );
    const status = responseUrl(emulator);
    await flow.slack(
      slashCommandBody({ text: 'status', userId: 'U0ALICE', channelId, responseUrl: status.url }),
    );
    await flow.slack(eventBody({ event: { type: 'app_home_opened', user: 'U0ALICE', tab: 'home' } }));
    await Promise.all([list.reply(), status.reply()]);
    await emulator.waitFor((calls) => calls.find((call) => call.method === 'views.publish'));
    await service.aisre.incidents.acknowledge(id, { kind: 'slack', userId: 'U0ALICE' });
    await service.aisre.outbox.drain();

    const sent = [
      ...emulator.calls
        .filter((call) => ['chat.postMessage', 'chat.update', 'views.publish'].includes(call.method))
        .map((call) => call.args),
      ...emulator.responses.map((response) => response.body),
    ];
    expect(sent.length).toBeGreaterThanOrEqual(7);
    const parsed = JSON.stringify(sent.map(withoutPlainText));
    for (const raw of ['<!channel>', '<!here>', '<!everyone>', '<@U0CAROL>', '<https://evil']) {
      expect(parsed).not.toContain(raw);
    }
    // The text is still shown, escaped, rather than dropped.
    expect(parsed).toContain('&lt;!channel&gt; answers are wrong &lt;https://evil.example|click&gt;');
    expect(parsed).toContain('model=&lt;!channel&gt;');
    expect(parsed).toContain('Ask &lt;@U0CAROL&gt; or &lt;!everyone&gt;');
    // Raw text only ever appears as plain_text (the card's header), which Slack does not parse.
    const card = findCard(emulator, channelId, id)!;
    expect(blocksOf(card.blocks)[0]).toMatchObject({
      type: 'header',
      text: {
        type: 'plain_text',
        text: `INC-${id} · <!channel> answers are wrong <https://evil.example|click>`,
      },
    });
    expect(emulator.callsTo('conversations.create')[0]!.args.name).toMatch(/^inc-\d{8}-[a-z0-9-]+$/);
    expect(await listIncidents(service)).toHaveLength(1);
  });

  it('dead-letters a message Slack refuses as invalid_blocks instead of retrying it', async () => {
    flow = await startSlackFlow();
    const { emulator, service } = flow;
    // Slack refuses the same blocks every time they are sent.
    emulator.failNext('chat.postMessage', { error: 'invalid_blocks' }, 100);
    await fireAlert(service);
    // A retried operation would post again within this drain (the first backoff is about a second).
    await service.aisre.outbox.drain(5000);

    const posts = emulator.callsTo('chat.postMessage');
    expect(posts.length).toBeGreaterThanOrEqual(1);
    expect(posts.every((call) => (call.response as { error?: string }).error === 'invalid_blocks')).toBe(
      true,
    );
    expect(emulator.messages(INCIDENTS_CHANNEL)).toEqual([]);
    const text = await metrics(service.url);
    // Each refused operation was tried exactly once, then set aside: one refused announcement
    // (logged, it does not hold the incident back) and one refused card per operation.
    expect(text).toMatch(/^aisre_slack_outbox_depth 0$/m);
    const dead = Number(/^aisre_slack_outbox_dead (\d+)$/m.exec(text)?.[1]);
    expect(dead).toBeGreaterThanOrEqual(1);
    expect(posts).toHaveLength(2 * dead);
    expect(text).toMatch(
      new RegExp(
        `^aisre_slack_api_errors_total\\{method="chat\\.postMessage",error="invalid_blocks"\\} ${posts.length}$`,
        'm',
      ),
    );
  });

  it('brings an incident fully into Slack with its next change after a one-off refusal', async () => {
    flow = await startSlackFlow();
    const { emulator, service } = flow;
    emulator.failNext('chat.postMessage', { error: 'invalid_blocks' });
    const id = await fireAlert(service);
    await service.aisre.outbox.drain();
    await service.aisre.incidents.acknowledge(id, { kind: 'slack', userId: 'U0BOB' });
    await service.aisre.outbox.drain();

    const { slack } = await incidentDetail(service, id);
    expect(slack?.mode).toBe('channel');
    expect(emulator.messages(INCIDENTS_CHANNEL)).toHaveLength(1);
    const card = findCard(emulator, slack!.channelId, id)!;
    expect(cardFields(card.blocks).Status).toBe('👀 Acknowledged');
    expect(emulator.channel(slack!.channelId)!.members).toEqual(
      expect.arrayContaining(['U0ALICE', 'U0BOB', 'U0CAROL']),
    );
    // The refused announcement did not hold the channel and card back, so nothing was set aside.
    expect(await metrics(service.url)).toMatch(/^aisre_slack_outbox_dead 0$/m);
  });
});
