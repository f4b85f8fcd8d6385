import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { SlackEmulator } from '../../test/support/slack-emulator.js';
import { blockActionsBody, postSigned, slashCommandBody } from '../../test/support/slack-requests.js';
import { KeepAliveClient, postAndHangUp } from './http.js';
import { countBy, type LatencySummary, processMemory, round, summarize } from './stats.js';
import { createRng, type Delivery, type Workload } from './workload.js';

/**
 * An alert storm as Alertmanager sends it, for the storm benchmark, the replica benchmark and
 * their scaled-down tests: `alerts` alerts spread evenly over `seconds` (open loop), in
 * notifications of the workload's groups with their byte-identical repeats, and retries: a share
 * of notifications is first sent on a connection that hangs up before the answer (a timeout),
 * then sent again, as Alertmanager does, until aisre answers 2xx. With several aisre processes,
 * notifications go round robin, and a share goes to all of them at once (two Alertmanagers in a
 * cluster notifying the same group). Meanwhile a person uses Slack: `/aisre list` and
 * Acknowledge clicks, signed as Slack signs them, spread over the processes too.
 */
export interface StormOptions {
  workload: Workload;
  /** aisre base URLs; notifications and Slack requests go round robin. */
  targets: readonly string[];
  alertmanagerToken: string;
  alerts: number;
  seconds: number;
  /** Share of notifications whose first attempt hangs up before the answer and is sent again. */
  retryRatio: number;
  /** Share of notifications sent to every target at once (only with several). */
  everyTargetRatio?: number;
  seed: number;
  slack?: {
    emulator: SlackEmulator;
    signingSecret: string;
    channelId: string;
    /** One interaction this often, alternating `/aisre list` and Acknowledge. */
    everyMs: number;
  };
  /** aisre processes whose resident memory is sampled while the storm runs. */
  memoryPids?: readonly number[];
}

/** Slack's deadline for acknowledging an interaction. */
export const SLACK_ACK_DEADLINE_MS = 3000;

/**
 * Slack Web API calls an incident may cost during a storm: its channel, card and announcement,
 * plus edits coalesced to about one a second per message (`npm run bench:intake` measures ~7).
 */
export const MAX_SLACK_CALLS_PER_INCIDENT = 12;

export interface InteractionResult {
  count: number;
  statuses: Record<string, number>;
  /** HTTP answer (Bolt's ack): what Slack's 3 s deadline is about. */
  ack: LatencySummary;
  /** Until the private reply reached the response_url (`/aisre list` only), ±5 ms. */
  reply: LatencySummary;
  unanswered: number;
  overDeadline: number;
}

export interface StormResult {
  seconds: number;
  notifications: number;
  /** Notifications that went to every target at once. */
  toEveryTarget: number;
  attempts: number;
  hungUp: number;
  retriesAfterError: number;
  accepted: number;
  /** Notifications never answered 2xx after every retry. */
  failed: number;
  alertsSent: number;
  alertsPerSecond: number;
  notificationsPerSecond: number;
  /** Every attempt that got an answer, from its sending. */
  latency: LatencySummary;
  statuses: Record<string, number>;
  kinds: Record<string, number>;
  senderLatenessMs: LatencySummary;
  interactions: { list: InteractionResult; acknowledge: InteractionResult } | undefined;
  /** Largest resident memory sampled per process during the storm, MiB. */
  peakRssMb: number[];
  errors: string[];
}

const MAX_ATTEMPTS = 8;
const HANG_UP_AFTER_MS = [0, 2, 10];

