import { createHash } from 'node:crypto';
import type { DiagnosisSession, DiagnosisStep } from '../../diagnosis/diagnosis.js';
import type { AlertOccurrence, Incident } from '../../incidents/incident.js';
import type { Clock } from '../../incidents/ports.js';
import type { Logger } from '../../logger.js';
import { diagnosisStepMessage } from '../blocks/diagnosis-step.js';
import { incidentAnnouncementMessage } from '../blocks/incident-announcement.js';
import { incidentCardMessage } from '../blocks/incident-card.js';
import type { SlackMessage } from '../blocks/types.js';
import { incidentChannelName } from '../channel-name.js';
import { CHANNEL_CREATION_FORBIDDEN, SlackCallError, type SlackGateway } from '../slack-gateway.js';
import type { IncidentChannel, MessageRef, OutboxOp, SlackDeliveryStore } from './delivery-store.js';

/** Thrown to put an operation back in the queue until `until` without counting a failure. */
export class DeferDelivery extends Error {
  constructor(readonly until: Date) {
    super(`deferred until ${until.toISOString()}`);
    this.name = 'DeferDelivery';
  }
}

/** Slack allows about one update per second per message; bursts wait and coalesce. */
const MIN_UPDATE_INTERVAL_MS = 1000;
const CARD_ALERT_LIMIT = 200;
const MAX_NAME_ATTEMPTS = 10;

/** The diagnosis records the thread messages are rendered from. */
export interface DiagnosisReader {
  latestForIncident(incidentId: number): Promise<DiagnosisSession | undefined>;
  steps(sessionId: number): Promise<DiagnosisStep[]>;
}

export interface IncidentReader {
  get(id: number): Promise<Incident>;
  alerts(id: number, limit?: number): Promise<AlertOccurrence[]>;
}

/**
 * Makes Slack show an incident: the announcement in the incidents channel, the incident's own
 * channel (or a thread), invitations, and the live card. Each step records what it did, so a
 * retried operation resumes where it stopped instead of posting twice.
 */
export class IncidentSlackSync {
  constructor(
    private readonly deps: {
      store: SlackDeliveryStore;
      gateway: SlackGateway;
      incidents: IncidentReader;
      diagnosis: DiagnosisReader;
      incidentsChannel: string | undefined;
      responders: readonly string[];
      clock: Clock;
      logger: Logger;
    },
  ) {}

  async handle(op: OutboxOp): Promise<void> {
    const incident = await this.deps.incidents.get(op.incidentId);
    const log = this.deps.logger.child({ incidentId: incident.id, op: op.kind, opId: op.id });
    if (op.kind === 'incident.opened') {
      const channel = await this.ensureChannel(incident, log);
      await this.syncAnnouncement(incident, channel);
      const home = channel ?? (await this.fallBackToThread(incident, log));
      if (home) {
        await this.inviteResponders(incident, home, log);
        await this.syncCard(incident, home);
        await this.syncDiagnosis(incident);
      }
      return;
    }
    const channel = await this.deps.store.channelFor(incident.id);
    await this.syncAnnouncement(incident, channel);
    if (channel) {
      // Normally done by then; not when the opening operation was dead-lettered after the channel existed.
      await this.inviteResponders(incident, channel, log);
      await this.syncCard(incident, channel);
      await this.syncDiagnosis(incident);
    }
  }

