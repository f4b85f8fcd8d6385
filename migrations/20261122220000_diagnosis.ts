import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('change_events', (t) => {
    t.increments('id').primary();
    t.text('service').notNullable();
    t.text('kind').notNullable();
    t.text('from_version');
    t.text('to_version');
    t.text('author');
    t.timestamp('at', { useTz: true }).notNullable();
    t.text('summary');
    t.text('diff');
    t.text('link');
    /** A sender-chosen id, so a retried POST /changes records the change once. */
    t.text('external_id');
    t.timestamp('recorded_at', { useTz: true }).notNullable();
    t.unique(['external_id']);
    t.index(['service', 'at']);
    t.index(['at']);
  });
  await knex.raw(
    "alter table change_events add constraint change_events_kind_check check (kind in ('prompt','model','embedding','index','config','code'))",
  );

  await knex.schema.createTable('golden_baselines', (t) => {
    t.text('key').primary();
    t.double('pass_rate').notNullable();
    t.jsonb('models').notNullable();
    t.jsonb('fingerprints').notNullable();
    t.timestamp('recorded_at', { useTz: true }).notNullable();
  });

  await knex.schema.createTable('diagnosis_sessions', (t) => {
    t.increments('id').primary();
    t.integer('incident_id').notNullable().references('incidents.id');
    t.text('runbook_id').notNullable();
    t.text('runbook_version').notNullable();
    // The runbook as it was when the session started: a resumed session follows the same tree
    // even if the file has been edited since.
    t.jsonb('runbook').notNullable();
    t.text('status').notNullable();
    t.text('current_node').notNullable();
    t.jsonb('snapshot').notNullable();
    t.jsonb('conclusion');
    t.text('started_by').notNullable();
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.timestamp('concluded_at', { useTz: true });
    /** When an unanswered question is next brought up again; a deadline kept here, not in a timer. */
    t.timestamp('remind_at', { useTz: true });
    t.index(['status']);
  });
  await knex.raw(
    "alter table diagnosis_sessions add constraint diagnosis_sessions_status_check check (status in ('running','waiting','concluded','stopped'))",
  );
  // One live diagnosis per incident; a stopped or concluded one can be followed by a new one.
  await knex.raw(
    "create unique index diagnosis_sessions_live_idx on diagnosis_sessions (incident_id) where status in ('running','waiting')",
  );

  await knex.schema.createTable('diagnosis_steps', (t) => {
    t.increments('id').primary();
    t.integer('session_id').notNullable().references('diagnosis_sessions.id');
    t.integer('seq').notNullable();
    t.text('node_id').notNullable();
    t.text('status').notNullable();
    t.jsonb('results').notNullable().defaultTo('{}');
    t.text('outcome');
    t.text('next_node');
    t.text('answered_by');
    t.text('answer');
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.timestamp('finished_at', { useTz: true });
    t.unique(['session_id', 'seq']);
  });
  await knex.raw(
    "alter table diagnosis_steps add constraint diagnosis_steps_status_check check (status in ('checking','asking','decided','concluded','overridden'))",
  );

  await knex.schema.alterTable('incidents', (t) => {
    t.jsonb('diagnosis');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('incidents', (t) => {
    t.dropColumn('diagnosis');
  });
  await knex.schema.dropTableIfExists('diagnosis_steps');
  await knex.schema.dropTableIfExists('diagnosis_sessions');
  await knex.schema.dropTableIfExists('golden_baselines');
  await knex.schema.dropTableIfExists('change_events');
}
