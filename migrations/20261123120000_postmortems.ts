import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // Responders' edits of an incident's postmortem: every regeneration starts from the record and
  // puts these back, so a new draft never loses what people wrote.
  await knex.schema.createTable('postmortems', (t) => {
    t.integer('incident_id').primary().references('incidents.id');
    t.jsonb('edits').notNullable().defaultTo('{}');
    t.integer('latest_version').notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
  });

  await knex.schema.createTable('postmortem_versions', (t) => {
    t.integer('incident_id').notNullable().references('incidents.id');
    t.integer('version').notNullable();
    t.text('reason').notNullable();
    t.text('created_by').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.text('title').notNullable();
    t.text('summary').notNullable();
    /** Where the summary came from: the record, a person's edit, or the model that rewrote it. */
    t.text('summary_source').notNullable();
    t.text('markdown').notNullable();
    t.jsonb('edits').notNullable();
    t.primary(['incident_id', 'version']);
  });
  await knex.raw(
    "alter table postmortem_versions add constraint postmortem_versions_reason_check check (reason in ('resolved','requested','edited'))",
  );
  // Versions are the history reviewers compare: refuse edits and deletions at the database.
  await knex.raw(`
    create function aisre_postmortem_versions_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'postmortem_versions is append-only';
    end $$`);
  await knex.raw(`
    create trigger postmortem_versions_append_only before update or delete on postmortem_versions
    for each row execute function aisre_postmortem_versions_append_only()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('postmortem_versions');
  await knex.raw('drop function if exists aisre_postmortem_versions_append_only()');
  await knex.schema.dropTableIfExists('postmortems');
}
