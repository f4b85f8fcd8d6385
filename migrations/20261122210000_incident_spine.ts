import type { Knex } from 'knex';

const OPEN = "('triggered','acknowledged','investigating','mitigated')";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('incidents', (t) => {
    t.increments('id').primary();
    t.text('title').notNullable();
    t.text('status').notNullable();
    t.text('severity').notNullable();
    t.text('source').notNullable();
    t.text('service');
    t.text('description');
    t.text('layer_hint');
    t.text('receiver');
    t.text('group_key');
    t.jsonb('group_labels').notNullable().defaultTo('{}');
    t.text('runbook_url');
    t.text('generator_url');
    t.text('external_url');
    t.text('commander_id');
    t.jsonb('responder_ids').notNullable().defaultTo('[]');
    t.integer('alerts_firing').notNullable().defaultTo(0);
    t.integer('alerts_resolved').notNullable().defaultTo(0);
    t.integer('truncated_alerts').notNullable().defaultTo(0);
    t.timestamp('all_alerts_resolved_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.timestamp('acknowledged_at', { useTz: true });
    t.timestamp('mitigated_at', { useTz: true });
    t.timestamp('resolved_at', { useTz: true });
    t.index(['status', 'id']);
  });
  await knex.raw(
    `alter table incidents add constraint incidents_status_check check (status in ${OPEN.slice(0, -1)},'resolved','cancelled'))`,
  );
  await knex.raw(
    "alter table incidents add constraint incidents_severity_check check (severity in ('SEV1','SEV2','SEV3','SEV4'))",
  );
  // One open incident per Alertmanager group: the database, not the application, guarantees it.
  await knex.raw(
    `create unique index incidents_open_group_idx on incidents (receiver, group_key) where group_key is not null and status in ${OPEN}`,
  );

  await knex.schema.createTable('alert_occurrences', (t) => {
    t.increments('id').primary();
    t.integer('incident_id').notNullable().references('incidents.id');
    t.text('receiver').notNullable();
    t.text('fingerprint').notNullable();
    t.timestamp('starts_at', { useTz: true }).notNullable();
    t.timestamp('ends_at', { useTz: true });
    t.text('status').notNullable();
    t.text('alertname').notNullable();
    t.jsonb('labels').notNullable();
    t.jsonb('annotations').notNullable();
    t.text('generator_url');
    t.timestamp('first_seen_at', { useTz: true }).notNullable();
    t.timestamp('resolved_seen_at', { useTz: true });
    t.unique(['receiver', 'fingerprint', 'starts_at']);
    t.index(['incident_id', 'status']);
  });
  await knex.raw(
    "alter table alert_occurrences add constraint alert_occurrences_status_check check (status in ('firing','resolved'))",
  );

  await knex.schema.createTable('incident_timeline', (t) => {
    t.bigIncrements('id').primary();
    t.integer('incident_id').notNullable().references('incidents.id');
    t.timestamp('at', { useTz: true }).notNullable();
    t.text('actor').notNullable();
    t.text('kind').notNullable();
    t.text('summary').notNullable();
    t.jsonb('data').notNullable().defaultTo('{}');
    t.index(['incident_id', 'id']);
  });
  // The timeline is evidence for postmortems: refuse edits and deletions at the database.
  await knex.raw(`
    create function aisre_timeline_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'incident_timeline is append-only';
    end $$`);
  await knex.raw(`
    create trigger incident_timeline_append_only before update or delete on incident_timeline
    for each row execute function aisre_timeline_append_only()`);

  await knex.schema.createTable('slack_outbox', (t) => {
    t.increments('id').primary();
    t.integer('incident_id').notNullable().references('incidents.id');
    t.text('kind').notNullable();
    t.text('status').notNullable().defaultTo('pending');
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { useTz: true }).notNullable();
    t.timestamp('claimed_until', { useTz: true });
    t.text('last_error');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('done_at', { useTz: true });
    t.index(['status', 'incident_id', 'id']);
  });
  await knex.raw(
    "alter table slack_outbox add constraint slack_outbox_status_check check (status in ('pending','running','done','dead'))",
  );
  // A burst of changes to one incident collapses into a single pending card update. An update
  // being delivered is 'running', so a change made meanwhile queues a new one instead of being lost.
  await knex.raw(
    "create unique index slack_outbox_pending_update_idx on slack_outbox (incident_id, kind) where status = 'pending' and kind = 'incident.updated'",
  );

  await knex.schema.createTable('slack_incident_channels', (t) => {
    t.integer('incident_id').primary().references('incidents.id');
    t.text('mode').notNullable();
    t.text('channel_id').notNullable();
    t.text('channel_name');
    t.text('thread_ts');
    t.timestamp('invited_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.index(['channel_id']);
  });

  await knex.schema.createTable('slack_messages', (t) => {
    t.integer('incident_id').notNullable().references('incidents.id');
    t.text('key').notNullable();
    t.text('channel_id').notNullable();
    t.text('ts').notNullable();
    t.text('thread_ts');
    t.text('content_hash').notNullable();
    t.timestamp('synced_at', { useTz: true }).notNullable();
    t.primary(['incident_id', 'key']);
  });

  await knex.schema.createTable('slack_inbound_requests', (t) => {
    t.text('dedupe_key').primary();
    t.timestamp('received_at', { useTz: true }).notNullable();
    t.index(['received_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('slack_inbound_requests');
  await knex.schema.dropTableIfExists('slack_messages');
  await knex.schema.dropTableIfExists('slack_incident_channels');
  await knex.schema.dropTableIfExists('slack_outbox');
  await knex.schema.dropTableIfExists('incident_timeline');
  await knex.raw('drop function if exists aisre_timeline_append_only()');
  await knex.schema.dropTableIfExists('alert_occurrences');
  await knex.schema.dropTableIfExists('incidents');
}