  private async ensureChannel(incident: Incident, log: Logger): Promise<IncidentChannel | undefined> {
    const existing = await this.deps.store.channelFor(incident.id);
    if (existing) return existing;
    for (let attempt = 1; attempt <= MAX_NAME_ATTEMPTS; attempt++) {
      const name = incidentChannelName(incident, attempt);
      try {
        const created = await this.deps.gateway.createChannel(name);
        const channel: IncidentChannel = {
          incidentId: incident.id,
          mode: 'channel',
          channelId: created.id,
          channelName: created.name,
          threadTs: null,
          invitedAt: null,
        };
        await this.deps.store.saveChannel(channel);
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

  private async fallBackToThread(incident: Incident, log: Logger): Promise<IncidentChannel | undefined> {
    const announcement = await this.deps.store.message(incident.id, 'announcement');
    if (!announcement) {
      log.error('no channel and no announcement to thread under; set SLACK_INCIDENTS_CHANNEL');
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

  private async inviteResponders(incident: Incident, channel: IncidentChannel, log: Logger): Promise<void> {
    if (channel.mode !== 'channel' || channel.invitedAt) return;
    const users = new Set<string>();
    for (const id of [...this.deps.responders, ...incident.responderIds]) {
      if (id.startsWith('S')) {
        for (const member of await this.userGroupMembers(id, log)) users.add(member);
      } else {
        users.add(id);
      }
    }
    if (users.size > 0) await this.invite(channel.channelId, [...users], log);
    await this.deps.store.markInvited(incident.id, this.deps.clock.now());
  }

  /** A deleted or mistyped user group must not keep the other responders out. */
  private async userGroupMembers(groupId: string, log: Logger): Promise<string[]> {
    try {
      return await this.deps.gateway.userGroupMembers(groupId);
    } catch (err) {
      if (!(err instanceof SlackCallError) || err.retryable) throw err;
      log.warn({ slackError: err.slackError, userGroup: groupId }, 'could not list a responder user group');
      return [];
    }
  }

  private async invite(channelId: string, users: string[], log: Logger): Promise<void> {
    try {
      await this.deps.gateway.inviteUsers(channelId, users);
    } catch (err) {
      if (!(err instanceof SlackCallError) || err.retryable) throw err;
      if (err.slackError === 'already_in_channel') return;
      // Slack invites nobody when one of the users cannot be invited (a deactivated account, say),
      // so invite the others one by one; a failure must not keep the incident from its card either.
      if (users.length > 1) {
        for (const user of users) await this.invite(channelId, [user], log);
        return;
      }
      log.warn({ slackError: err.slackError, users }, 'could not invite a responder');
    }
  }

  /**
   * The announcement is a courtesy copy: when Slack refuses it for good (an archived or wrong
   * incidents channel), the incident's own channel and card must still happen.
   */
  private async syncAnnouncement(incident: Incident, channel: IncidentChannel | undefined): Promise<void> {
    const target = this.deps.incidentsChannel;
    if (!target) return;
    try {
      await this.postAnnouncement(incident, channel, target);
    } catch (err) {
      if (!(err instanceof SlackCallError) || err.retryable) throw err;
      this.deps.logger.error(
        { incidentId: incident.id, slackError: err.slackError, channel: target },
        'Slack refused the announcement; check SLACK_INCIDENTS_CHANNEL',
      );
    }
  }

  private async postAnnouncement(
    incident: Incident,
    channel: IncidentChannel | undefined,
    target: string,
  ): Promise<void> {
    const linked = channel?.mode === 'channel' ? channel.channelId : null;
    const message = incidentAnnouncementMessage({ incident, channelId: linked });
    await this.syncMessage(incident.id, 'announcement', { channelId: target, threadTs: null }, message);
  }

  private async syncCard(incident: Incident, channel: IncidentChannel): Promise<void> {
    const alerts = await this.deps.incidents.alerts(incident.id, CARD_ALERT_LIMIT);
    const message = incidentCardMessage({
      incident,
      alerts,
      channelId: channel.mode === 'channel' ? channel.channelId : null,
    });
    await this.syncMessage(
      incident.id,
      'card',
      { channelId: channel.channelId, threadTs: channel.threadTs },
      message,
    );
  }

  /** One message per diagnosis step, in the thread under the card, edited as its checks finish. */
  private async syncDiagnosis(incident: Incident): Promise<void> {
    // Most card edits are for incidents never diagnosed; the incident row already says so.
    if (!incident.diagnosis) return;
    const session = await this.deps.diagnosis.latestForIncident(incident.id);
    const card = await this.deps.store.message(incident.id, 'card');
    if (!session || !card) return;
    const threadTs = card.threadTs ?? card.ts;
    for (const step of await this.deps.diagnosis.steps(session.id)) {
      await this.syncMessage(
        incident.id,
        `diagnosis:${session.id}:${step.seq}`,
        { channelId: card.channelId, threadTs },
        diagnosisStepMessage({ session, step }),
      );
    }
  }

  /** Posts a message the first time and edits it in place afterwards; unchanged content costs no call. */
  private async syncMessage(
    incidentId: number,
    key: MessageRef['key'],
    target: { channelId: string; threadTs: string | null },
    message: SlackMessage,
  ): Promise<void> {
    const contentHash = createHash('sha256').update(JSON.stringify(message)).digest('hex');
    const existing = await this.deps.store.message(incidentId, key);
    if (existing?.contentHash === contentHash) return;
    const now = this.deps.clock.now();
    if (existing) {
      const earliest = existing.syncedAt.getTime() + MIN_UPDATE_INTERVAL_MS;
      if (now.getTime() < earliest) throw new DeferDelivery(new Date(earliest));
      await this.deps.gateway.updateMessage({ channel: existing.channelId, ts: existing.ts, message });
      await this.deps.store.saveMessage({ ...existing, contentHash, syncedAt: now });
      return;
    }
    const posted = await this.deps.gateway.postMessage({
      channel: target.channelId,
      message,
      ...(target.threadTs ? { threadTs: target.threadTs } : {}),
    });
    await this.deps.store.saveMessage({
      incidentId,
      key,
      channelId: posted.channel,
      ts: posted.ts,
      threadTs: target.threadTs,
      contentHash,
      syncedAt: now,
    });
  }
}
