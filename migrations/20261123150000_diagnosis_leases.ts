import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // Which process runs a live session, and until when it has promised to: with several replicas
  // on one database, exactly one runs each session, and another takes it over once the lease of
  // a process that died runs out.
  await knex.schema.alterTable('diagnosis_sessions', (t) => {
    t.text('owner');
    t.timestamp('lease_until', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('diagnosis_sessions', (t) => {
    t.dropColumn('lease_until');
    t.dropColumn('owner');
  });
}
