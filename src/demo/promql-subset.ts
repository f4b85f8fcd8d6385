import {
  type AggregationOp,
  type ArithmeticOp,
  type ComparisonOp,
  type Expr,
  type LabelMatcher,
  PromqlError,
  parsePromql,
} from './promql-parser.js';

export { PromqlError } from './promql-parser.js';

export type Labels = Record<string, string>;
/** One stored sample; `null` is a staleness marker (the series vanished from a scrape). */
export interface Point {
  t: number;
  v: number | null;
}
export interface Series {
  labels: Labels;
  points: readonly Point[];
}
export interface Sample {
  labels: Labels;
  value: number;
}

/** What a query evaluates to, as Prometheus's API names the result types. */
export type QueryValue =
  | { type: 'scalar'; value: number }
  | { type: 'vector'; samples: Sample[] }
  | { type: 'matrix'; series: Array<{ labels: Labels; points: Array<{ t: number; v: number }> }> };

/** Where the evaluator reads samples: every series matching all matchers, with its points in (fromMs, toMs]. */
export interface SeriesSource {
  select(matchers: readonly LabelMatcher[], fromMs: number, toMs: number): Series[];
}

/** How far back an instant selector looks for a series' latest sample, as in Prometheus. */
export const LOOKBACK_MS = 5 * 60_000;

/** Parses and evaluates `query` at `atMs`, reading samples from `source`. */
export function instantQuery(query: string, atMs: number, source: SeriesSource): QueryValue {
  return evaluate(parsePromql(query), atMs, source);
}

type Vector = Sample[];
type Matrix = Array<{ labels: Labels; points: Array<{ t: number; v: number }> }>;

function withoutName(labels: Labels): Labels {
  const { __name__: _name, ...rest } = labels;
  return rest;
}

/** A stable key of a label set, for grouping and vector matching. */
export function labelsKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function asVector(value: QueryValue, what: string): Vector {
  if (value.type === 'vector') return value.samples;
  throw new PromqlError(`${what} expects an instant vector, got a ${value.type}`);
}

function asMatrix(value: QueryValue, what: string): Matrix {
  if (value.type === 'matrix') return value.series;
  throw new PromqlError(`${what} expects a range vector, got a ${value.type}`);
}

function asScalar(value: QueryValue, what: string): number {
  if (value.type === 'scalar') return value.value;
  throw new PromqlError(`${what} expects a scalar, got a ${value.type}`);
}

function selectInstant(
  expr: Extract<Expr, { kind: 'selector' }>,
  atMs: number,
  source: SeriesSource,
): Vector {
  const at = atMs - expr.offsetMs;
  const samples: Vector = [];
  for (const series of source.select(expr.matchers, at - LOOKBACK_MS, at)) {
    const last = series.points[series.points.length - 1];
    if (last && last.v !== null) samples.push({ labels: series.labels, value: last.v });
  }
  return samples;
}

function selectRange(
  selector: Extract<Expr, { kind: 'selector' }>,
  rangeMs: number,
  atMs: number,
  source: SeriesSource,
): Matrix {
  const at = atMs - selector.offsetMs;
  const matrix: Matrix = [];
  for (const series of source.select(selector.matchers, at - rangeMs, at)) {
    const points = series.points.filter((p): p is { t: number; v: number } => p.v !== null);
    if (points.length > 0) matrix.push({ labels: series.labels, points });
  }
  return matrix;
}

/**
 * Prometheus's extrapolated rate/increase: the counter's rise over the samples in the window,
 * corrected for resets, extrapolated towards the window's edges (not past a counter's zero).
 */
