import { z } from 'zod';
import type { CheckEvidence, CheckResult, CheckType } from '../check-type.js';
import { escapePromqlString, renderTemplate, templateValues } from '../templates.js';
import {
  graphLink,
  type PromSample,
  reduceValues,
  resultValue,
  seriesName,
  usableSamples,
  withPrometheus,
} from './prometheus-api.js';
import {
  describeThreshold,
  evaluateThreshold,
  formatNumber,
  thresholdSchema,
  worseFirst,
} from './threshold.js';

const MAX_SERIES_EVIDENCE = 5;

const params = z.strictObject({
  /** PromQL; `{{labels.x}}` values are escaped for use inside double-quoted strings. */
  query: z.string().min(1),
  healthy: thresholdSchema,
  /** `each`: every series must be healthy and the worst is reported; otherwise fold series first. */
  reduce: z.enum(['max', 'min', 'sum', 'avg', 'each']).default('each'),
  /** What the value is, for the summary, e.g. "eval pass rate". */
  description: z.string().min(1).max(200).optional(),
});
/** Validated params of the check, defaults applied. */
export type PrometheusCheckParams = z.infer<typeof params>;

/** Series values, worst first; `healthy` marks the unhealthy ones when each series is judged alone. */
function seriesEvidence(
  samples: readonly PromSample[],
  healthy?: (value: number) => boolean,
): CheckEvidence[] {
  const shown = samples.slice(0, MAX_SERIES_EVIDENCE).map((sample) => ({
    label: seriesName(sample.labels),
    value: `${formatNumber(sample.value)}${healthy && !healthy(sample.value) ? ' (unhealthy)' : ''}`,
  }));
  const hidden = samples.length - shown.length;
  return hidden > 0 ? [...shown, { label: '…', value: `${hidden} more series` }] : shown;
}

/** An instant PromQL query whose value(s) must meet a threshold. */
export const prometheusCheck: CheckType<PrometheusCheckParams> = {
  type: 'prometheus',
  description: 'Evaluate a PromQL instant query against a threshold',
  params,
  defaultTimeoutMs: 10_000,
  run: ({ params, incident, now, signal, deps }) => {
    const query = renderTemplate(params.query, templateValues(incident, {}), escapePromqlString);
    return withPrometheus(deps, query, async (client): Promise<CheckResult> => {
      const links = [graphLink(client, query)];
      const queryEvidence = { label: 'query', value: query };
      const samples = usableSamples(await client.instantQuery(query, now, signal));
      if (samples.length === 0) {
        return { status: 'inconclusive', value: null, summary: 'no data', evidence: [queryEvidence], links };
      }
      const name = params.description ?? 'value';
      const isHealthy = (value: number) => evaluateThreshold(value, params.healthy);
      const ranked = [...samples].sort((a, b) => worseFirst(params.healthy)(a.value, b.value));

      if (params.reduce !== 'each') {
        const value = reduceValues(
          samples.map((sample) => sample.value),
          params.reduce,
        );
        const over = samples.length > 1 ? ` (${params.reduce} of ${samples.length} series)` : '';
        return {
          status: isHealthy(value) ? 'pass' : 'fail',
          value: resultValue(value),
          summary: `${name} ${describeThreshold(value, params.healthy)}${over}`,
          evidence: [...seriesEvidence(ranked), queryEvidence],
          links,
        };
      }

      const worst = ranked[0]!;
      const unhealthy = samples.filter((sample) => !isHealthy(sample.value)).length;
      const where = samples.length > 1 ? ` on ${seriesName(worst.labels)}` : '';
      const tally = samples.length > 1 ? ` (${unhealthy} of ${samples.length} series unhealthy)` : '';
      return {
        status: unhealthy === 0 ? 'pass' : 'fail',
        value: resultValue(worst.value),
        summary: `${name} ${describeThreshold(worst.value, params.healthy)}${where}${tally}`,
        evidence: [...seriesEvidence(ranked, isHealthy), queryEvidence],
        links,
      };
    });
  },
};
