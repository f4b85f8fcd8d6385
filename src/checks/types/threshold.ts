import { z } from 'zod';

const OPS = ['<', '<=', '>', '>=', '==', '!='] as const;
/** A comparison operator, read as "value <op> threshold". */
export type ThresholdOp = (typeof OPS)[number];

/** "Healthy when value <op> threshold", e.g. `{ op: '>=', value: 0.9 }` for an eval pass rate. */
export const thresholdSchema = z.strictObject({ op: z.enum(OPS), value: z.number() });
/** A parsed `thresholdSchema`. */
export type Threshold = z.infer<typeof thresholdSchema>;

const NEGATED: Record<ThresholdOp, ThresholdOp> = {
  '<': '>=',
  '<=': '>',
  '>': '<=',
  '>=': '<',
  '==': '!=',
  '!=': '==',
};

/** Whether `value` is healthy. Comparison is exact; NaN is never healthy. */
export function evaluateThreshold(value: number, threshold: Threshold): boolean {
  const limit = threshold.value;
  switch (threshold.op) {
    case '<':
      return value < limit;
    case '<=':
      return value <= limit;
    case '>':
      return value > limit;
    case '>=':
      return value >= limit;
    case '==':
      return value === limit;
    case '!=':
      return !Number.isNaN(value) && value !== limit;
  }
}

/**
 * Orders values from least to most healthy for this threshold, so a check over many series can
 * report the worst one: the highest value for `<`, the lowest for `>`, an unhealthy one for `==`.
 */
export function worseFirst(threshold: Threshold): (a: number, b: number) => number {
  if (threshold.op === '<' || threshold.op === '<=') return (a, b) => b - a;
  if (threshold.op === '>' || threshold.op === '>=') return (a, b) => a - b;
  return (a, b) => Number(evaluateThreshold(a, threshold)) - Number(evaluateThreshold(b, threshold));
}

/** "0.71 < 0.9": the value against the threshold, with the operator that actually holds. */
export function describeThreshold(value: number, threshold: Threshold): string {
  const op = evaluateThreshold(value, threshold) ? threshold.op : NEGATED[threshold.op];
  return `${formatNumber(value)} ${op} ${formatNumber(threshold.value)}`;
}

/** A number as a responder reads it: at most 4 significant digits, `+Inf`/`NaN` spelled out. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  return String(Number(value.toPrecision(4)));
}

/** A positive duration parameter such as `15m`, `2h` or `1d` (see `parseDuration`). */
export const durationSchema = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)$/, 'must be a duration such as 30s, 5m or 2h')
  .refine((text) => !/^0+(ms|s|m|h|d)$/.test(text), 'must be longer than zero');
