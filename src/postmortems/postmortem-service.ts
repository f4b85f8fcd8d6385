import { subDays, subHours } from 'date-fns';
import { AppError } from '../errors.js';
import { type Actor, actorRef, type Incident, incidentRef } from '../incidents/incident.js';
import type { Clock, UnitOfWork } from '../incidents/ports.js';
import type { Logger } from '../logger.js';
import type { PostmortemReason, PostmortemVersion } from './ports.js';
import type { PostmortemDraft, PostmortemEdits, PostmortemRecord } from './postmortem.js';
import {
  changedEdits,
  draftPostmortem,
  editableText,
  renderPostmortemMarkdown,
  withModelSummary,
} from './postmortem-draft.js';
import { type ImpactReader, impactWindow } from './postmortem-impact.js';
import type { SummaryWriter } from './summary-writer.js';
import { buildWeeklyReview, type WeeklyReview } from './weekly-review.js';

export interface PostmortemServiceDeps {
  uow: UnitOfWork;
  impact: ImpactReader;
  /** Rewrites the summary in prose when an LLM endpoint is configured; the draft never depends on it. */
  summaryWriter: SummaryWriter | undefined;
  clock: Clock;
  logger: Logger;
}

/** How far before an incident started changes are listed: a prompt deployed the day before counts. */
const CHANGE_LOOKBACK_HOURS = 24;
const ALERTS_READ = 5000;
const DRAFTS_PER_POLL = 5;
/** The most incidents a review reads; a bigger window would be an outage, not a week. */
const REVIEW_LIMIT = 5000;

function who(actor: Actor): string {
  return actor.kind === 'slack' ? `<@${actor.userId}>` : actor.kind === 'system' ? 'aisre' : actorRef(actor);
}

/**
 * Drafts, stores and revises postmortems. A draft is made from the incident record when the
 * incident is resolved (found by polling, so a crash never loses one) and whenever someone asks.
 * Every draft is a new version; responders' edits are kept apart and put back into each draft.
 */
export class PostmortemService {
  private drafting = false;

  constructor(private readonly deps: PostmortemServiceDeps) {}

  /** Drafts a new version from the record as it stands, with the responders' edits. */
  async draft(
    incidentId: number,
    actor: Actor,
    reason: PostmortemReason = 'requested',
  ): Promise<PostmortemVersion> {
    const incident = await this.incident(incidentId);
    const edits = (await this.deps.uow.read.postmortems.edits(incidentId)) ?? {};
    const draft = await this.withSummary(
      draftPostmortem(await this.record(incident), edits, { generatedAt: this.deps.clock.now() }),
    );
    return this.store(incident, draft, edits, actor, reason);
  }

  /**
   * Stores what a responder changed in the edit modal and drafts a new version with it. Fields
   * submitted as shown stay seeded (they keep following the record); a field cleared goes back to
   * what aisre seeds.
   */
  async edit(incidentId: number, submitted: PostmortemEdits, actor: Actor): Promise<PostmortemVersion> {
    const incident = await this.incident(incidentId);
    const current = (await this.deps.uow.read.postmortems.edits(incidentId)) ?? {};
    const record = await this.record(incident);
    const shown = draftPostmortem(record, current);
    const edits: PostmortemEdits = { ...current, ...changedEdits(shown, submitted) };
    for (const key of Object.keys(edits) as Array<keyof PostmortemEdits>) {
      if (!edits[key]?.trim()) delete edits[key];
    }
    const draft = await this.withSummary(
      draftPostmortem(record, edits, { generatedAt: this.deps.clock.now() }),
    );
    return this.store(incident, draft, edits, actor, 'edited');
  }

  /** What the edit modal shows: the current text of each editable field. */
  async editable(incidentId: number): Promise<Required<PostmortemEdits>> {
    const incident = await this.incident(incidentId);
    const edits = (await this.deps.uow.read.postmortems.edits(incidentId)) ?? {};
    return editableText(draftPostmortem(await this.record(incident), edits));
  }

  async latest(incidentId: number): Promise<PostmortemVersion | undefined> {
    return this.deps.uow.read.postmortems.latest(incidentId);
  }

  async version(incidentId: number, version: number): Promise<PostmortemVersion | undefined> {
    return this.deps.uow.read.postmortems.version(incidentId, version);
  }

