import { z } from 'zod';
import type { CheckEvidence, CheckLink, CheckResult, CheckType } from '../check-type.js';
import { errorResult } from '../check-type.js';
import { renderTemplate, templateValues } from '../templates.js';
import { describeThreshold, evaluateThreshold, thresholdSchema } from './threshold.js';

// Epoch seconds stay below this until the year 33658; epoch milliseconds passed it in 2001.
const EPOCH_MS_FROM = 1e12;

const params = z.strictObject({
  /** URL template; substituted values are URL-encoded. */
  url: z.string().min(1),
  /** Dot path into the JSON body, e.g. `index.last_success` or `items.0.age`. */
  field: z.string().regex(/^[^.\s]+(\.[^.\s]+)*$/, 'must be a dot path such as index.last_success'),
  healthy: thresholdSchema,
  /** `age_seconds`: the field is a timestamp (ISO or epoch s/ms) and the value is its age. */
  transform: z.enum(['age_seconds']).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  description: z.string().min(1).max(200).optional(),
});
/** Validated params of the check, defaults applied. */
export type HttpCheckParams = z.infer<typeof params>;

/** Own properties only, so a path such as `__proto__.x` reads nothing. */
function lookup(body: unknown, path: string): unknown {
  let current = body;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function timestampMs(raw: unknown): number | undefined {
  const numeric =
    typeof raw === 'number'
      ? raw
      : typeof raw === 'string' && /^\d+(\.\d+)?$/.test(raw)
        ? Number(raw)
        : undefined;
  if (numeric !== undefined) return numeric >= EPOCH_MS_FROM ? numeric : numeric * 1000;
  if (typeof raw !== 'string') return undefined;
  const parsed = Date.parse(raw);
  return Number.isNaN(parsed) ? undefined : parsed;
}

function numberOf(raw: unknown): number | undefined {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'boolean') return raw ? 1 : 0;
  if (typeof raw === 'string' && raw.trim() !== '' && !Number.isNaN(Number(raw))) return Number(raw);
  return undefined;
}

/** The URL without credentials, fit to show in Slack. */
function shownUrl(url: URL): string {
  const copy = new URL(url);
  copy.username = '';
  copy.password = '';
  return copy.toString();
}

/** One field of a JSON endpoint (a health or freshness API) against a threshold. */
export const httpCheck: CheckType<HttpCheckParams> = {
  type: 'http',
  description: 'GET a JSON endpoint and compare one field (or its age) with a threshold',
  params,
  defaultTimeoutMs: 10_000,
  async run({ params, incident, now, signal, deps }): Promise<CheckResult> {
    const rendered = renderTemplate(params.url, templateValues(incident, {}), encodeURIComponent);
    let url: URL;
    try {
      url = new URL(rendered);
    } catch {
      return errorResult(`url "${rendered}" is not a valid URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return errorResult(`url "${shownUrl(url)}" is not http or https`);
    }
    const where = `${url.host}${url.pathname}`;
    const links: CheckLink[] = [{ label: 'endpoint', url: shownUrl(url) }];

    let response: Response;
    try {
      response = await deps.fetch(url, {
        headers: { accept: 'application/json', ...params.headers },
        signal,
      });
    } catch (err) {
      if (signal.aborted) throw err;
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      return errorResult(`could not reach ${url.host}: ${cause}`, links);
    }
    const text = await response.text();
    if (!response.ok) return errorResult(`HTTP ${response.status} from ${where}`, links);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return errorResult(`response from ${where} is not JSON`, links);
    }

    const raw = lookup(body, params.field);
    const evidence: CheckEvidence[] = [
      { label: 'url', value: shownUrl(url) },
      { label: params.field, value: JSON.stringify(raw ?? null).slice(0, 200) },
    ];
    if (raw === undefined || raw === null) {
      const state = raw === null ? 'is null' : 'is missing';
      return {
        status: 'inconclusive',
        value: null,
        summary: `${params.field} ${state} in the response`,
        evidence,
        links,
      };
    }

    let value: number | undefined;
    if (params.transform === 'age_seconds') {
      const at = timestampMs(raw);
      if (at === undefined)
        return errorResult(`${params.field} is not a timestamp: ${JSON.stringify(raw)}`, links);
      value = (now.getTime() - at) / 1000;
      evidence.push({ label: 'timestamp', value: new Date(at).toISOString() });
    } else {
      value = numberOf(raw);
      if (value === undefined)
        return errorResult(`${params.field} is not a number: ${JSON.stringify(raw)}`, links);
    }
    const name = params.description ?? (params.transform ? `${params.field} age (s)` : params.field);
    return {
      status: evaluateThreshold(value, params.healthy) ? 'pass' : 'fail',
      value,
      summary: `${name} ${describeThreshold(value, params.healthy)}`,
      evidence,
      links,
    };
  },
};
