/**
 * The three dimensions of change in an AI system are code, prompt and model; the kinds split
 * them further so diagnosis can ask "did the embedding model or the index change?".
 */
export const CHANGE_KINDS = ['prompt', 'model', 'embedding', 'index', 'config', 'code'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

export function isChangeKind(value: string): value is ChangeKind {
  return (CHANGE_KINDS as readonly string[]).includes(value);
}

/** Limits a change must respect; the HTTP edge checks the same ones to name the bad field. */
export const CHANGE_LIMITS = {
  /** Service names, versions, authors and external ids. */
  shortText: 200,
  summary: 2000,
  /** Bytes of UTF-8. */
  diffBytes: 64 * 1024,
  link: 2048,
} as const;

/** A deploy of a prompt, model, embedding model, index, config or code to one service. */
export interface ChangeEvent {
  id: number;
  service: string;
  kind: ChangeKind;
  fromVersion: string | null;
  toVersion: string | null;
  author: string | null;
  /** When the change took effect, as the sender says. */
  at: Date;
  summary: string | null;
  diff: string | null;
  link: string | null;
  /** The sender's id for the change; a repeat with the same id records nothing new. */
  externalId: string | null;
  /** When aisre stored it. */
  recordedAt: Date;
}

export type NewChangeEvent = Omit<ChangeEvent, 'id'>;

const KIND_NAMES: Record<ChangeKind, string> = {
  prompt: 'Prompt',
  model: 'Model',
  embedding: 'Embedding model',
  index: 'Index',
  config: 'Config',
  code: 'Code',
};

const MAX_SUMMARY_IN_LINE = 200;

/** One line for timelines, e.g. "Prompt change on rag-assistant: v12 → v13 by alice: Cite sources". */
export function describeChange(
  change: Pick<ChangeEvent, 'kind' | 'service' | 'fromVersion' | 'toVersion' | 'author' | 'summary'>,
): string {
  let line = `${KIND_NAMES[change.kind]} change on ${change.service}`;
  if (change.fromVersion && change.toVersion) line += `: ${change.fromVersion} → ${change.toVersion}`;
  else if (change.toVersion) line += `: now ${change.toVersion}`;
  else if (change.fromVersion) line += `: was ${change.fromVersion}`;
  if (change.author) line += ` by ${change.author}`;
  const summary = change.summary?.replace(/\s+/g, ' ').trim();
  if (summary) {
    line += ` — ${summary.length > MAX_SUMMARY_IN_LINE ? `${summary.slice(0, MAX_SUMMARY_IN_LINE - 1)}…` : summary}`;
  }
  return line;
}
