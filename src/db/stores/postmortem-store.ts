import type { Knex } from 'knex';
import type { NewPostmortemVersion, PostmortemStore, PostmortemVersion } from '../../postmortems/ports.js';
import type { PostmortemEdits } from '../../postmortems/postmortem.js';

interface VersionRow {
  incident_id: number;
  version: number;
  reason: PostmortemVersion['reason'];
  created_by: string;
  created_at: Date;
  title: string;
  summary: string;
  summary_source: PostmortemVersion['summarySource'];
  markdown: string;
  edits: PostmortemEdits;
}

function toVersion(row: VersionRow): PostmortemVersion {
  return {
    incidentId: row.incident_id,
    version: row.version,
    reason: row.reason,
    createdBy: row.created_by,
    createdAt: row.created_at,
    title: row.title,
    summary: row.summary,
    summarySource: row.summary_source,
    markdown: row.markdown,
    edits: row.edits,
  };
}

/** Postmortems and their append-only versions in Postgres. */
export class KnexPostmortemStore implements PostmortemStore {
  constructor(private readonly db: Knex | Knex.Transaction) {}

  async edits(incidentId: number): Promise<PostmortemEdits | undefined> {
    const row = await this.db('postmortems').where({ incident_id: incidentId }).first('edits');
    return row ? (row as { edits: PostmortemEdits }).edits : undefined;
  }

  async lockForUpdate(incidentId: number): Promise<void> {
    await this.db.raw('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`postmortem:${incidentId}`]);
  }

  async addVersion(input: NewPostmortemVersion): Promise<PostmortemVersion> {
    const current = await this.db('postmortems')
      .where({ incident_id: input.incidentId })
      .first('latest_version');
    const version = ((current as { latest_version: number } | undefined)?.latest_version ?? 0) + 1;
    await this.db('postmortems')
      .insert({
        incident_id: input.incidentId,
        edits: JSON.stringify(input.edits),
        latest_version: version,
        updated_at: input.createdAt,
      })
      .onConflict('incident_id')
      .merge(['edits', 'latest_version', 'updated_at']);
    const [row] = await this.db('postmortem_versions')
      .insert({
        incident_id: input.incidentId,
        version,
        reason: input.reason,
        created_by: input.createdBy,
        created_at: input.createdAt,
        title: input.title,
        summary: input.summary,
        summary_source: input.summarySource,
        markdown: input.markdown,
        edits: JSON.stringify(input.edits),
      })
      .returning('*');
    return toVersion(row as VersionRow);
  }

  async latest(incidentId: number): Promise<PostmortemVersion | undefined> {
    const row = await this.db<VersionRow>('postmortem_versions')
      .where({ incident_id: incidentId })
      .orderBy('version', 'desc')
      .first();
    return row ? toVersion(row as VersionRow) : undefined;
  }

  async version(incidentId: number, version: number): Promise<PostmortemVersion | undefined> {
    const row = await this.db<VersionRow>('postmortem_versions')
      .where({ incident_id: incidentId, version })
      .first();
    return row ? toVersion(row as VersionRow) : undefined;
  }

  async awaitingDraft(limit: number): Promise<number[]> {
    const rows = await this.db('incidents as i')
      .where('i.status', 'resolved')
      .whereNotExists(this.db('postmortems as p').whereRaw('p.incident_id = i.id'))
      .orderBy('i.resolved_at')
      .limit(limit)
      .select('i.id');
    return (rows as Array<{ id: number }>).map((row) => row.id);
  }
}
