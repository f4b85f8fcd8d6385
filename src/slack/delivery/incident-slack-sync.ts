import { createHash } from 'node:crypto';
import type { ActionRun } from '../../actions/action-run.js';
import type { Recommendations } from '../../actions/action-service.js';
import type { DiagnosisSession, DiagnosisStep } from '../../diagnosis/diagnosis.js';
import { retryWhileUnavailable } from '../../errors.js';
import type { AlertOccurrence, Incident } from '../../incidents/incident.js';
import type { Clock } from '../../incidents/ports.js';
import type { Logger } from '../../logger.js';
import type { PostmortemStore } from '../../postmortems/ports.js';
import { type ActionCatalogEntry, actionRunMessage } from '../blocks/action-run.js';
import { diagnosisStepMessage } from '../blocks/diagnosis-step.js';
import { incidentAnnouncementMessage } from '../blocks/incident-announcement.js';
import { CARD_ALERT_LINES, incidentCardMessage } from '../blocks/incident-card.js';
import { postmortemMessage } from '../blocks/postmortem.js';
import type { SlackMessage } from '../blocks/types.js';
import { incidentChannelName } from '../channel-name.js';
import { CHANNEL_CREATION_FORBIDDEN, SlackCallError, type SlackGateway } from '../slack-gateway.js';
import type { IncidentChannel, MessageRef, OutboxOp, SlackDeliveryStore } from './delivery-store.js';
import { rateLimitScope, SlackRateLimits } from './slack-rate-limits.js';

/**
 * Thrown to put an operation back in the queue until `until` without counting a failure. It
 * carries the refs of the messages the operation edited before it had to wait.
 */
export class DeferDelivery extends Error {
  constructor(
    readonly until: Date,
    readonly edited: readonly MessageRef[] = [],
  ) {
    super(`deferred until ${until.toISOString()}`);
    this.name = 'DeferDelivery';
  }
}

/** Slack allows about one update per second per message; bursts wait and coalesce. */
const MIN_UPDATE_INTERVAL_MS = 1000;
/**
 * How long after a message's last edit an edit that only moves alert tallies waits. In an alert
 * storm every busy incident's tallies change every few seconds; a person's change still shows
 * within MIN_UPDATE_INTERVAL_MS, and the last state is always delivered.
 */
const TALLY_UPDATE_INTERVAL_MS = 5000;
const MAX_NAME_ATTEMPTS = 10;

/** The diagnosis records the thread messages are rendered from. */
export interface DiagnosisReader {
  latestForIncident(incidentId: number): Promise<DiagnosisSession | undefined>;
  steps(sessionId: number): Promise<DiagnosisStep[]>;
}

/** The action runs and recommendations the card and the thread show. */
export interface ActionReader {
  runs(incidentId: number): Promise<ActionRun[]>;
  recommendations(incidentId: number): Promise<Recommendations | undefined>;
  catalog(): ActionCatalogEntry[];
}

export interface IncidentReader {
  get(id: number): Promise<Incident>;
  alerts(id: number, limit?: number): Promise<AlertOccurrence[]>;
}

/** One run of an operation: the incident's message refs as they stand, its edits, and what must wait. */
class Pass {
  readonly edited = new Map<MessageRef['key'], MessageRef>();
  deferredUntil: Date | undefined;

  constructor(
    readonly incidentId: number,
    readonly messages: Map<MessageRef['key'], MessageRef>,
    readonly log: Logger,
  ) {}

  defer(until: Date): void {
    if (!this.deferredUntil || until < this.deferredUntil) this.deferredUntil = until;
  }
}

/**
 * Makes Slack show an incident: the announcement in the incidents channel, the incident's own
 * channel (or a thread), invitations, and the live card. Each step records what it did, so a
 * retried operation resumes where it stopped instead of posting twice.
 */
export class IncidentSlackSync {
  private readonly rateLimits = new SlackRateLimits();

