import { setTimeout as delay } from 'node:timers/promises';
import { describe, it } from 'vitest';
import { alertmanagerBody } from '../support/alertmanager-payloads.js';
import { openScenarioIncident, RUNBOOKS_DIR, scenarioNamed } from '../support/diagnosis-support.js';
import { eventually } from '../support/polling.js';
import { startPrometheusStandIn } from '../support/prometheus-stand-in.js';
import type { RecordedCall, SlackWindowFailure } from '../support/slack-emulator.js';
import {
  cardFields,
  findCard,
  incidentDetail,
  openIncident,
  type SlackFlow,
  startSlackFlow,
  succeeded,
  updatesOf,
} from '../support/slack-flow.js';
import { TEST_DB_KIND } from '../support/test-database.js';
import { INCIDENTS_CHANNEL } from '../support/test-service.js';

/** The outage the issue asks for: Slack refuses everything for a whole minute, in real time. */
const OUTAGE_MS = 60_000;

const text = (blocks: unknown) => JSON.stringify(blocks ?? []);

/** The scope a Slack rate limit applies to: chat.postMessage per channel, other methods per workspace. */
const scopeOf = (call: RecordedCall) =>
  call.method === 'chat.postMessage' ? `${call.method} ${String(call.args.channel)}` : call.method;

/** Calls made to a scope before the Retry-After of an earlier 429 in that scope had run out. */
function earlyCalls(calls: readonly RecordedCall[]): string[] {
  const early: string[] = [];
  for (const [index, refused] of calls.entries()) {
    if (refused.status !== 429 || refused.retryAfter === undefined) continue;
    const until = refused.at + refused.retryAfter * 1000;
    for (const next of calls.slice(index + 1)) {
      if (scopeOf(next) === scopeOf(refused) && next.at < until) {
        early.push(`${scopeOf(next)} ${until - next.at} ms early`);
      }
    }
  }
  return early;
}

