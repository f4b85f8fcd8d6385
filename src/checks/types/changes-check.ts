import { z } from 'zod';
import type { ChangeEventFact, CheckType } from '../check-type.js';
import { parseDuration, renderTemplate, templateValues } from '../templates.js';
import { durationSchema } from './threshold.js';

const MAX_LISTED = 10;

/** The dimensions along which an AI system changes; any of them can shift alone. */
export const CHANGE_KINDS = ['prompt', 'model', 'embedding', 'index', 'config', 'code'] as const;

const params = z.strictObject({
  kinds: z.array(z.enum(CHANGE_KINDS)).min(1),
  /** How long before the incident started to look, e.g. `2h`. */
  window: durationSchema,
  /** Service whose changes count; the incident's service when absent. */
  service: z.string().min(1).optional(),
});
/** Validated params of the check, defaults applied. */
export type ChangesParams = z.infer<typeof params>;

function shortTime(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** "prompt v12→v13 by alice at 2026-11-22T13:40:00Z". */
function describeChange(change: ChangeEventFact): string {
  const versions =
    change.fromVersion || change.toVersion ? ` ${change.fromVersion ?? '?'}→${change.toVersion ?? '?'}` : '';
  const author = change.author ? ` by ${change.author}` : '';
  return `${change.kind}${versions}${author} at ${shortTime(change.at)}`;
}

/**
 * Recorded changes (prompt, model, index…) from `window` before the incident started until now.
 * Finding any fails: a recent change is the first suspect in a degraded AI feature.
 */
export const changesCheck: CheckType<ChangesParams> = {
  type: 'changes',
  description: 'Look for prompt, model, embedding, index, config or code changes shortly before the incident',
  params,
  defaultTimeoutMs: 5_000,
  async run({ params, incident, now, deps }) {
    // The service goes to the store as a bound parameter, so it needs no escaping.
    const service = renderTemplate(
      params.service ?? '{{incident.service}}',
      templateValues(incident, {}),
      (value) => value,
    );
    const from = new Date(incident.startedAt.getTime() - parseDuration(params.window));
    const changes = await deps.changes.list({
      service: service || null,
      kinds: [...new Set(params.kinds)],
      from,
      to: now,
    });
    const scope = `${service ? ` to ${service}` : ''} since ${params.window} before the incident started`;
    if (changes.length === 0) {
      return {
        status: 'pass',
        value: 0,
        summary: `no ${params.kinds.join('/')} changes${scope}`,
        evidence: [],
        links: [],
      };
    }
    const newestFirst = [...changes].sort((a, b) => b.at.getTime() - a.at.getTime());
    const shown = newestFirst.slice(0, MAX_LISTED);
    const newest = newestFirst[0]!;
    const count = changes.length === 1 ? '1 change' : `${changes.length} changes`;
    const evidence = shown.map((change) => ({
      label: `${change.service} ${change.kind}`,
      value: `${describeChange(change)}${change.summary ? `: ${change.summary}` : ''}`,
    }));
    if (changes.length > shown.length) {
      evidence.push({ label: '…', value: `${changes.length - shown.length} older changes` });
    }
    return {
      status: 'fail',
      value: changes.length,
      summary: `${count}${scope}; latest: ${describeChange(newest)}`,
      evidence,
      links: shown.flatMap((change) =>
        change.link
          ? [{ label: `${change.kind} change ${change.toVersion ?? change.id}`, url: change.link }]
          : [],
      ),
    };
  },
};