  constructor(
    private readonly deps: {
      store: SlackDeliveryStore;
      gateway: SlackGateway;
      incidents: IncidentReader;
      diagnosis: DiagnosisReader;
      actions: ActionReader;
      postmortems: Pick<PostmortemStore, 'latest'>;
      incidentsChannel: string | undefined;
      responders: readonly string[];
      clock: Clock;
      logger: Logger;
    },
  ) {}

  /**
   * Brings the incident's messages up to date and returns the refs of those it edited, for the
   * outbox to save with the operation's outcome. Each message keeps its own pace: one that must
   * wait does not hold the others back, and the operation is deferred until it may go.
   */
  async handle(op: OutboxOp): Promise<MessageRef[]> {
    // One after the other: an operation holds at most one of the pool's connections, which
    // intake needs more urgently.
    const incident = await this.deps.incidents.get(op.incidentId);
    const slack = await this.deps.store.slackState(op.incidentId);
    const log = this.deps.logger.child({ incidentId: incident.id, op: op.kind, opId: op.id });
    const pass = new Pass(incident.id, slack.messages, log);
    try {
      await this.deliver(op, incident, slack.channel, pass);
    } catch (err) {
      if (!(err instanceof DeferDelivery)) {
        // Slack shows these edits already; should saving fail too, the next attempt makes them again.
        await this.deps.store.saveMessages([...pass.edited.values()]).catch(() => undefined);
        throw err;
      }
      pass.defer(err.until);
    }
    const edited = [...pass.edited.values()];
    if (pass.deferredUntil) throw new DeferDelivery(pass.deferredUntil, edited);
    return edited;
  }

  private async deliver(
    op: OutboxOp,
    incident: Incident,
    existing: IncidentChannel | undefined,
    pass: Pass,
  ): Promise<void> {
    if (op.kind === 'incident.opened') {
      const channel = await this.ensureChannel(pass, incident, existing);
      await this.syncAnnouncement(pass, incident, channel);
      const home = channel ?? (await this.fallBackToThread(pass, incident));
      if (home) {
        await this.inviteResponders(pass, incident, home);
        await this.syncIncidentChannel(pass, incident, home);
      }
      return;
    }
    if (op.kind === 'postmortem.drafted') {
      if (existing) await this.syncPostmortem(pass, incident, existing);
      return;
    }
    await this.syncAnnouncement(pass, incident, existing);
    if (existing) {
      // Normally done by then; not when the opening operation was dead-lettered after the channel existed.
      await this.inviteResponders(pass, incident, existing);
      await this.syncIncidentChannel(pass, incident, existing);
    }
  }

  /** The card, then its thread: the diagnosis steps and the action runs. */
  private async syncIncidentChannel(pass: Pass, incident: Incident, channel: IncidentChannel): Promise<void> {
    // Actions come from a diagnosis conclusion; most card edits are for incidents never diagnosed.
    const runs = incident.diagnosis ? await this.deps.actions.runs(incident.id) : [];
    await this.syncCard(pass, incident, channel, runs);
    await this.syncDiagnosis(pass, incident);
    await this.syncActions(pass, runs);
  }

  private async ensureChannel(
    pass: Pass,
    incident: Incident,
    existing: IncidentChannel | undefined,
  ): Promise<IncidentChannel | undefined> {
    if (existing) return existing;
    const { log } = pass;
    for (let attempt = 1; attempt <= MAX_NAME_ATTEMPTS; attempt++) {
      const name = incidentChannelName(incident, attempt);
      try {
        const created = await this.paced(pass, rateLimitScope('conversations.create'), 'channel', () =>
          this.deps.gateway.createChannel(name),
        );
        const channel: IncidentChannel = {
          incidentId: incident.id,
          mode: 'channel',
          channelId: created.id,
          channelName: created.name,
          threadTs: null,
          invitedAt: null,
        };
        // Lost to a database restart, the next attempt would create the channel a second time.
        await retryWhileUnavailable(() => this.deps.store.saveChannel(channel));
        log.info({ channel: created.name }, 'created incident channel');
        return channel;
      } catch (err) {
        if (!(err instanceof SlackCallError)) throw err;
        if (err.slackError === 'name_taken') continue;
        if (CHANNEL_CREATION_FORBIDDEN.has(err.slackError)) {
          log.warn(
            { slackError: err.slackError },
            'channel creation not permitted; the incident runs in a thread',
          );
          return undefined;
        }
        throw err;
      }
    }
    log.warn({ attempts: MAX_NAME_ATTEMPTS }, 'every channel name was taken; the incident runs in a thread');
    return undefined;
  }

