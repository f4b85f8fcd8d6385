import type { LabelMatcher } from './promql-parser.js';
import {
  type Labels,
  labelsKey,
  type Point,
  PromqlError,
  type Series,
  type SeriesSource,
} from './promql-subset.js';

/** One sample line of the Prometheus text exposition format. */
export interface ExpositionSample {
  labels: Labels;
  value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(?:\s+(-?\d+))?\s*$/;
const LABEL_PAIR = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|$)/y;

function parseValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`not a sample value: ${JSON.stringify(text)}`);
  return value;
}

function unescapeLabel(value: string): string {
  return value.replace(/\\(.)/g, (_, char: string) => (char === 'n' ? '\n' : char));
}

/**
 * Parses the Prometheus text exposition format (what `GET /metrics` serves): every sample with
 * its labels, the metric name as `__name__`. Comments and blank lines are skipped; a line that is
 * not a sample is an error, so a format change shows rather than losing series.
 */
export function parseExposition(text: string): ExpositionSample[] {
  const samples: ExpositionSample[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const match = SAMPLE_LINE.exec(line);
    if (!match) throw new Error(`not a sample line of the text exposition format: ${line}`);
    const [, name, braces, value] = match as unknown as [string, string, string | undefined, string];
    const labels: Labels = { __name__: name };
    if (braces) {
      const inner = braces.slice(1, -1);
      LABEL_PAIR.lastIndex = 0;
      while (LABEL_PAIR.lastIndex < inner.length) {
        const pair = LABEL_PAIR.exec(inner);
        if (!pair) throw new Error(`unreadable labels in: ${line}`);
        labels[pair[1] as string] = unescapeLabel(pair[2] as string);
      }
    }
    samples.push({ labels, value: parseValue(value) });
  }
  return samples;
}

interface StoredSeries {
  labels: Labels;
  points: Point[];
}

function matches(labels: Labels, matcher: LabelMatcher, regexes: Map<string, RegExp>): boolean {
  const value = labels[matcher.name] ?? '';
  switch (matcher.op) {
    case '=':
      return value === matcher.value;
    case '!=':
      return value !== matcher.value;
    case '=~':
    case '!~': {
      let regex = regexes.get(matcher.value);
      if (!regex) {
        try {
          regex = new RegExp(`^(?:${matcher.value})$`, 's');
        } catch {
          throw new PromqlError(`invalid regular expression ${JSON.stringify(matcher.value)}`);
        }
        regexes.set(matcher.value, regex);
      }
      return regex.test(value) === (matcher.op === '=~');
    }
  }
}

/** Index of the first point after `t` (points are in time order). */
function firstAfter(points: readonly Point[], t: number): number {
  let low = 0;
  let high = points.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if ((points[mid] as Point).t <= t) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * An in-memory time-series store filled by scrapes, as Prometheus's TSDB would be: each scrape's
 * samples are appended with the target's `job` and `instance` labels, and a series missing from
 * the next scrape of its target gets a staleness marker, so it drops out of instant queries.
 */
export class ScrapeStore implements SeriesSource {
  private readonly series = new Map<string, StoredSeries>();
  private readonly byName = new Map<string, Set<StoredSeries>>();
  private readonly lastSeen = new Map<string, Set<StoredSeries>>();
  private readonly regexes = new Map<string, RegExp>();

  /** Appends one scrape of `target` taken at `atMs`; scrapes of a target come in time order. */
  ingest(exposition: string, atMs: number, target: { job: string; instance: string }): void {
    const targetKey = `${target.job}/${target.instance}`;
    const previous = this.lastSeen.get(targetKey) ?? new Set<StoredSeries>();
    const current = new Set<StoredSeries>();
    for (const sample of parseExposition(exposition)) {
      const labels = { ...sample.labels, job: target.job, instance: target.instance };
      const stored = this.seriesFor(labels);
      const last = stored.points[stored.points.length - 1];
      if (last && last.t >= atMs) continue;
      stored.points.push({ t: atMs, v: sample.value });
      current.add(stored);
    }
    for (const gone of previous) if (!current.has(gone)) gone.points.push({ t: atMs, v: null });
    this.lastSeen.set(targetKey, current);
  }

  private seriesFor(labels: Labels): StoredSeries {
    const key = labelsKey(labels);
    let stored = this.series.get(key);
    if (!stored) {
      stored = { labels, points: [] };
      this.series.set(key, stored);
      const name = labels.__name__ ?? '';
      const named = this.byName.get(name) ?? new Set<StoredSeries>();
      this.byName.set(name, named);
      named.add(stored);
    }
    return stored;
  }

  select(matchers: readonly LabelMatcher[], fromMs: number, toMs: number): Series[] {
    const name = matchers.find((m) => m.name === '__name__' && m.op === '=');
    const candidates = name ? (this.byName.get(name.value) ?? []) : this.series.values();
    const out: Series[] = [];
    for (const stored of candidates) {
      if (!matchers.every((matcher) => matches(stored.labels, matcher, this.regexes))) continue;
      const points = stored.points.slice(firstAfter(stored.points, fromMs), firstAfter(stored.points, toMs));
      if (points.length > 0) out.push({ labels: stored.labels, points });
    }
    return out;
  }

  /** How many series the store holds, for the demo's narration. */
  size(): number {
    return this.series.size;
  }
}
