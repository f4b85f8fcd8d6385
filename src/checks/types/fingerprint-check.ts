import { z } from 'zod';
import type { CheckResult, CheckType } from '../check-type.js';
import { escapePromqlString, parseDuration, renderTemplate, templateValues } from '../templates.js';
import { graphLink, type InstantResult, usableSamples, withPrometheus } from './prometheus-api.js';
import { durationSchema } from './threshold.js';

const MAX_LISTED = 20;

const params = z.strictObject({
  /** The label whose values identify what served requests: a model version or a fingerprint. */
  label: z
    .string()
    .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must be a Prometheus label name')
    .default('gen_ai_response_model'),
  /** PromQL returning one series per value of `label`; see `defaultFingerprintQuery`. */
  query: z.string().min(1).optional(),
  baseline_offset: durationSchema.default('1d'),
});
/** Validated params of the check, defaults applied. */
export type FingerprintParams = z.infer<typeof params>;

/**
 * Values of `label` that served traffic over the last 15 minutes, from the OpenTelemetry GenAI
 * token-usage histogram. It assumes series carry the incident's `service` label; runbooks whose
 * metrics name the service differently give their own `query`.
 */
export function defaultFingerprintQuery(label: string): string {
  return `count by (${label}) (rate(gen_ai_client_token_usage_count{service="{{incident.service}}"}[15m]) > 0)`;
}

function distinctValues(result: InstantResult, label: string): string[] {
  const values = usableSamples(result)
    .map((sample) => sample.labels[label] ?? '')
    .filter((value) => value !== '');
  return [...new Set(values)].sort();
}

function list(values: readonly string[]): string {
  if (values.length === 0) return '(none)';
  const more = values.length > MAX_LISTED ? `, … ${values.length - MAX_LISTED} more` : '';
  return `${values.slice(0, MAX_LISTED).join(', ')}${more}`;
}

/**
 * Provider drift: which model versions (or system fingerprints) answer now versus a baseline
 * time. A value that was not there before fails; values that went away alone do not.
 */
export const fingerprintCheck: CheckType<FingerprintParams> = {
  type: 'fingerprint',
  description: 'Compare the distinct values of a model/fingerprint label now with a baseline time',
  params,
  defaultTimeoutMs: 15_000,
  run: ({ params, incident, now, signal, deps }) => {
    const template = params.query ?? defaultFingerprintQuery(params.label);
    const query = renderTemplate(template, templateValues(incident, {}), escapePromqlString);
    const baselineAt = new Date(now.getTime() - parseDuration(params.baseline_offset));
    const ago = `${params.baseline_offset} ago`;
    return withPrometheus(deps, query, async (client): Promise<CheckResult> => {
      const links = [graphLink(client, query)];
      const [currentResult, baselineResult] = await Promise.all([
        client.instantQuery(query, now, signal),
        client.instantQuery(query, baselineAt, signal),
      ]);
      const current = distinctValues(currentResult, params.label);
      const baseline = distinctValues(baselineResult, params.label);
      const evidence = [
        { label: 'now', value: list(current) },
        { label: ago, value: list(baseline) },
      ];
      const queryEvidence = { label: 'query', value: query };
      if (current.length === 0 || baseline.length === 0) {
        const when = current.length === 0 ? (baseline.length === 0 ? `now or ${ago}` : 'now') : ago;
        return {
          status: 'inconclusive',
          value: null,
          summary: `no ${params.label} values ${when}`,
          evidence: [...evidence, queryEvidence],
          links,
        };
      }
      const added = current.filter((value) => !baseline.includes(value));
      const gone = baseline.filter((value) => !current.includes(value));
      const changes = [
        ...(added.length > 0 ? [{ label: 'new', value: list(added) }] : []),
        ...(gone.length > 0 ? [{ label: 'gone', value: list(gone) }] : []),
      ];
      let summary: string;
      if (added.length > 0) {
        summary = `new ${params.label} since ${ago}: ${list(added)}${gone.length > 0 ? ` (replacing ${list(gone)})` : ''}`;
      } else if (gone.length > 0) {
        summary = `no new ${params.label} since ${ago}; no longer seen: ${list(gone)}`;
      } else {
        summary = `${params.label} unchanged since ${ago}: ${list(current)}`;
      }
      return {
        status: added.length > 0 ? 'fail' : 'pass',
        value: added.length,
        summary,
        evidence: [...changes, ...evidence, queryEvidence],
        links,
      };
    });
  },
};
