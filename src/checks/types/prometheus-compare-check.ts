import { z } from 'zod';
import type { CheckResult, CheckType } from '../check-type.js';
import { escapePromqlString, parseDuration, renderTemplate, templateValues } from '../templates.js';
import { graphLink, reduceValues, resultValue, usableSamples, withPrometheus } from './prometheus-api.js';
import { durationSchema, formatNumber } from './threshold.js';

const params = z
  .strictObject({
    query: z.string().min(1),
    /** How far back the baseline is, e.g. `1d` for the same time yesterday. */
    baseline_offset: durationSchema,
    /** Largest healthy relative rise, e.g. 0.5 for +50%. */
    max_increase: z.number().min(0).optional(),
    /** Largest healthy relative fall, e.g. 0.3 for -30%. */
    max_decrease: z.number().min(0).max(1).optional(),
    reduce: z.enum(['sum', 'max', 'min', 'avg']).default('sum'),
    description: z.string().min(1).max(200).optional(),
  })
  .refine((p) => p.max_increase !== undefined || p.max_decrease !== undefined, {
    message: 'give max_increase, max_decrease or both',
    path: ['max_increase'],
  });
/** Validated params of the check, defaults applied. */
export type PrometheusCompareParams = z.infer<typeof params>;

/** Relative change; from a zero baseline any rise is infinite, which every `max_increase` rejects. */
function relativeChange(current: number, baseline: number): number {
  if (baseline === 0) return current === 0 ? 0 : Math.sign(current) * Number.POSITIVE_INFINITY;
  return (current - baseline) / Math.abs(baseline);
}

function percent(change: number): string {
  return `${change >= 0 ? '+' : ''}${formatNumber(change * 100)}%`;
}

/**
 * The same query now and `baseline_offset` ago, evaluated at both times through the API's `time`
 * parameter (so any PromQL works unchanged), failing when it moved more than allowed.
 */
export const prometheusCompareCheck: CheckType<PrometheusCompareParams> = {
  type: 'prometheus_compare',
  description: 'Compare a PromQL query with its value a while ago (e.g. 1d) and fail on a large change',
  params,
  defaultTimeoutMs: 15_000,
  run: ({ params, incident, now, signal, deps }) => {
    const query = renderTemplate(params.query, templateValues(incident, {}), escapePromqlString);
    const baselineAt = new Date(now.getTime() - parseDuration(params.baseline_offset));
    return withPrometheus(deps, query, async (client): Promise<CheckResult> => {
      const links = [graphLink(client, query)];
      const [currentResult, baselineResult] = await Promise.all([
        client.instantQuery(query, now, signal),
        client.instantQuery(query, baselineAt, signal),
      ]);
      const evidence = [
        { label: 'query', value: query },
        { label: 'baseline time', value: baselineAt.toISOString() },
      ];
      const current = usableSamples(currentResult).map((sample) => sample.value);
      const baseline = usableSamples(baselineResult).map((sample) => sample.value);
      if (current.length === 0 || baseline.length === 0) {
        const ago = `${params.baseline_offset} ago`;
        const summary =
          current.length > 0
            ? `no data ${ago}, nothing to compare with`
            : `no data now${baseline.length > 0 ? '' : ` or ${ago}`}`;
        return { status: 'inconclusive', value: null, summary, evidence, links };
      }
      const currentValue = reduceValues(current, params.reduce);
      const baselineValue = reduceValues(baseline, params.reduce);
      const change = relativeChange(currentValue, baselineValue);
      const tooHigh = params.max_increase !== undefined && change > params.max_increase;
      const tooLow = params.max_decrease !== undefined && -change > params.max_decrease;
      const name = params.description ?? 'value';
      const moved =
        baselineValue === 0 && currentValue !== 0
          ? `${name} went from 0 to ${formatNumber(currentValue)} since ${params.baseline_offset} ago`
          : `${name} ${percent(change)} vs ${params.baseline_offset} ago (${formatNumber(baselineValue)} → ${formatNumber(currentValue)})`;
      const limit = tooHigh
        ? `; allowed +${formatNumber(params.max_increase! * 100)}%`
        : tooLow
          ? `; allowed -${formatNumber(params.max_decrease! * 100)}%`
          : '';
      return {
        status: tooHigh || tooLow ? 'fail' : 'pass',
        value: resultValue(change),
        summary: `${moved}${limit}`,
        evidence: [
          { label: 'now', value: formatNumber(currentValue) },
          { label: `${params.baseline_offset} ago`, value: formatNumber(baselineValue) },
          { label: 'change', value: Number.isFinite(change) ? percent(change) : 'from zero' },
          ...evidence,
        ],
        links,
      };
    });
  },
};