function extrapolatedIncrease(
  points: ReadonlyArray<{ t: number; v: number }>,
  atMs: number,
  rangeMs: number,
) {
  if (points.length < 2) return undefined;
  const first = points[0] as { t: number; v: number };
  const last = points[points.length - 1] as { t: number; v: number };
  let result = last.v - first.v;
  for (let i = 1; i < points.length; i++) {
    const previous = (points[i - 1] as { v: number }).v;
    if ((points[i] as { v: number }).v < previous) result += previous;
  }
  const sampled = (last.t - first.t) / 1000;
  let toStart = (first.t - (atMs - rangeMs)) / 1000;
  const toEnd = (atMs - last.t) / 1000;
  const averageInterval = sampled / (points.length - 1);
  if (result > 0 && first.v >= 0) {
    const toZero = sampled * (first.v / result);
    if (toZero < toStart) toStart = toZero;
  }
  const threshold = averageInterval * 1.1;
  let interval = sampled;
  interval += toStart < threshold ? toStart : averageInterval / 2;
  interval += toEnd < threshold ? toEnd : averageInterval / 2;
  return result * (interval / sampled);
}

function overTime(
  matrix: Matrix,
  fold: (points: ReadonlyArray<{ t: number; v: number }>) => number | undefined,
): Vector {
  const out: Vector = [];
  for (const series of matrix) {
    const value = fold(series.points);
    if (value !== undefined) out.push({ labels: withoutName(series.labels), value });
  }
  return out;
}

/** Prometheus's bucketQuantile over classic `le` buckets. */
function bucketQuantile(q: number, buckets: Array<{ le: number; count: number }>): number {
  if (Number.isNaN(q)) return Number.NaN;
  if (q < 0) return Number.NEGATIVE_INFINITY;
  if (q > 1) return Number.POSITIVE_INFINITY;
  buckets.sort((a, b) => a.le - b.le);
  const top = buckets[buckets.length - 1];
  if (!top || top.le !== Number.POSITIVE_INFINITY || buckets.length < 2) return Number.NaN;
  // Rates of separately scraped buckets can dip below a lower bucket; keep counts monotonic.
  for (let i = 1; i < buckets.length; i++) {
    const below = (buckets[i - 1] as { count: number }).count;
    const bucket = buckets[i] as { count: number };
    if (bucket.count < below) bucket.count = below;
  }
  const observations = top.count;
  if (observations === 0) return Number.NaN;
  let rank = q * observations;
  const b = buckets.findIndex((bucket) => bucket.count >= rank);
  if (b === buckets.length - 1) return (buckets[buckets.length - 2] as { le: number }).le;
  const bucket = buckets[b] as { le: number; count: number };
  if (b === 0 && bucket.le <= 0) return bucket.le;
  let start = 0;
  let count = bucket.count;
  if (b > 0) {
    const previous = buckets[b - 1] as { le: number; count: number };
    start = previous.le;
    count -= previous.count;
    rank -= previous.count;
  }
  return start + (bucket.le - start) * (rank / count);
}

function histogramQuantile(q: number, vector: Vector): Vector {
  const groups = new Map<string, { labels: Labels; buckets: Array<{ le: number; count: number }> }>();
  for (const sample of vector) {
    const { le, ...rest } = withoutName(sample.labels);
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    if (Number.isNaN(bound)) continue;
    const key = labelsKey(rest);
    const group = groups.get(key) ?? { labels: rest, buckets: [] };
    groups.set(key, group);
    group.buckets.push({ le: bound, count: sample.value });
  }
  return [...groups.values()].map(({ labels, buckets }) => ({ labels, value: bucketQuantile(q, buckets) }));
}

function aggregate(op: AggregationOp, by: readonly string[], vector: Vector): Vector {
  const groups = new Map<string, { labels: Labels; values: number[] }>();
  for (const sample of vector) {
    const labels: Labels = {};
    for (const name of by) {
      const value = sample.labels[name];
      if (value !== undefined && value !== '') labels[name] = value;
    }
    const key = labelsKey(labels);
    const group = groups.get(key) ?? { labels, values: [] };
    groups.set(key, group);
    group.values.push(sample.value);
  }
  return [...groups.values()].map(({ labels, values }) => ({ labels, value: fold(op, values) }));
}

