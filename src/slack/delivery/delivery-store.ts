/** A queued notification for one incident, claimed by one worker at a time. */
export interface OutboxOp {
  id: number;
  incidentId: number;
  kind: 'incident.opened' | 'incident.updated';
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

/** Persistence the Slack delivery needs: the outbox queue and the references to what it posted. */
export interface SlackDeliveryStore {
  /** Claims due operations, at most one per incident so each incident's operations stay in order. */
  claim(limit: number, leaseMs: number): Promise<OutboxOp[]>;
  complete(id: number): Promise<void>;
  reschedule(id: number, at: Date, error: string | null): Promise<void>;
  deadLetter(id: number, error: string): Promise<void>;
  depth(): Promise<{ pending: number; dead: number; oldestPendingAgeSeconds: number }>;
  channelFor(incidentId: number): Promise<IncidentChannel | undefined>;
  saveChannel(channel: Omit<IncidentChannel, 'invitedAt'>): Promise<void>;
  markInvited(incidentId: number, at: Date): Promise<void>;
  incidentForChannel(channelId: string): Promise<number | undefined>;
  message(incidentId: number, key: MessageRef['key']): Promise<MessageRef | undefined>;
  saveMessage(ref: MessageRef): Promise<void>;
  /** Records an inbound Slack request; false when it was seen before (a retry). */
  recordInbound(dedupeKey: string, at: Date): Promise<boolean>;
}
