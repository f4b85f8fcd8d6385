import type { Knex } from 'knex';

/**
 * Every table that holds incident state, audit or work queued for Slack: what a refused request
 * must leave exactly as it was. `slack_inbound_requests` is left out on purpose: it records which
 * Slack trigger and event ids were seen, so that Slack's retries are processed once, and every
 * signed request marks its id there before any listener runs.
 */
export const STATE_TABLES = [
  'incidents',
  'alert_occurrences',
  'incident_timeline',
  'slack_outbox',
  'slack_incident_channels',
  'slack_messages',
  'change_events',
  'diagnosis_sessions',
  'diagnosis_steps',
  'action_runs',
  'action_audit',
  'action_checkpoints',
  'postmortems',
  'postmortem_versions',
] as const;

/** The rows of each table, in a stable order, to compare before and after a request. */
export async function tableSnapshot(
  knex: Knex,
  tables: readonly string[] = STATE_TABLES,
): Promise<Record<string, string[]>> {
  const snapshot: Record<string, string[]> = {};
  for (const table of tables) {
    const rows: unknown[] = await knex(table).select('*');
    snapshot[table] = rows.map((row) => JSON.stringify(row)).sort();
  }
  return snapshot;
}