function fold(op: AggregationOp, values: readonly number[]): number {
  switch (op) {
    case 'sum':
      return values.reduce((total, value) => total + value, 0);
    case 'avg':
      return values.reduce((total, value) => total + value, 0) / values.length;
    case 'count':
      return values.length;
    case 'max':
      return values.reduce((best, value) => (Number.isNaN(best) || value > best ? value : best), Number.NaN);
    case 'min':
      return values.reduce((best, value) => (Number.isNaN(best) || value < best ? value : best), Number.NaN);
  }
}

function arithmetic(op: ArithmeticOp, a: number, b: number): number {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b;
    case '%':
      return a % b;
    case '^':
      return a ** b;
  }
}

function compare(op: ComparisonOp, a: number, b: number): boolean {
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '>':
      return a > b;
    case '<':
      return a < b;
    case '>=':
      return a >= b;
    case '<=':
      return a <= b;
  }
}

const isComparison = (op: string): op is ComparisonOp => ['==', '!=', '>', '<', '>=', '<='].includes(op);

function binary(expr: Extract<Expr, { kind: 'binary' }>, left: QueryValue, right: QueryValue): QueryValue {
  const { op, bool } = expr;
  if (left.type === 'matrix' || right.type === 'matrix') {
    throw new PromqlError(`binary ${op} needs scalars or instant vectors, not a range vector`);
  }
  if (left.type === 'scalar' && right.type === 'scalar') {
    if (!isComparison(op)) return { type: 'scalar', value: arithmetic(op, left.value, right.value) };
    if (!bool) throw new PromqlError('comparisons between scalars must use the bool modifier');
    return { type: 'scalar', value: compare(op, left.value, right.value) ? 1 : 0 };
  }
  if (left.type === 'vector' && right.type === 'vector')
    return vectorMatch(expr, left.samples, right.samples);
  // One side is a vector and the other a scalar: the operation applies to every sample.
  const vectorOnLeft = left.type === 'vector';
  const samples = vectorOnLeft ? left.samples : (right as { samples: Vector }).samples;
  const scalar = vectorOnLeft ? (right as { value: number }).value : (left as { value: number }).value;
  const out: Vector = [];
  for (const sample of samples) {
    const [a, b] = vectorOnLeft ? [sample.value, scalar] : [scalar, sample.value];
    if (!isComparison(op)) {
      out.push({ labels: withoutName(sample.labels), value: arithmetic(op, a, b) });
    } else if (bool) {
      out.push({ labels: withoutName(sample.labels), value: compare(op, a, b) ? 1 : 0 });
    } else if (compare(op, a, b)) {
      out.push(sample);
    }
  }
  return { type: 'vector', samples: out };
}

/** One-to-one matching on all labels but the name; `on`, `ignoring` and group modifiers are refused by the parser. */
function vectorMatch(expr: Extract<Expr, { kind: 'binary' }>, left: Vector, right: Vector): QueryValue {
  const { op, bool } = expr;
  const rightByKey = new Map<string, Sample>();
  for (const sample of right) {
    const key = labelsKey(withoutName(sample.labels));
    if (rightByKey.has(key)) {
      throw new PromqlError(`found duplicate series for the match group ${key} on the right side of ${op}`);
    }
    rightByKey.set(key, sample);
  }
  const out: Vector = [];
  const seen = new Set<string>();
  for (const sample of left) {
    const key = labelsKey(withoutName(sample.labels));
    const match = rightByKey.get(key);
    if (!match) continue;
    if (seen.has(key)) {
      throw new PromqlError(`found duplicate series for the match group ${key} on the left side of ${op}`);
    }
    seen.add(key);
    if (!isComparison(op)) {
      out.push({ labels: withoutName(sample.labels), value: arithmetic(op, sample.value, match.value) });
    } else if (bool) {
      out.push({ labels: withoutName(sample.labels), value: compare(op, sample.value, match.value) ? 1 : 0 });
    } else if (compare(op, sample.value, match.value)) {
      out.push(sample);
    }
  }
  return { type: 'vector', samples: out };
}

