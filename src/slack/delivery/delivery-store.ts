import type { NotificationIntent } from '../../incidents/ports.js';
/** A queued notification for one incident, claimed by one worker at a time. */
export interface OutboxOp {
  id: number;
  incidentId: number;
  kind: NotificationIntent['kind'];
  attempts: number;
  createdAt: Date;
}

/** Where an incident lives in Slack: its own channel, or a thread when channels cannot be created. */
export interface IncidentChannel {
  incidentId: number;
  mode: 'channel' | 'thread';
  channelId: string;
  channelName: string | null;
  threadTs: string | null;
  invitedAt: Date | null;
}

/** A message aisre posted and keeps updating in place. */
export interface MessageRef {
  incidentId: number;
  /** `announcement`, `card`, or `diagnosis:<session>:<step>` for diagnosis thread messages. */
  key: string;
  channelId: string;
  ts: string;
  threadTs: string | null;
  contentHash: string;
  syncedAt: Date;
}

/** What aisre has in Slack for one incident: where it lives and the messages it keeps up to date. */
export interface IncidentSlackState {
  channel: IncidentChannel | undefined;
  messages: Map<MessageRef['key'], MessageRef>;
}

/** Persistence the Slack delivery needs: the outbox queue and the references to what it posted. */
export interface SlackDeliveryStore {
  /** Claims due operations, at most one per incident so each incident's operations stay in order. */
  claim(limit: number, leaseMs: number): Promise<OutboxOp[]>;
  /**
   * Marks an operation done and saves the refs of the messages it edited, in one statement: an
   * edit's ref only moves its hash and time on, so it can wait for the operation's outcome.
   */
  complete(id: number, edited?: readonly MessageRef[]): Promise<void>;
  /** Puts an operation back in the queue until `at`, saving the refs of the messages it edited. */
  reschedule(id: number, at: Date, error: string | null, edited?: readonly MessageRef[]): Promise<void>;
  deadLetter(id: number, error: string): Promise<void>;
  depth(): Promise<{ pending: number; dead: number; oldestPendingAgeSeconds: number }>;
  channelFor(incidentId: number): Promise<IncidentChannel | undefined>;
  saveChannel(channel: Omit<IncidentChannel, 'invitedAt'>): Promise<void>;
  markInvited(incidentId: number, at: Date): Promise<void>;
  incidentForChannel(channelId: string): Promise<number | undefined>;
  /** The incident's channel and all its message refs, in one read: what an operation starts from. */
  slackState(incidentId: number): Promise<IncidentSlackState>;
  saveMessages(refs: readonly MessageRef[]): Promise<void>;
  /** Records an inbound Slack request; false when it was seen before (a retry). */
  recordInbound(dedupeKey: string, at: Date): Promise<boolean>;
}
