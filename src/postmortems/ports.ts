import type { PostmortemEdits, PostmortemSource } from './postmortem.js';

export type PostmortemReason = 'resolved' | 'requested' | 'edited';

/** One stored draft of an incident's postmortem. Versions are never changed, only added. */
export interface PostmortemVersion {
  incidentId: number;
  version: number;
  reason: PostmortemReason;
  createdBy: string;
  createdAt: Date;
  title: string;
  summary: string;
  summarySource: PostmortemSource;
  markdown: string;
  /** The responders' edits this version was drafted with. */
  edits: PostmortemEdits;
}

export type NewPostmortemVersion = Omit<PostmortemVersion, 'version'>;

/** Postmortems and their versions. Inside a unit of work, `lockForUpdate` serialises drafts of one incident. */
export interface PostmortemStore {
  /** The responders' current edits, or undefined when the incident has no postmortem yet. */
  edits(incidentId: number): Promise<PostmortemEdits | undefined>;
  lockForUpdate(incidentId: number): Promise<void>;
  /** Stores the next version (with the edits it used, which become the current edits). */
  addVersion(version: NewPostmortemVersion): Promise<PostmortemVersion>;
  latest(incidentId: number): Promise<PostmortemVersion | undefined>;
  version(incidentId: number, version: number): Promise<PostmortemVersion | undefined>;
  /** Resolved incidents that have no postmortem yet, oldest resolution first. */
  awaitingDraft(limit: number): Promise<number[]>;
}