async function metrics(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

const OUTAGES: Array<{ name: string; failure: SlackWindowFailure }> = [
  { name: 'HTTP 503 for every call', failure: { status: 503 } },
  // Retry-After counts down to the end of the minute, as a workspace-wide limit's would.
  { name: '429 ratelimited with Retry-After for every call', failure: { status: 429 } },
];

// The two outages are independent services on their own databases: side by side, the file takes
// about one outage's time.
describe.concurrent(`Slack down for a minute (${TEST_DB_KIND})`, { timeout: 240_000 }, () => {
  for (const { name, failure } of OUTAGES) {
    it(`${name}: nothing is lost, everything arrives in order afterwards`, async ({ expect }) => {
      const prom = await startPrometheusStandIn();
      let flow: SlackFlow | undefined;
      try {
        flow = await startSlackFlow({
          env: { PROMETHEUS_URL: prom.url, AISRE_RUNBOOKS_DIR: RUNBOOKS_DIR },
        });
        const { emulator, service } = flow;
        // An incident already in Slack before the outage: its card and announcement are edited later.
        const before = await openIncident(flow);
        emulator.reset();

        const outageStarted = Date.now();
        emulator.failFor(OUTAGE_MS, failure);
        // During the outage: a responder acknowledges and raises the first incident; two more open,
        // one of them diagnosed on its own (three thread messages in order), the other joined by a
        // second alert.
        await service.aisre.incidents.acknowledge(before.id, { kind: 'slack', userId: 'U0ALICE' });
        await service.aisre.incidents.changeSeverity(before.id, 'SEV1', { kind: 'slack', userId: 'U0ALICE' });
        const diagnosed = await openScenarioIncident(
          service.url,
          prom,
          scenarioNamed('index-job-failing'),
          'search-api',
        );
        const started = await service.aisre.diagnosis.start(diagnosed.incidentId, {
          kind: 'slack',
          userId: 'U0BOB',
        });
        const joined = alertmanagerBody({
          groupKey: '{}:{alertname="VectorStoreTimeouts"}',
          alerts: [
            { name: 'VectorStoreTimeouts', fingerprint: 'bbbbbbbbbbbbbbb1' },
            { name: 'VectorStoreTimeouts', fingerprint: 'bbbbbbbbbbbbbbb2' },
          ],
        });
        const first = await service.postAlerts({ ...joined, alerts: joined.alerts.slice(0, 1) });
        const second = await service.postAlerts(joined);
        expect([first.status, second.status]).toEqual([200, 200]);
        const joinedId = first.body.incidentId as number;
        expect(second.body).toMatchObject({ incidentId: joinedId, newOccurrences: 1 });
        const opened = [diagnosed.incidentId, joinedId];
        // The diagnosis does not wait for Slack.
        const session = await service.aisre.diagnosis.settled(started.session!.id, 20_000);
        expect(session.status).toBe('concluded');

        // Slack said no to everything while it was down, and nothing showed there.
        await delay(outageStarted + OUTAGE_MS - Date.now());
        const during = emulator.calls.filter((call) => call.at < outageStarted + OUTAGE_MS);
        expect(during.length).toBeGreaterThan(0);
        expect(during.filter(succeeded)).toEqual([]);
        expect(emulator.messages(INCIDENTS_CHANNEL)).toHaveLength(1);

        // Then everything arrives: an announcement, a channel and a card for each new incident, the
        // diagnosis thread, and the first incident's edits.
        const channelOf = async (id: number) => (await incidentDetail(service, id)).slack?.channelId;
        const arrived = await eventually(
          'every message after the outage',
          async () => {
            if (emulator.messages(INCIDENTS_CHANNEL).length < 3) return undefined;
            for (const id of opened) {
              const channel = await channelOf(id);
              if (!channel || !findCard(emulator, channel, id)) return undefined;
            }
            const channel = (await channelOf(diagnosed.incidentId))!;
            const card = findCard(emulator, channel, diagnosed.incidentId)!;
            const thread = emulator.messages(channel).filter((m) => m.thread_ts === card.ts);
            const status = cardFields(findCard(emulator, before.channelId, before.id)!.blocks).Status;
            const announcement = emulator.messages(INCIDENTS_CHANNEL)[0]!;
            const done =
              thread.length === 3 &&
              text(thread[2]!.blocks).includes('index') &&
              status === '👀 Acknowledged' &&
              announcement.text.includes('SEV1') &&
              text(findCard(emulator, (await channelOf(joinedId))!, joinedId)!.blocks).includes('2 firing');
            return done ? Date.now() : undefined;
          },
          180_000,
        );
        const recoveredAfterMs = arrived - (outageStarted + OUTAGE_MS);
        // At most one more try each after Slack is back: the outbox's backoff tops out at 30 s
        // (+20% jitter), and the rest is delivery work, with room for a loaded CI machine.
        expect(recoveredAfterMs).toBeLessThan(45_000);
        const refused = emulator.calls.filter((call) => !succeeded(call));
        console.info(
          `[fault] Slack ${name} for ${OUTAGE_MS / 1000} s (${TEST_DB_KIND}): everything arrived ` +
            `${(recoveredAfterMs / 1000).toFixed(1)} s after Slack came back; ${refused.length} calls refused, ` +
            `${emulator.calls.length - refused.length} succeeded`,
        );

        // Nothing lost, nothing doubled.
        await service.aisre.outbox.drain(30_000);
        const exported = await metrics(service.url);
        expect(exported).toMatch(/^aisre_slack_outbox_depth 0$/m);
        expect(exported).toMatch(/^aisre_slack_outbox_dead 0$/m);
        expect(emulator.messages(INCIDENTS_CHANNEL)).toHaveLength(3);
        expect(emulator.callsTo('conversations.create').filter(succeeded)).toHaveLength(2);
        for (const id of opened) {
          const channel = (await channelOf(id))!;
          expect(emulator.messages(channel).filter((m) => !m.thread_ts)).toHaveLength(1);
        }
        // The first incident: its card was never posted again, and its last edit is the final state.
        expect(emulator.messages(before.channelId).filter((m) => !m.thread_ts)).toHaveLength(1);
        const edits = updatesOf(emulator, before.card.ts);
        expect(edits.length).toBeGreaterThanOrEqual(1);
        expect(cardFields(edits.at(-1)!.args.blocks)).toMatchObject({
          Status: '👀 Acknowledged',
          Severity: '🔴 SEV1',
        });

        // The diagnosis thread in step order, each step posted once.
        const channel = (await channelOf(diagnosed.incidentId))!;
        const card = findCard(emulator, channel, diagnosed.incidentId)!;
        const threadPosts = emulator
          .callsTo('chat.postMessage')
          .filter(
            (call) => call.args.channel === channel && call.args.thread_ts === card.ts && succeeded(call),
          );
        expect(threadPosts.map((call) => String(call.args.text))).toEqual([
          expect.stringMatching(/^Diagnosis step 1: Which layer failed\?/),
          expect.stringMatching(/^Diagnosis step 2: Retrieval - what broke it\?/),
          expect.stringMatching(/^Diagnosis concluded: retrieval layer\./),
        ]);
        // Each incident announced once (their order across incidents is not promised).
        const announced = emulator.messages(INCIDENTS_CHANNEL).map((m) => m.text);
        for (const id of [before.id, ...opened]) {
          expect(announced.filter((line) => line.includes(`INC-${id} `))).toHaveLength(1);
        }

        // Retry-After was honoured: no call in a limited scope before the time Slack gave.
        expect(earlyCalls(emulator.calls)).toEqual([]);
        if (failure.status === 429) {
          expect(refused.every((call) => call.status === 429 && call.retryAfter !== undefined)).toBe(true);
        }
      } finally {
        await flow?.dispose();
        await prom.close();
      }
    });
  }
});