  private async fallBackToThread(pass: Pass, incident: Incident): Promise<IncidentChannel | undefined> {
    const announcement = pass.messages.get('announcement');
    if (!announcement) {
      // An announcement held back by a rate limit comes later, and the thread with it.
      if (!pass.deferredUntil) {
        pass.log.error('no channel and no announcement to thread under; set SLACK_INCIDENTS_CHANNEL');
      }
      return undefined;
    }
    const channel: IncidentChannel = {
      incidentId: incident.id,
      mode: 'thread',
      channelId: announcement.channelId,
      channelName: null,
      threadTs: announcement.ts,
      invitedAt: null,
    };
    await this.deps.store.saveChannel(channel);
    return channel;
  }

  private async inviteResponders(pass: Pass, incident: Incident, channel: IncidentChannel): Promise<void> {
    if (channel.mode !== 'channel' || channel.invitedAt) return;
    const users = new Set<string>();
    for (const id of [...this.deps.responders, ...incident.responderIds]) {
      if (id.startsWith('S')) {
        for (const member of await this.userGroupMembers(pass, id)) users.add(member);
      } else {
        users.add(id);
      }
    }
    if (users.size > 0) await this.invite(pass, channel.channelId, [...users]);
    await this.deps.store.markInvited(incident.id, this.deps.clock.now());
  }

  /** A deleted or mistyped user group must not keep the other responders out. */
  private async userGroupMembers(pass: Pass, groupId: string): Promise<string[]> {
    try {
      return await this.paced(pass, rateLimitScope('usergroups.users.list'), `group ${groupId}`, () =>
        this.deps.gateway.userGroupMembers(groupId),
      );
    } catch (err) {
      if (!(err instanceof SlackCallError) || err.retryable) throw err;
      pass.log.warn(
        { slackError: err.slackError, userGroup: groupId },
        'could not list a responder user group',
      );
      return [];
    }
  }

  private async invite(pass: Pass, channelId: string, users: string[]): Promise<void> {
    try {
      await this.paced(pass, rateLimitScope('conversations.invite'), `invite ${users.join(',')}`, () =>
        this.deps.gateway.inviteUsers(channelId, users),
      );
    } catch (err) {
      if (!(err instanceof SlackCallError) || err.retryable) throw err;
      if (err.slackError === 'already_in_channel') return;
      // Slack invites nobody when one of the users cannot be invited (a deactivated account, say),
      // so invite the others one by one; a failure must not keep the incident from its card either.
      if (users.length > 1) {
        for (const user of users) await this.invite(pass, channelId, [user]);
        return;
      }
      pass.log.warn({ slackError: err.slackError, users }, 'could not invite a responder');
    }
  }

  /**
   * The announcement is a courtesy copy: when Slack refuses it for good (an archived or wrong
   * incidents channel), the incident's own channel and card must still happen.
   */
  private async syncAnnouncement(
    pass: Pass,
    incident: Incident,
    channel: IncidentChannel | undefined,
  ): Promise<void> {
    const target = this.deps.incidentsChannel;
    if (!target) return;
    try {
      await this.postAnnouncement(pass, incident, channel, target);
    } catch (err) {
      if (!(err instanceof SlackCallError) || err.retryable) throw err;
      this.deps.logger.error(
        { incidentId: incident.id, slackError: err.slackError, channel: target },
        'Slack refused the announcement; check SLACK_INCIDENTS_CHANNEL',
      );
    }
  }

