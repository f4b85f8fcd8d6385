import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { durationMs, parsePromql } from './promql-parser.js';
import { evaluate, type Labels, labelsKey, type SeriesSource } from './promql-subset.js';

const ruleSchema = z.strictObject({
  alert: z.string().min(1),
  expr: z.string().min(1),
  for: z
    .string()
    .regex(/^(\d+(ms|[smhdwy]))+$/, 'a duration such as 5m')
    .optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});
const rulesFileSchema = z.strictObject({
  groups: z.array(
    z.strictObject({
      name: z.string(),
      interval: z.string().optional(),
      rules: z.array(
        z.looseObject({}).refine((rule) => !('record' in rule), {
          message: 'a recording rule: the demo evaluates alerting rules only',
        }),
      ),
    }),
  ),
});

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
}

/** An alerting rule as loaded, its query parsed up front so an unsupported one fails at load. */
export interface AlertingRule {
  name: string;
  expr: string;
  forMs: number;
  labels: Labels;
  annotations: Record<string, string>;
}

/** An alert as Prometheus hands it to Alertmanager. */
export interface AlertUpdate {
  labels: Labels;
  annotations: Record<string, string>;
  startsAt: number;
  /** When it resolved; null while it fires. */
  endsAt: number | null;
  generatorURL: string;
}

interface ActiveAlert {
  labels: Labels;
  annotations: Record<string, string>;
  activeAtMs: number;
  firing: boolean;
}

/** Reads a Prometheus rules file; recording rules and queries outside the PromQL subset are refused. */
export async function loadAlertingRules(file: string): Promise<AlertingRule[]> {
  const parsed = rulesFileSchema.safeParse(parseYaml(await readFile(file, 'utf8'), { merge: true }));
  if (!parsed.success) throw new Error(`${file}: ${issues(parsed.error)}`);
  return parsed.data.groups.flatMap((group, g) =>
    group.rules.map((raw, r) => {
      const checked = ruleSchema.safeParse(raw);
      if (!checked.success) throw new Error(`${file}: groups.${g}.rules.${r}: ${issues(checked.error)}`);
      const rule = checked.data;
      try {
        parsePromql(rule.expr);
        for (const text of Object.values(rule.annotations ?? {})) renderAnnotation(text, {}, 0);
      } catch (err) {
        throw new Error(`${file}: rule ${rule.alert}: ${(err as Error).message}`);
      }
      return {
        name: rule.alert,
        expr: rule.expr.trim(),
        forMs: rule.for ? durationMs(rule.for) : 0,
        labels: rule.labels ?? {},
        annotations: rule.annotations ?? {},
      };
    }),
  );
}

/** Go's `%.4g`, as Prometheus's humanize functions print numbers. */
function fourDigits(value: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf';
  return String(Number(value.toPrecision(4)));
}

function humanizeDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return fourDigits(seconds);
  if (Math.abs(seconds) < 1) return `${fourDigits(seconds)}s`;
  const sign = seconds < 0 ? '-' : '';
  let rest = Math.floor(Math.abs(seconds));
  const days = Math.floor(rest / 86_400);
  rest %= 86_400;
  const hours = Math.floor(rest / 3_600);
  rest %= 3_600;
  const minutes = Math.floor(rest / 60);
  const secs = rest % 60;
  if (days > 0) return `${sign}${days}d ${hours}h ${minutes}m ${secs}s`;
  if (hours > 0) return `${sign}${hours}h ${minutes}m ${secs}s`;
  if (minutes > 0) return `${sign}${minutes}m ${secs}s`;
  return `${sign}${secs}s`;
}

const PIPES: Readonly<Record<string, (value: number) => string>> = {
  humanizePercentage: (value) => `${fourDigits(value * 100)}%`,
  humanizeDuration,
  humanize: fourDigits,
};

/**
 * Renders the parts of Go templating alert annotations use here: `{{ $labels.name }}`,
 * `{{ $value }}` and `{{ $value | humanize… }}`. Anything else is refused when the rules load.
 */
export function renderAnnotation(template: string, labels: Labels, value: number): string {
  return template.replace(/\{\{\s*(.*?)\s*\}\}/g, (whole, inner: string) => {
    const label = /^\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)$/.exec(inner);
    if (label) return labels[label[1] as string] ?? '';
    const piped = /^\$value(?:\s*\|\s*([a-zA-Z]+))?$/.exec(inner);
    if (piped) {
      if (!piped[1]) return String(value);
      const pipe = PIPES[piped[1]];
      if (pipe) return pipe(value);
    }
    throw new Error(`the template ${whole} is not supported by the demo's rule evaluator`);
  });
}

/**
 * Evaluates alerting rules against a series source as Prometheus's rule manager does: an alert
 * is pending from the first evaluation its expression returns its series, fires once that has
 * lasted the rule's `for:`, and resolves at the first evaluation that no longer returns it.
 */
export class RuleEvaluator {
  private readonly active = new Map<string, Map<string, ActiveAlert>>();

  constructor(
    private readonly rules: readonly AlertingRule[],
    private readonly source: SeriesSource,
    private readonly generatorBaseUrl: string,
  ) {}

  /** Evaluates every rule at `atMs`; returns the alerts firing now and those that just resolved. */
  evaluate(atMs: number): AlertUpdate[] {
    const updates: AlertUpdate[] = [];
    for (const rule of this.rules) {
      const previous = this.active.get(rule.name) ?? new Map<string, ActiveAlert>();
      const current = new Map<string, ActiveAlert>();
      const result = evaluate(parsePromql(rule.expr), atMs, this.source);
      if (result.type !== 'vector')
        throw new Error(`rule ${rule.name} returned a ${result.type}, not a vector`);
      const generatorURL = `${this.generatorBaseUrl}/graph?g0.expr=${encodeURIComponent(rule.expr)}&g0.tab=1`;
      for (const sample of result.samples) {
        const { __name__: _name, ...seriesLabels } = sample.labels;
        const labels: Labels = { ...seriesLabels, ...rule.labels, alertname: rule.name };
        const key = labelsKey(labels);
        const annotations = Object.fromEntries(
          Object.entries(rule.annotations).map(([name, text]) => [
            name,
            renderAnnotation(text, seriesLabels, sample.value),
          ]),
        );
        const activeAtMs = previous.get(key)?.activeAtMs ?? atMs;
        const firing = atMs - activeAtMs >= rule.forMs;
        current.set(key, { labels, annotations, activeAtMs, firing });
        if (firing) updates.push({ labels, annotations, startsAt: activeAtMs, endsAt: null, generatorURL });
      }
      for (const [key, alert] of previous) {
        if (current.has(key) || !alert.firing) continue;
        updates.push({
          labels: alert.labels,
          annotations: alert.annotations,
          startsAt: alert.activeAtMs,
          endsAt: atMs,
          generatorURL,
        });
      }
      this.active.set(rule.name, current);
    }
    return updates;
  }

  ruleCount(): number {
    return this.rules.length;
  }

  /** Names of the alerts firing after the last evaluation, for the narration. */
  firing(): string[] {
    return [...this.active.entries()]
      .filter(([, alerts]) => [...alerts.values()].some((a) => a.firing))
      .map(([name]) => name);
  }
}