/** Runs the storm and returns what was sent and how aisre answered; the workload records what it accepted. */
export async function runStorm(options: StormOptions): Promise<StormResult> {
  const rng = createRng(options.seed ^ 0x5eed);
  const headers = { authorization: `Bearer ${options.alertmanagerToken}` };
  const clients = options.targets.map((url) => new KeepAliveClient(url, headers, Number.POSITIVE_INFINITY));
  const samples: number[] = [];
  const statuses: Record<string, number> = {};
  const kinds: string[] = [];
  const lateness: number[] = [];
  const errors: string[] = [];
  const openedIncidents: number[] = [];
  const counts = {
    notifications: 0,
    toEveryTarget: 0,
    attempts: 0,
    hungUp: 0,
    retriesAfterError: 0,
    accepted: 0,
    failed: 0,
    alertsSent: 0,
  };
  const note = (error: string) => {
    if (errors.length < 5) errors.push(error);
  };

  /** One attempt until a 2xx answer; true when aisre accepted it. */
  const attempt = async (client: KeepAliveClient, delivery: Delivery): Promise<boolean> => {
    for (let n = 0; n < MAX_ATTEMPTS; n++) {
      if (n > 0) {
        counts.retriesAfterError += 1;
        await delay(50 * 2 ** Math.min(n, 5));
      }
      counts.attempts += 1;
      const sent = performance.now();
      try {
        const response = await client.post('/alertmanager', delivery.body);
        samples.push(response.endedAt - sent);
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
        if (response.status >= 200 && response.status < 300) {
          const answer = JSON.parse(response.body) as { opened: boolean; incidentId: number | null };
          if (answer.opened && answer.incidentId !== null) openedIncidents.push(answer.incidentId);
          return true;
        }
        note(`${response.status} ${response.body.slice(0, 200)}`);
        // Alertmanager does not retry a 4xx.
        if (response.status < 500) return false;
      } catch (err) {
        statuses.network_error = (statuses.network_error ?? 0) + 1;
        note(String(err));
      }
    }
    return false;
  };

  const send = async (delivery: Delivery, index: number) => {
    try {
      const every = options.targets.length > 1 && rng() < (options.everyTargetRatio ?? 0);
      const chosen = every ? clients : [clients[index % clients.length]!];
      if (every) counts.toEveryTarget += 1;
      const hangUp = rng() < options.retryRatio;
      const afterMs = HANG_UP_AFTER_MS[Math.floor(rng() * HANG_UP_AFTER_MS.length)]!;
      const outcomes = await Promise.all(
        chosen.map(async (client, i) => {
          if (hangUp) {
            counts.attempts += 1;
            counts.hungUp += 1;
            const target = every ? options.targets[i]! : options.targets[index % clients.length]!;
            await postAndHangUp(target, '/alertmanager', headers, delivery.body, afterMs);
            await delay(20);
          }
          return attempt(client, delivery);
        }),
      );
      if (outcomes.some(Boolean)) {
        delivery.accept();
        counts.accepted += 1;
      } else counts.failed += 1;
    } finally {
      delivery.release();
    }
  };

  const peakRss = (options.memoryPids ?? []).map(() => 0);
  let running = true;
  const memoryLoop = (async () => {
    while (running) {
      (options.memoryPids ?? []).forEach((pid, i) => {
        peakRss[i] = Math.max(peakRss[i]!, processMemory(pid)?.rss ?? 0);
      });
      await delay(250);
    }
  })();
  const slack = options.slack
    ? interactions(options.slack, options.targets, openedIncidents, () => running)
    : undefined;

  const started = performance.now() + 20;
  const durationMs = options.seconds * 1000;
  const inFlight: Promise<void>[] = [];
  // Each notification is due when the alerts sent before it reach its share of the storm.
  while (counts.alertsSent < options.alerts) {
    const scheduled = started + (counts.alertsSent / options.alerts) * durationMs;
    const wait = scheduled - performance.now();
    if (wait >= 1) await delay(Math.floor(wait));
    const delivery = options.workload.next() ?? options.workload.anyRepeat();
    if (!delivery) break;
    lateness.push(Math.max(0, performance.now() - scheduled));
    kinds.push(delivery.kind);
    counts.alertsSent += delivery.alerts;
    inFlight.push(send(delivery, counts.notifications));
    counts.notifications += 1;
  }
  await Promise.all(inFlight);
  const seconds = (performance.now() - started) / 1000;
  running = false;
  const [interactionResult] = await Promise.all([slack, memoryLoop]);
  for (const client of clients) client.close();
  return {
    seconds: round(seconds, 1),
    ...counts,
    alertsPerSecond: Math.round(counts.alertsSent / seconds),
    notificationsPerSecond: round(counts.notifications / seconds, 1),
    latency: summarize(samples),
    statuses,
    kinds: countBy(kinds, (kind) => kind),
    senderLatenessMs: summarize(lateness),
    interactions: interactionResult,
    peakRssMb: peakRss,
    errors,
  };
}