  private async postAnnouncement(
    pass: Pass,
    incident: Incident,
    channel: IncidentChannel | undefined,
    target: string,
  ): Promise<void> {
    const view = { incident, channelId: channel?.mode === 'channel' ? channel.channelId : null };
    await this.syncMessage(
      pass,
      'announcement',
      { channelId: target, threadTs: null },
      incidentAnnouncementMessage(view),
      factsOf(view),
    );
  }

  private async syncCard(
    pass: Pass,
    incident: Incident,
    channel: IncidentChannel,
    actions: readonly ActionRun[],
  ): Promise<void> {
    const view = { incident, channelId: channel.mode === 'channel' ? channel.channelId : null, actions };
    await this.syncMessage(
      pass,
      'card',
      { channelId: channel.channelId, threadTs: channel.threadTs },
      async () =>
        incidentCardMessage({
          ...view,
          alerts: await this.deps.incidents.alerts(incident.id, CARD_ALERT_LINES),
        }),
      factsOf(view),
    );
  }

  /** One message per diagnosis step, in the thread under the card, edited as its checks finish. */
  private async syncDiagnosis(pass: Pass, incident: Incident): Promise<void> {
    // Most card edits are for incidents never diagnosed; the incident row already says so.
    if (!incident.diagnosis) return;
    const session = await this.deps.diagnosis.latestForIncident(incident.id);
    const card = pass.messages.get('card');
    if (!session || !card) return;
    const threadTs = card.threadTs ?? card.ts;
    const actions = session.conclusion
      ? {
          recommendations: await this.deps.actions.recommendations(incident.id),
          catalog: this.deps.actions.catalog(),
        }
      : undefined;
    for (const step of await this.deps.diagnosis.steps(session.id)) {
      await this.syncMessage(
        pass,
        `diagnosis:${session.id}:${step.seq}`,
        { channelId: card.channelId, threadTs },
        diagnosisStepMessage({ session, step, ...(actions ? { actions } : {}) }),
      );
    }
  }

  /**
   * The postmortem's summary message, edited in place as versions are drafted, and each version's
   * full document as a file under it (uploaded once per version).
   */
  private async syncPostmortem(pass: Pass, incident: Incident, channel: IncidentChannel): Promise<void> {
    const version = await this.deps.postmortems.latest(incident.id);
    if (!version) return;
    const target = { channelId: channel.channelId, threadTs: channel.threadTs };
    await this.syncMessage(
      pass,
      'postmortem',
      target,
      postmortemMessage(incident, version, `/api/incidents/${incident.id}/postmortem.md`),
    );
    const summary = pass.messages.get('postmortem');
    const key = `postmortem-file:${version.version}`;
    if (!summary || pass.messages.has(key)) return;
    const threadTs = summary.threadTs ?? summary.ts;
    const uploaded = await this.paced(pass, rateLimitScope('files.completeUploadExternal'), key, () =>
      this.deps.gateway.uploadFile({
        channel: summary.channelId,
        threadTs,
        filename: `inc-${incident.id}-postmortem-v${version.version}.md`,
        title: `INC-${incident.id} postmortem v${version.version}`,
        content: version.markdown,
      }),
    );
    const ref: MessageRef = {
      incidentId: incident.id,
      key,
      channelId: summary.channelId,
      ts: uploaded.fileId,
      threadTs,
      contentHash: digest(version.markdown),
      syncedAt: this.deps.clock.now(),
    };
    await retryWhileUnavailable(() => this.deps.store.saveMessages([ref]));
    pass.messages.set(key, ref);
  }

  /** One message per action run, in the thread under the card, edited as the run moves on. */
  private async syncActions(pass: Pass, runs: readonly ActionRun[]): Promise<void> {
    const card = pass.messages.get('card');
    if (!card) return;
    for (const run of runs) {
      await this.syncMessage(
        pass,
        `action:${run.id}`,
        { channelId: card.channelId, threadTs: card.threadTs ?? card.ts },
        actionRunMessage(run),
      );
    }
  }

