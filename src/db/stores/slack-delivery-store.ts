import type { Knex } from 'knex';
import type {
  IncidentChannel,
  IncidentSlackState,
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

interface ChannelRow {
  incident_id: number;
  mode: IncidentChannel['mode'];
  channel_id: string;
  channel_name: string | null;
  thread_ts: string | null;
  invited_at: Date | string | null;
}

interface MessageRow {
  incident_id: number;
  key: string;
  channel_id: string;
  ts: string;
  thread_ts: string | null;
  content_hash: string;
  synced_at: Date | string;
}

const UNIQUE_VIOLATION = '23505';

/**
 * A `with` clause that upserts message refs, to run ahead of another statement: its bindings
 * come first. Empty when there is nothing to save.
 */
function savingMessages(refs: readonly MessageRef[]): { sql: string; bindings: string[] } {
  if (refs.length === 0) return { sql: '', bindings: [] };
  const rows = refs.map((ref) => ({
    incident_id: ref.incidentId,
    key: ref.key,
    channel_id: ref.channelId,
    ts: ref.ts,
    thread_ts: ref.threadTs,
    content_hash: ref.contentHash,
    synced_at: ref.syncedAt.toISOString(),
  }));
  return {
    sql: `with saved as (
            insert into slack_messages (incident_id, key, channel_id, ts, thread_ts, content_hash, synced_at)
            select * from jsonb_to_recordset(?::jsonb) as r(incident_id int, key text, channel_id text,
                   ts text, thread_ts text, content_hash text, synced_at timestamptz)
            on conflict (incident_id, key) do update
               set channel_id = excluded.channel_id, ts = excluded.ts, thread_ts = excluded.thread_ts,
                   content_hash = excluded.content_hash, synced_at = excluded.synced_at
          ) `,
    bindings: [JSON.stringify(rows)],
  };
}

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

  async complete(id: number, edited: readonly MessageRef[] = []): Promise<void> {
    const saving = savingMessages(edited);
    await this.db.raw(
      `${saving.sql}update slack_outbox set status = 'done', done_at = now(), claimed_until = null where id = ?`,
      [...saving.bindings, id],
    );
  }

  async reschedule(
    id: number,
    at: Date,
    error: string | null,
    edited: readonly MessageRef[] = [],
  ): Promise<void> {
    // A newer pending update of the same incident renders the latest state anyway, and two
    // pending updates may not coexist, so this one is then simply done. The newer one may also
    // commit between the check and the write; the unique index then refuses, with the same meaning.
    const saving = savingMessages(edited);
    try {
      await this.db.raw(
        `${saving.sql}update slack_outbox o
            set status = case when o.kind = 'incident.updated' and exists (
                  select 1 from slack_outbox p
                   where p.incident_id = o.incident_id and p.kind = 'incident.updated'
                     and p.status = 'pending' and p.id <> o.id)
                then 'done' else 'pending' end,
                next_attempt_at = ?, claimed_until = null, last_error = ?
          where o.id = ?`,
        [...saving.bindings, at, error, id],
      );
    } catch (err) {
      if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
      await this.complete(id, edited);
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

  async slackState(incidentId: number): Promise<IncidentSlackState> {
    const { rows } = (await this.db.raw(
      `select (select row_to_json(c) from slack_incident_channels c where c.incident_id = ?) as channel,
              (select json_agg(m) from slack_messages m where m.incident_id = ?) as messages`,
      [incidentId, incidentId],
    )) as { rows: Array<{ channel: ChannelRow | null; messages: MessageRow[] | null }> };
    const row = rows[0]!;
    return {
      channel: row.channel ? toChannel(row.channel) : undefined,
      messages: new Map((row.messages ?? []).map((message) => [message.key, toMessageRef(message)])),
    };
  }

  async saveMessages(refs: readonly MessageRef[]): Promise<void> {
    if (refs.length === 0) return;
    const saving = savingMessages(refs);
    await this.db.raw(`${saving.sql}select 1`, saving.bindings);
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

// Rows read as JSON carry their times as ISO strings.
function toChannel(row: ChannelRow): IncidentChannel {
  return {
    incidentId: row.incident_id,
    mode: row.mode,
    channelId: row.channel_id,
    channelName: row.channel_name,
    threadTs: row.thread_ts,
    invitedAt: row.invited_at === null ? null : new Date(row.invited_at),
  };
}

function toMessageRef(row: MessageRow): MessageRef {
  return {
    incidentId: row.incident_id,
    key: row.key,
    channelId: row.channel_id,
    ts: row.ts,
    threadTs: row.thread_ts,
    contentHash: row.content_hash,
    syncedAt: new Date(row.synced_at),
  };
}