  /** The review of the incidents opened in the last `days` days, for `/aisre report`. */
  async review(days: number): Promise<WeeklyReview> {
    const to = this.deps.clock.now();
    const from = subDays(to, days);
    const read = this.deps.uow.read;
    const incidents = await read.incidents.list({ createdFrom: from, limit: REVIEW_LIMIT });
    const ids = incidents.map((incident) => incident.id);
    const [actions, diagnosedAt] = await Promise.all([
      read.actions.listForIncidents(ids),
      read.diagnosis.concludedAt(ids),
    ]);
    return buildWeeklyReview({ from, to, incidents, actions, diagnosedAt });
  }

  /** Drafts the postmortems of incidents resolved since the last poll (or while aisre was down). */
  async draftDue(): Promise<number> {
    if (this.drafting) return 0;
    this.drafting = true;
    try {
      const due = await this.deps.uow.read.postmortems.awaitingDraft(DRAFTS_PER_POLL);
      for (const incidentId of due) {
        try {
          await this.draft(incidentId, { kind: 'system' }, 'resolved');
        } catch (err) {
          this.deps.logger.error({ err, incidentId }, 'drafting a postmortem failed');
        }
      }
      return due.length;
    } finally {
      this.drafting = false;
    }
  }

  private async incident(incidentId: number): Promise<Incident> {
    const incident = await this.deps.uow.read.incidents.get(incidentId);
    if (!incident) throw new AppError('not_found', `There is no incident INC-${incidentId}.`);
    if (incident.status === 'cancelled') {
      throw new AppError('conflict', `${incidentRef(incident)} was cancelled: there is nothing to write up.`);
    }
    return incident;
  }

  /** Everything aisre recorded about the incident, read outside any transaction. */
  private async record(incident: Incident): Promise<PostmortemRecord> {
    const read = this.deps.uow.read;
    const now = this.deps.clock.now();
    const alerts = await read.alerts.listForIncident(incident.id, ALERTS_READ);
    const window = impactWindow(incident, alerts, now);
    const session = await read.diagnosis.latestForIncident(incident.id);
    const [timeline, steps, changes, actions, impact] = await Promise.all([
      read.timeline.list(incident.id),
      session ? read.diagnosis.steps(session.id) : Promise.resolve([]),
      read.changes.list({
        service: incident.service,
        from: subHours(window.from, CHANGE_LOOKBACK_HOURS),
        to: window.to,
        limit: 200,
      }),
      read.actions.listForIncident(incident.id),
      this.deps.impact.read(window),
    ]);
    return {
      incident,
      alerts,
      timeline,
      diagnosis: session ? { session, steps } : null,
      changes,
      actions,
      impact,
    };
  }

  private async withSummary(draft: PostmortemDraft): Promise<PostmortemDraft> {
    if (!this.deps.summaryWriter || draft.summary.source === 'edited') return draft;
    const text = await this.deps.summaryWriter.rewrite(draft);
    return text ? withModelSummary(draft, text) : draft;
  }

  private async store(
    incident: Incident,
    draft: PostmortemDraft,
    edits: PostmortemEdits,
    actor: Actor,
    reason: PostmortemReason,
  ): Promise<PostmortemVersion> {
    const at = this.deps.clock.now();
    const markdown = renderPostmortemMarkdown(draft);
    return this.deps.uow.run(async (stores) => {
      await stores.postmortems.lockForUpdate(incident.id);
      // Two processes may find the same resolved incident; the second keeps the first's draft.
      const latest = await stores.postmortems.latest(incident.id);
      if (reason === 'resolved' && latest) return latest;
      const version = await stores.postmortems.addVersion({
        incidentId: incident.id,
        reason,
        createdBy: actorRef(actor),
        createdAt: at,
        title: draft.title,
        summary: draft.summary.text,
        summarySource: draft.summary.source,
        markdown,
        edits,
      });
      const why =
        reason === 'resolved'
          ? 'after the incident was resolved'
          : reason === 'edited'
            ? 'with edits'
            : 'on request';
      await stores.timeline.append(incident.id, [
        {
          at,
          actor: actorRef(actor),
          kind: 'postmortem.drafted',
          summary: `${who(actor)} drafted postmortem v${version.version} ${why}`,
          data: { version: version.version, reason },
        },
      ]);
      await stores.notifications.enqueue(incident.id, { kind: 'postmortem.drafted' });
      return version;
    });
  }
}
