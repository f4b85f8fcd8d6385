import type { Knex } from 'knex';

const RUN_STATUSES = [
  'previewed',
  'awaiting_approval',
  'executing',
  'verifying',
  'recovered',
  'not_recovered',
  'unverified',
  'failed',
  'rejected',
  'cancelled',
];

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('action_runs', (t) => {
    t.increments('id').primary();
    t.integer('incident_id').notNullable().references('incidents.id');
    // The diagnosis and conclusion node that recommended it: verification re-runs that node's checks.
    t.integer('session_id').references('diagnosis_sessions.id');
    t.text('node_id');
    t.text('action_id').notNullable();
    t.text('kind').notNullable();
    t.integer('undo_of').references('action_runs.id');
    t.jsonb('params').notNullable();
    t.text('risk').notNullable();
    t.text('status').notNullable();
    /** Set on runs started by a runbook's `auto` flag, so a resumed or repeated conclusion starts it once. */
    t.text('auto_key');
    t.text('requested_by').notNullable();
    t.timestamp('requested_at', { useTz: true }).notNullable();
    t.text('approved_by');
    t.timestamp('approved_at', { useTz: true });
    t.text('executed_by');
    t.timestamp('executed_at', { useTz: true });
    t.jsonb('preview');
    t.jsonb('outcome');
    t.jsonb('previous_state');
    t.text('error');
    // Who is working on an executing or due run, until when: a crashed process's claim runs out and
    // another (or the restarted one) takes the run over, where its checkpoints left it.
    t.timestamp('lease_until', { useTz: true });
    t.timestamp('verify_at', { useTz: true });
    t.jsonb('verification');
    t.timestamp('finished_at', { useTz: true });
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.unique(['auto_key']);
    t.index(['incident_id', 'id']);
    t.index(['status', 'verify_at']);
  });
  await knex.raw(
    `alter table action_runs add constraint action_runs_status_check check (status in (${RUN_STATUSES.map((s) => `'${s}'`).join(',')}))`,
  );
  await knex.raw(
    "alter table action_runs add constraint action_runs_kind_check check (kind in ('run','undo') and (kind = 'undo') = (undo_of is not null))",
  );
  await knex.raw(
    "alter table action_runs add constraint action_runs_risk_check check (risk in ('low','high'))",
  );
  // One undo in progress or done per run; a failed, rejected or cancelled one can be tried again.
  await knex.raw(
    "create unique index action_runs_one_undo_idx on action_runs (undo_of) where status not in ('failed','rejected','cancelled')",
  );

  await knex.schema.createTable('action_checkpoints', (t) => {
    t.integer('run_id').notNullable().references('action_runs.id');
    t.text('key').notNullable();
    t.jsonb('result').notNullable();
    t.timestamp('at', { useTz: true }).notNullable();
    t.primary(['run_id', 'key']);
  });

  await knex.schema.createTable('action_audit', (t) => {
    t.bigIncrements('id').primary();
    t.integer('run_id').notNullable().references('action_runs.id');
    t.integer('incident_id').notNullable().references('incidents.id');
    t.timestamp('at', { useTz: true }).notNullable();
    t.text('actor').notNullable();
    t.text('event').notNullable();
    t.jsonb('data').notNullable();
    t.index(['run_id', 'id']);
    t.index(['incident_id', 'id']);
  });
  // The audit answers "what exactly did aisre do": refuse edits and deletions at the database.
  await knex.raw(`
    create function aisre_action_audit_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'action_audit is append-only';
    end $$`);
  await knex.raw(`
    create trigger action_audit_append_only before update or delete on action_audit
    for each row execute function aisre_action_audit_append_only()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('action_audit');
  await knex.raw('drop function if exists aisre_action_audit_append_only()');
  await knex.schema.dropTableIfExists('action_checkpoints');
  await knex.schema.dropTableIfExists('action_runs');
}