/** A person using Slack while the storm runs, until `running()` turns false. */
async function interactions(
  slack: NonNullable<StormOptions['slack']>,
  targets: readonly string[],
  openedIncidents: readonly number[],
  running: () => boolean,
): Promise<{ list: InteractionResult; acknowledge: InteractionResult }> {
  const sent = new Map<string, number>();
  const replies = new Map<string, number>();
  const tallies = { list: newTally(), acknowledge: newTally() };
  const inFlight: Promise<void>[] = [];
  let seenResponses = slack.emulator.responses.length;
  let acknowledged = 0;
  // Replies are posted to the emulator in this process: a tight poll times them closely enough.
  const collectReplies = () => {
    const responses = slack.emulator.responses;
    for (; seenResponses < responses.length; seenResponses++) {
      const id = responses[seenResponses]!.id;
      if (sent.has(id) && !replies.has(id)) replies.set(id, performance.now());
    }
  };
  const watcher = (async () => {
    let deadline = Number.POSITIVE_INFINITY;
    while (running() || (replies.size < sent.size && performance.now() < deadline)) {
      collectReplies();
      if (!running() && !Number.isFinite(deadline)) deadline = performance.now() + 2 * SLACK_ACK_DEADLINE_MS;
      await delay(5);
    }
    collectReplies();
  })();

  for (let n = 0; running(); n++) {
    const target = targets[n % targets.length]!;
    const listing = n % 2 === 0 || openedIncidents.length === 0;
    const responseId = `RSTORM${randomBytes(4).toString('hex')}`;
    const responseUrl = slack.emulator.responseUrl(responseId);
    const body = listing
      ? slashCommandBody({ text: 'list', userId: 'U0STORM', channelId: slack.channelId, responseUrl })
      : blockActionsBody({
          userId: 'U0STORM',
          channelId: slack.channelId,
          messageTs: '1700000000.000100',
          responseUrl,
          actions: [
            {
              action_id: 'incident.acknowledge',
              value: String(openedIncidents[acknowledged++ % openedIncidents.length]),
            },
          ],
        });
    const tally = listing ? tallies.list : tallies.acknowledge;
    const started = performance.now();
    if (listing) sent.set(responseId, started);
    inFlight.push(
      postSigned(`${target}/slack/events`, { body, signingSecret: slack.signingSecret }).then(
        async (response) => {
          await response.arrayBuffer();
          tally.ack.push(performance.now() - started);
          tally.statuses[response.status] = (tally.statuses[response.status] ?? 0) + 1;
        },
        () => {
          tally.statuses.network_error = (tally.statuses.network_error ?? 0) + 1;
        },
      ),
    );
    await delay(slack.everyMs);
  }
  await watcher;
  await Promise.all(inFlight);
  const replyTimes = [...sent].flatMap(([id, at]) => {
    const reply = replies.get(id);
    return reply === undefined ? [] : [reply - at];
  });
  return {
    list: interactionResult(tallies.list, replyTimes, sent.size - replyTimes.length),
    acknowledge: interactionResult(tallies.acknowledge, [], 0),
  };
}

interface InteractionTally {
  ack: number[];
  statuses: Record<string, number>;
}

const newTally = (): InteractionTally => ({ ack: [], statuses: {} });

function interactionResult(
  tally: InteractionTally,
  replies: number[],
  unanswered: number,
): InteractionResult {
  return {
    count: Object.values(tally.statuses).reduce((sum, n) => sum + n, 0),
    statuses: tally.statuses,
    ack: summarize(tally.ack),
    reply: summarize(replies),
    unanswered,
    overDeadline: tally.ack.filter((ms) => ms >= SLACK_ACK_DEADLINE_MS).length,
  };
}

/** The ways a storm's Slack use missed its targets, in words; empty when none did. */
export function interactionFailures(result: StormResult): string[] {
  const failures: string[] = [];
  for (const [name, interaction] of Object.entries(result.interactions ?? {})) {
    const notOk = interaction.count - (interaction.statuses[200] ?? 0);
    if (notOk > 0) failures.push(`${notOk} ${name} interactions were not answered 200`);
    if (interaction.overDeadline > 0) {
      failures.push(`${interaction.overDeadline} ${name} interactions took Slack's 3 s deadline or longer`);
    }
    if (interaction.unanswered > 0) failures.push(`${interaction.unanswered} ${name} replies never arrived`);
  }
  if (result.failed > 0) failures.push(`${result.failed} notifications were never accepted`);
  return failures;
}

/**
 * The same button click, signed as Slack signs it, posted to every aisre in `targets` at the same
 * moment (a person's click retried onto another replica, or two people at once); returns the
 * HTTP statuses.
 */
export function clickOnEvery(
  targets: readonly string[],
  click: {
    signingSecret: string;
    channelId: string;
    responseUrl: string;
    userId: string;
    actionId: string;
    value: string;
  },
): Promise<number[]> {
  const body = blockActionsBody({
    userId: click.userId,
    channelId: click.channelId,
    messageTs: '1700000000.000100',
    responseUrl: click.responseUrl,
    actions: [{ action_id: click.actionId, value: click.value }],
  });
  return Promise.all(
    targets.map(async (url) => {
      const response = await postSigned(`${url}/slack/events`, { body, signingSecret: click.signingSecret });
      await response.arrayBuffer();
      return response.status;
    }),
  );
}
