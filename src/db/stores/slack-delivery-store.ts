import type { Knex } from 'knex';
import type {
  IncidentChannel,
  MessageRef,
  OutboxOp,
  SlackDeliveryStore,
} from '../../slack/delivery/delivery-store.js';

interface OutboxRow {
  id: number;
  incident_id: number;
  kind: OutboxOp['kind'];
  attempts: number;
  created_at: Date;
}

const UNIQUE_VIOLATION = '23505';

/** The Slack delivery tables in Postgres. */
export class KnexSlackDeliveryStore implements SlackDeliveryStore {
  constructor(private readonly db: Knex) {}

  async claim(limit: number, leaseMs: number): Promise<OutboxOp[]> {
    // Only the oldest unfinished operation of each incident is eligible, and the update re-checks
    // its state, so two workers never hold operations of the same incident at once. A 'running'
    // operation whose lease ran out belongs to a worker that died, and is taken over.
    const result = await this.db.raw(
      `with heads as (
         select distinct on (incident_id) id, status, next_attempt_at, claimed_until
           from slack_outbox
          where status in ('pending', 'running')
          order by incident_id, id
       ), due as (
         select id from heads
          where (status = 'pending' and next_attempt_at <= now())
             or (status = 'running' and claimed_until < now())
          order by next_attempt_at, id
          limit ?
       )
       update slack_outbox o
          set status = 'running', claimed_until = now() + (? * interval '1 millisecond'), attempts = o.attempts + 1
         from due
        where o.id = due.id
          and ((o.status = 'pending' and o.next_attempt_at <= now()) or (o.status = 'running' and o.claimed_until < now()))
       returning o.id, o.incident_id, o.kind, o.attempts, o.created_at`,
      [limit, leaseMs],
    );
    return (result.rows as OutboxRow[])
      .map((row) => ({
        id: row.id,
        incidentId: row.incident_id,
        kind: row.kind,
        attempts: row.attempts,
        createdAt: row.created_at,
      }))
      .sort((a, b) => a.id - b.id);
  }

  async complete(id: number): Promise<void> {
    await this.db('slack_outbox')
      .where({ id })
      .update({ status: 'done', done_at: this.db.fn.now(), claimed_until: null });
  }

  async reschedule(id: number, at: Date, error: string | null): Promise<void> {
    // A newer pending update of the same incident renders the latest state anyway, and two
    // pending updates may not coexist, so this one is then simply done. The newer one may also
    // commit between the check and the write; the unique index then refuses, with the same meaning.
    try {
      await this.db.raw(
        `update slack_outbox o
            set status = case when o.kind = 'incident.updated' and exists (
                  select 1 from slack_outbox p
                   where p.incident_id = o.incident_id and p.kind = 'incident.updated'
                     and p.status = 'pending' and p.id <> o.id)
                then 'done' else 'pending' end,
                next_attempt_at = ?, claimed_until = null, last_error = ?
          where o.id = ?`,
        [at, error, id],
      );
    } catch (err) {
      if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
      await this.complete(id);
    }
  }

  async deadLetter(id: number, error: string): Promise<void> {
    await this.db('slack_outbox')
      .where({ id })
      .update({ status: 'dead', last_error: error, done_at: this.db.fn.now(), claimed_until: null });
  }

  async depth() {
    const result = await this.db.raw(
      `select count(*) filter (where status in ('pending', 'running'))::int as pending,
              count(*) filter (where status = 'dead')::int as dead,
              coalesce(extract(epoch from now() - min(created_at) filter (where status in ('pending', 'running'))), 0)::float8 as age
         from slack_outbox where status in ('pending', 'running', 'dead')`,
    );
    const row = result.rows[0] as { pending: number; dead: number; age: number };
    return { pending: row.pending, dead: row.dead, oldestPendingAgeSeconds: row.age };
  }

  async channelFor(incidentId: number): Promise<IncidentChannel | undefined> {
    const row = await this.db('slack_incident_channels').where({ incident_id: incidentId }).first();
    return row ? toChannel(row) : undefined;
  }

  async saveChannel(channel: Omit<IncidentChannel, 'invitedAt'>): Promise<void> {
    await this.db('slack_incident_channels')
      .insert({
        incident_id: channel.incidentId,
        mode: channel.mode,
        channel_id: channel.channelId,
        channel_name: channel.channelName,
        thread_ts: channel.threadTs,
        created_at: this.db.fn.now(),
      })
      .onConflict('incident_id')
      .merge(['mode', 'channel_id', 'channel_name', 'thread_ts']);
  }

  async markInvited(incidentId: number, at: Date): Promise<void> {
    await this.db('slack_incident_channels').where({ incident_id: incidentId }).update({ invited_at: at });
  }

  async incidentForChannel(channelId: string): Promise<number | undefined> {
    const row = await this.db('slack_incident_channels')
      .where({ channel_id: channelId, mode: 'channel' })
      .orderBy('incident_id', 'desc')
      .first('incident_id');
    return row?.incident_id;
  }

  async message(incidentId: number, key: MessageRef['key']): Promise<MessageRef | undefined> {
    const row = await this.db('slack_messages').where({ incident_id: incidentId, key }).first();
    if (!row) return undefined;
    return {
      incidentId: row.incident_id,
      key: row.key,
      channelId: row.channel_id,
      ts: row.ts,
      threadTs: row.thread_ts,
      contentHash: row.content_hash,
      syncedAt: row.synced_at,
    };
  }

  async saveMessage(ref: MessageRef): Promise<void> {
    await this.db('slack_messages')
      .insert({
        incident_id: ref.incidentId,
        key: ref.key,
        channel_id: ref.channelId,
        ts: ref.ts,
        thread_ts: ref.threadTs,
        content_hash: ref.contentHash,
        synced_at: ref.syncedAt,
      })
      .onConflict(['incident_id', 'key'])
      .merge(['channel_id', 'ts', 'thread_ts', 'content_hash', 'synced_at']);
  }

  async recordInbound(dedupeKey: string, at: Date): Promise<boolean> {
    const inserted = await this.db('slack_inbound_requests')
      .insert({ dedupe_key: dedupeKey, received_at: at })
      .onConflict('dedupe_key')
      .ignore()
      .returning('dedupe_key');
    return inserted.length > 0;
  }
}

function toChannel(row: {
  incident_id: number;
  mode: IncidentChannel['mode'];
  channel_id: string;
  channel_name: string | null;
  thread_ts: string | null;
  invited_at: Date | null;
}): IncidentChannel {
  return {
    incidentId: row.incident_id,
    mode: row.mode,
    channelId: row.channel_id,
    channelName: row.channel_name,
    threadTs: row.thread_ts,
    invitedAt: row.invited_at,
  };
}
