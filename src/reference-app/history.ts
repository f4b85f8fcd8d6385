import { STEP_MS } from './catalog.js';
import { createReferenceAppMetrics } from './metrics.js';
import { initialState } from './state.js';
import { simulate } from './traffic.js';

/** One scrape of a simulated app: the exposition `GET /metrics` would have served at `atMs`. */
export interface Scrape {
  atMs: number;
  exposition: string;
}

export interface HistoryOptions {
  fromMs: number;
  toMs: number;
  /** Time between scrapes; 15 s by default, Prometheus's usual interval. */
  stepMs?: number;
  service?: string;
}

const DEFAULT_STEP_MS = 15_000;

/**
 * What a healthy reference app would have served between `fromMs` and `toMs`, one scrape every
 * `stepMs`, from the same simulation the live app runs. Runbook checks compare with yesterday
 * (`offset 1d`); a Prometheus that started a minute ago has no yesterday, so game days, the demo
 * and the end-to-end suite load this as the baseline (see `openMetricsHistory`). Every series
 * starts from zero at `fromMs`, as after a restart.
 */
export async function healthyHistory(options: HistoryOptions): Promise<Scrape[]> {
  const stepMs = options.stepMs ?? DEFAULT_STEP_MS;
  if (stepMs < STEP_MS || stepMs % STEP_MS !== 0) {
    throw new Error(`the scrape step must be a multiple of ${STEP_MS} ms, got ${stepMs}`);
  }
  if (options.toMs < options.fromMs) throw new Error('the history must end after it starts');
  let state = initialState({
    nowMs: options.fromMs,
    ...(options.service ? { service: options.service } : {}),
  });
  const metrics = createReferenceAppMetrics(() => state);
  const scrapes: Scrape[] = [];
  for (let atMs = options.fromMs; atMs <= options.toMs; atMs += stepMs) {
    if (atMs > options.fromMs) {
      const step = simulate(state, stepMs / STEP_MS);
      state = step.state;
      metrics.record(step.events);
    }
    scrapes.push({ atMs, exposition: await metrics.registry.metrics() });
  }
  return scrapes;
}

/**
 * The scrapes as one OpenMetrics document with timestamps, the input of
 * `promtool tsdb create-blocks-from openmetrics`. OpenMetrics wants each metric family in one
 * piece, so samples are regrouped family by family, then series by series in time order. Type
 * and help lines are left out: the backfilled samples are queried by name, and OpenMetrics'
 * stricter suffix rules for typed families (counters end in `_total`) would reject some names
 * the text format allows.
 */
export function openMetricsHistory(scrapes: readonly Scrape[]): string {
  const families = new Map<string, Map<string, string[]>>();
  for (const { atMs, exposition } of scrapes) {
    const seconds = (atMs / 1000).toFixed(3);
    let family = '';
    for (const line of exposition.split('\n')) {
      if (line.startsWith('# TYPE ')) {
        family = line.split(' ')[2] ?? '';
        continue;
      }
      if (line === '' || line.startsWith('#')) continue;
      const cut = line.lastIndexOf(' ');
      const series = line.slice(0, cut);
      const samples = families.get(family) ?? new Map<string, string[]>();
      families.set(family, samples);
      const lines = samples.get(series) ?? [];
      samples.set(series, lines);
      lines.push(`${series} ${line.slice(cut + 1)} ${seconds}`);
    }
  }
  const out: string[] = [];
  for (const samples of families.values()) for (const lines of samples.values()) out.push(...lines);
  out.push('# EOF');
  return `${out.join('\n')}\n`;
}
