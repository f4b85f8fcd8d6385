import type { z } from 'zod';
import type { Logger } from '../logger.js';

/**
 * What a check concluded. `pass` means the thing it watches is healthy and `fail` that it found
 * the problem it looks for. `inconclusive` covers "no data" and results that cannot decide;
 * `error` means the check itself could not run. Neither of the last two ever counts as a pass.
 */
export type CheckStatus = 'pass' | 'fail' | 'inconclusive' | 'error';

export interface CheckLink {
  label: string;
  url: string;
}

export interface CheckEvidence {
  label: string;
  value: string;
}

export interface CheckResult {
  status: CheckStatus;
  value: number | string | null;
  /** One line a responder reads first, e.g. "eval pass rate 0.71 < 0.90". */
  summary: string;
  evidence: CheckEvidence[];
  links: CheckLink[];
}

/** The facts about an incident that checks may use, e.g. in query templates. */
export interface CheckIncident {
  id: number;
  title: string;
  service: string | null;
  layerHint: string | null;
  /** Labels shared by the incident's alerts (group labels plus common ones). */
  labels: Record<string, string>;
  /** When the incident (its first alert) started. */
  startedAt: Date;
}

/** Recent change events, read by the `changes` check. */
export interface ChangeEventReader {
  list(filter: {
    service: string | null;
    kinds: readonly string[];
    from: Date;
    to: Date;
  }): Promise<ChangeEventFact[]>;
}

export interface ChangeEventFact {
  id: number;
  service: string;
  kind: string;
  fromVersion: string | null;
  toVersion: string | null;
  author: string | null;
  at: Date;
  link: string | null;
  summary: string | null;
}

/** Stored golden-set baselines, so a run can be compared with the last good one. */
export interface GoldenBaselineStore {
  get(key: string): Promise<GoldenBaseline | undefined>;
  save(key: string, baseline: GoldenBaseline): Promise<void>;
}

export interface GoldenBaseline {
  passRate: number;
  models: string[];
  fingerprints: string[];
  recordedAt: Date;
}

/** Integrations checks reach, configured once in the composition root. */
export interface CheckDependencies {
  prometheus: { url: string | undefined; publicUrl: string | undefined; headers: Record<string, string> };
  llm: { baseUrl: string | undefined; apiKey: string | undefined };
  changes: ChangeEventReader;
  goldenBaselines: GoldenBaselineStore;
  fetch: typeof fetch;
}

export interface CheckContext<P> {
  params: P;
  incident: CheckIncident;
  now: Date;
  signal: AbortSignal;
  logger: Logger;
  deps: CheckDependencies;
}

/**
 * A check plugin: a type name, zod parameters (validated when runbooks load), a default
 * timeout, and `run`. Checks must be read-only: a diagnosis resumed after a restart runs the
 * checks that were in flight again.
 */
export interface CheckType<P = unknown> {
  type: string;
  description: string;
  params: z.ZodType<P>;
  defaultTimeoutMs: number;
  run(ctx: CheckContext<P>): Promise<CheckResult>;
}

/** Builds a result for a check that could not run; its summary says why. */
export function errorResult(summary: string, links: CheckLink[] = []): CheckResult {
  return { status: 'error', value: null, summary, evidence: [], links };
}
