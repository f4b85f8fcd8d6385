import { escapePromqlString } from '../checks/templates.js';
import { type PrometheusClient, usableSamples } from '../checks/types/prometheus-api.js';
import type { AlertOccurrence, Incident } from '../incidents/incident.js';
import type { Logger } from '../logger.js';
import type { ErrorBudgetImpact, PostmortemImpact } from './postmortem.js';
import { incidentStart } from './postmortem-times.js';

/** The service and stretch of time whose quality and cost a postmortem reports. */
export interface ImpactWindow {
  service: string | null;
  from: Date;
  to: Date;
}

/**
 * Reads what an incident cost in quality and money. It never fails: without a service, a
 * configured Prometheus, a reachable one or data, it answers null (or leaves fields out), and the
 * postmortem says there are no figures.
 */
export interface ImpactReader {
  read(window: ImpactWindow): Promise<PostmortemImpact | null>;
}

export interface PrometheusImpactOptions {
  /** The client the checks use (`prometheusClient(deps)`); undefined when none is configured. */
  prometheus: PrometheusClient | undefined;
  /** The eval pass rate services aim for. */
  sloPassRate?: number;
  timeoutMs?: number;
  logger?: Logger;
}

export const DEFAULT_SLO_PASS_RATE = 0.9;
const DEFAULT_TIMEOUT_MS = 10_000;
/** Subquery points over the window at most, so a week-long incident stays a cheap query. */
const MAX_POINTS = 1440;

/** The window a postmortem reports on: from the incident's start until it resolved, or `now`. */
export function impactWindow(
  incident: Pick<Incident, 'service' | 'createdAt' | 'resolvedAt'>,
  alerts: readonly Pick<AlertOccurrence, 'startsAt'>[],
  now: Date,
): ImpactWindow {
  return {
    service: incident.service,
    from: incidentStart(incident, alerts).at,
    to: incident.resolvedAt ?? now,
  };
}

/** The PromQL the reader runs, each evaluated at the window's end over the whole window. */
function impactQueries(service: string, rangeSeconds: number, slo: number) {
  const selector = `{service="${escapePromqlString(service)}"}`;
  const range = `${rangeSeconds}s`;
  const step = `${Math.max(60, Math.ceil(rangeSeconds / MAX_POINTS))}s`;
  return {
    averagePassRate: `avg(avg_over_time(llm_eval_pass_ratio${selector}[${range}]))`,
    shareBelowSlo: `avg_over_time((avg(llm_eval_pass_ratio${selector}) < bool ${slo})[${range}:${step}])`,
    costUsd: `sum(increase(llm_cost_usd_total${selector}[${range}]))`,
    tokens: `sum(increase(gen_ai_client_token_usage_sum${selector}[${range}]))`,
  };
}

/** Quality and cost from Prometheus: the eval pass rate against its SLO, dollars and tokens spent. */
export function prometheusImpactReader(options: PrometheusImpactOptions): ImpactReader {
  const slo = options.sloPassRate ?? DEFAULT_SLO_PASS_RATE;
  return {
    async read({ service, from, to }) {
      const client = options.prometheus;
      const rangeSeconds = Math.ceil((to.getTime() - from.getTime()) / 1000);
      if (!client || !service || rangeSeconds <= 0) return null;
      const queries = impactQueries(service, rangeSeconds, slo);
      const signal = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      const value = async (query: string): Promise<number | undefined> => {
        try {
          const samples = usableSamples(await client.instantQuery(query, to, signal));
          return samples.length === 1 && Number.isFinite(samples[0]!.value) ? samples[0]!.value : undefined;
        } catch (err) {
          options.logger?.warn({ err, query }, 'postmortem impact query failed; the figure is left out');
          return undefined;
        }
      };
      const [averagePassRate, shareBelowSlo, costUsd, tokens] = await Promise.all([
        value(queries.averagePassRate),
        value(queries.shareBelowSlo),
        value(queries.costUsd),
        value(queries.tokens),
      ]);
      const impact: PostmortemImpact = { window: { from, to } };
      if (averagePassRate !== undefined) {
        const budget: ErrorBudgetImpact = { slo, averagePassRate, shareBelowSlo: shareBelowSlo ?? null };
        impact.errorBudget = budget;
      }
      if (costUsd !== undefined) impact.costUsd = costUsd;
      if (tokens !== undefined) impact.tokens = tokens;
      return Object.keys(impact).length > 1 ? impact : null;
    },
  };
}