function call(expr: Extract<Expr, { kind: 'call' }>, atMs: number, source: SeriesSource): QueryValue {
  const args = expr.args.map((arg) => evaluate(arg, atMs, source));
  switch (expr.name) {
    case 'time':
      return { type: 'scalar', value: atMs / 1000 };
    case 'rate':
    case 'increase': {
      const arg = expr.args[0];
      const rangeMs = arg?.kind === 'range' ? arg.rangeMs : arg?.kind === 'subquery' ? arg.rangeMs : 0;
      const offsetMs =
        arg?.kind === 'range' ? arg.selector.offsetMs : arg?.kind === 'subquery' ? arg.offsetMs : 0;
      const perSecond = expr.name === 'rate' ? rangeMs / 1000 : 1;
      const samples = overTime(asMatrix(args[0] as QueryValue, `${expr.name}()`), (points) => {
        const increase = extrapolatedIncrease(points, atMs - offsetMs, rangeMs);
        return increase === undefined ? undefined : increase / perSecond;
      });
      return { type: 'vector', samples };
    }
    case 'avg_over_time':
      return {
        type: 'vector',
        samples: overTime(
          asMatrix(args[0] as QueryValue, 'avg_over_time()'),
          (points) => points.reduce((total, p) => total + p.v, 0) / points.length,
        ),
      };
    case 'count_over_time':
      return {
        type: 'vector',
        samples: overTime(asMatrix(args[0] as QueryValue, 'count_over_time()'), (points) => points.length),
      };
    case 'histogram_quantile':
      return {
        type: 'vector',
        samples: histogramQuantile(
          asScalar(args[0] as QueryValue, 'histogram_quantile()'),
          asVector(args[1] as QueryValue, 'histogram_quantile()'),
        ),
      };
    default:
      throw new PromqlError(`${expr.name}() is not supported by aisre's built-in PromQL subset`);
  }
}

/** Steps of a subquery: multiples of the step in (at - range, at], as Prometheus aligns them. */
function subquery(expr: Extract<Expr, { kind: 'subquery' }>, atMs: number, source: SeriesSource): Matrix {
  const at = atMs - expr.offsetMs;
  const series = new Map<string, { labels: Labels; points: Array<{ t: number; v: number }> }>();
  const firstStep = Math.floor((at - expr.rangeMs) / expr.stepMs) * expr.stepMs + expr.stepMs;
  for (let t = firstStep; t <= at; t += expr.stepMs) {
    const value = evaluate(expr.expr, t, source);
    const samples =
      value.type === 'scalar' ? [{ labels: {}, value: value.value }] : asVector(value, 'a subquery');
    for (const sample of samples) {
      const key = labelsKey(sample.labels);
      const entry = series.get(key) ?? { labels: sample.labels, points: [] };
      series.set(key, entry);
      entry.points.push({ t, v: sample.value });
    }
  }
  return [...series.values()];
}

/** Evaluates a parsed expression at `atMs`. */
export function evaluate(expr: Expr, atMs: number, source: SeriesSource): QueryValue {
  switch (expr.kind) {
    case 'number':
      return { type: 'scalar', value: expr.value };
    case 'selector':
      return { type: 'vector', samples: selectInstant(expr, atMs, source) };
    case 'range':
      return { type: 'matrix', series: selectRange(expr.selector, expr.rangeMs, atMs, source) };
    case 'subquery':
      return { type: 'matrix', series: subquery(expr, atMs, source) };
    case 'call':
      return call(expr, atMs, source);
    case 'aggregate':
      return {
        type: 'vector',
        samples: aggregate(expr.op, expr.by, asVector(evaluate(expr.expr, atMs, source), `${expr.op}()`)),
      };
    case 'negate': {
      const value = evaluate(expr.expr, atMs, source);
      if (value.type === 'scalar') return { type: 'scalar', value: -value.value };
      return {
        type: 'vector',
        samples: asVector(value, 'unary minus').map((s) => ({
          labels: withoutName(s.labels),
          value: -s.value,
        })),
      };
    }
    case 'binary':
      return binary(expr, evaluate(expr.left, atMs, source), evaluate(expr.right, atMs, source));
  }
}