  /**
   * Posts a message the first time and edits it in place afterwards; unchanged content costs no
   * call. With `facts`, what a person follows in the message, its stored hash leads with a hash of
   * them, so that an edit which moves nothing else can be told apart and wait longer. Such an edit
   * waits without `message` being rendered (it may be a function that renders it): in an alert
   * storm most operations find their incident's messages waiting for the tallies' pace.
   */
  private async syncMessage(
    pass: Pass,
    key: MessageRef['key'],
    target: { channelId: string; threadTs: string | null },
    message: SlackMessage | (() => Promise<SlackMessage>),
    facts?: string,
  ): Promise<void> {
    const factsPrefix = facts === undefined ? '' : `${digest(facts).slice(0, 16)}:`;
    const existing = pass.messages.get(key);
    const now = this.deps.clock.now();
    if (existing && factsPrefix && existing.contentHash.startsWith(factsPrefix)) {
      // Only the tallies can have moved: nothing to render before their turn.
      const tallyTurn = existing.syncedAt.getTime() + TALLY_UPDATE_INTERVAL_MS;
      if (now.getTime() < tallyTurn) {
        pass.defer(new Date(tallyTurn));
        return;
      }
    }
    const rendered = typeof message === 'function' ? await message() : message;
    const contentHash = factsPrefix + digest(JSON.stringify(rendered));
    if (existing?.contentHash === contentHash) return;
    try {
      if (existing) {
        const earliest = existing.syncedAt.getTime() + MIN_UPDATE_INTERVAL_MS;
        if (now.getTime() < earliest) throw new DeferDelivery(new Date(earliest));
        await this.paced(pass, rateLimitScope('chat.update'), key, () =>
          this.deps.gateway.updateMessage({
            channel: existing.channelId,
            ts: existing.ts,
            message: rendered,
          }),
        );
        const ref = { ...existing, contentHash, syncedAt: now };
        pass.messages.set(key, ref);
        pass.edited.set(key, ref);
        return;
      }
      const posted = await this.paced(pass, rateLimitScope('chat.postMessage', target.channelId), key, () =>
        this.deps.gateway.postMessage({
          channel: target.channelId,
          message: rendered,
          ...(target.threadTs ? { threadTs: target.threadTs } : {}),
        }),
      );
      // Saved at once, through a database restart too: a retry that found no ref would post the
      // message a second time.
      const ref: MessageRef = {
        incidentId: pass.incidentId,
        key,
        channelId: posted.channel,
        ts: posted.ts,
        threadTs: target.threadTs,
        contentHash,
        syncedAt: now,
      };
      await retryWhileUnavailable(() => this.deps.store.saveMessages([ref]));
      pass.messages.set(key, ref);
    } catch (err) {
      // A message that must wait does not hold the incident's other messages back.
      if (!(err instanceof DeferDelivery)) throw err;
      pass.defer(err.until);
    }
  }

  /**
   * Makes a Slack call unless a rate limit holds its scope back; a 429 is a wait, not a failure.
   * Either way it throws DeferDelivery with the time the call has its turn.
   */
  private async paced<T>(pass: Pass, scope: string, key: string, call: () => Promise<T>): Promise<T> {
    const place = `${pass.incidentId} ${key}`;
    const turn = this.rateLimits.reserve(scope, place, this.deps.clock.now().getTime());
    if (turn !== undefined) throw new DeferDelivery(new Date(turn));
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof SlackCallError) || err.retryAfterMs === undefined) throw err;
      const now = this.deps.clock.now().getTime();
      const until = this.rateLimits.limited(scope, place, now, err.retryAfterMs);
      pass.log.warn(
        { method: err.method, scope, retryAfterMs: err.retryAfterMs },
        'Slack rate limit; waiting',
      );
      throw new DeferDelivery(new Date(until));
    }
  }
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * What a person follows in a message's view: everything but the alerts and their tallies, which
 * move with every delivery in an alert storm.
 */
function factsOf(view: { incident: Incident; alerts?: unknown }): string {
  return JSON.stringify({
    ...view,
    alerts: undefined,
    incident: {
      ...view.incident,
      alertsFiring: undefined,
      alertsResolved: undefined,
      truncatedAlerts: undefined,
      updatedAt: undefined,
    },
  });
}
