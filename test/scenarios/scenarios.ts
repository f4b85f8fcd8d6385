import type { CHANGE_KINDS } from '../../src/checks/types/changes-check.js';
import type { Layer } from '../../src/diagnosis/runbook-schema.js';

/**
 * Incident scenarios for the default runbook (`runbooks/ai-incident.yaml`), each with the
 * diagnosis a good responder would reach. The scenario runner answers the runbook's PromQL from
 * `metrics`, so these read as "what Prometheus would say" during the incident.
 *
 * A metric's value is the value of the runbook query built on it: the query is recognised by the
 * first metric selector in it (`llm_refusals_total{…}` in a refusals-per-request ratio), so
 * `llm_refusals_total: 0.12` means 12% of answers were refused. Where a query's selector carries
 * another label matcher besides `service`, the key names it too, as `M.outputTokens` does.
 * A number is the value now and a day ago; `{ now, baseline }` differs. `NaN` is a 0/0 ratio
 * (no traffic); a metric left out returns an empty vector (no data).
 */
export type MetricValue = number | { now: number; baseline: number };

/** Label values served now and a day ago, for `count by (label)` queries (fingerprint checks). */
export interface SeriesLabelValues {
  now: string[];
  baseline: string[];
}

export interface ScenarioChange {
  kind: (typeof CHANGE_KINDS)[number];
  /** Negative: after the incident started (e.g. a mitigation). */
  minutesBeforeStart: number;
  from?: string;
  to?: string;
  author?: string;
  /** The scenario's service when absent. */
  service?: string;
  summary?: string;
}

/** A conclusion node reached without a person, or the decision node that ends up asking one. */
export type ScenarioExpectation = { layer: Layer; conclusion: string } | { asks: string };

export interface Scenario {
  name: string;
  description: string;
  /** `checkout-assistant` when absent. */
  service?: string;
  metrics: Record<string, MetricValue>;
  seriesLabels?: Record<string, SeriesLabelValues>;
  changes: ScenarioChange[];
  expect: ScenarioExpectation;
}

export const DEFAULT_SERVICE = 'checkout-assistant';

/** The metric keys the default runbook queries. */
export const M = {
  /** Refused or filtered answers per request (ratio). */
  refusals: 'llm_refusals_total',
  /** Outputs failing schema/mapping per request (ratio). */
  schemaErrors: 'llm_output_schema_errors_total',
  /** Tokens per second, all token types. */
  tokens: 'gen_ai_client_token_usage_sum',
  /** Output tokens per request. */
  outputTokens: 'gen_ai_client_token_usage_sum{gen_ai_token_type="output"}',
  /** Requests served by a fallback model (ratio). */
  fallbacks: 'llm_fallback_total',
  /** Share of queries retrieving a relevant document. */
  retrievalHits: 'rag_retrieval_hit_ratio',
  /** Online eval pass rate. */
  evalPass: 'llm_eval_pass_ratio',
  /** Seconds since the index last refreshed (`time() - max(timestamp)`). */
  indexAge: 'rag_index_last_success_timestamp_seconds',
  /** Mean relevance score of retrieved documents. */
  relevance: 'rag_retrieval_relevance_score',
  /** Share of responses from another model than requested. */
  modelMismatch: 'llm_model_mismatch_ratio',
  /** Data mapping errors per second. */
  mappingErrors: 'app_mapping_errors_total',
  /** p95 agent steps per session (`histogram_quantile` over the buckets). */
  agentSteps: 'agent_steps_per_session_bucket',
  /** Retried LLM calls per call (ratio). */
  retries: 'llm_retries_total',
  /** Responses stopped by the provider's content filter, per request (ratio). */
  contentFilter: 'gen_ai_client_operation_duration_seconds_count{error_type="content_filter"}',
} as const;

/** Labels the fingerprint checks count by. */
export const L = {
  responseModel: 'gen_ai_response_model',
  fingerprint: 'system_fingerprint',
} as const;

const HOUR = 3600;

/** A service in good health, today as yesterday. */
export const HEALTHY_METRICS: Readonly<Record<string, MetricValue>> = {
  [M.refusals]: 0.008,
  [M.schemaErrors]: 0.002,
  [M.tokens]: 1800,
  [M.outputTokens]: 340,
  [M.fallbacks]: 0.01,
  [M.retrievalHits]: 0.91,
  [M.evalPass]: 0.95,
  [M.indexAge]: 3 * HOUR,
  [M.relevance]: 0.78,
  [M.modelMismatch]: 0,
  [M.mappingErrors]: 0,
  [M.agentSteps]: 7,
  [M.retries]: 0.02,
  [M.contentFilter]: 0.001,
};

export const HEALTHY_LABELS: Readonly<Record<string, SeriesLabelValues>> = {
  [L.responseModel]: { now: ['gpt-4o-2024-08-06'], baseline: ['gpt-4o-2024-08-06'] },
  [L.fingerprint]: { now: ['fp_7f2c1a'], baseline: ['fp_7f2c1a'] },
};

function healthyWith(overrides: Record<string, MetricValue | undefined> = {}): Record<string, MetricValue> {
  const metrics: Record<string, MetricValue> = { ...HEALTHY_METRICS };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete metrics[key];
    else metrics[key] = value;
  }
  return metrics;
}

function labelsWith(overrides: Record<string, SeriesLabelValues> = {}): Record<string, SeriesLabelValues> {
  return { ...HEALTHY_LABELS, ...overrides };
}

const from = (baseline: number, now: number): MetricValue => ({ now, baseline });

export const SCENARIOS: readonly Scenario[] = [
  // Retrieval
  {
    name: 'embedding-model-swap',
    description:
      'The embedding model was upgraded 3h ago but the index still holds old vectors: hit rate collapses.',
    metrics: healthyWith({
      [M.retrievalHits]: 0.38,
      [M.relevance]: from(0.78, 0.41),
      [M.evalPass]: from(0.95, 0.71),
    }),
    seriesLabels: labelsWith(),
    changes: [
      {
        kind: 'embedding',
        minutesBeforeStart: 180,
        from: 'text-embedding-ada-002',
        to: 'text-embedding-3-small',
        author: 'ml-platform',
      },
    ],
    expect: { layer: 'retrieval', conclusion: 'embedding_model_changed' },
  },
  {
    name: 'index-job-failing',
    description: 'The nightly ingestion job has failed for three days; answers cite stale documents.',
    metrics: healthyWith({
      [M.retrievalHits]: 0.66,
      [M.indexAge]: 74 * HOUR,
      [M.relevance]: from(0.78, 0.6),
    }),
    seriesLabels: labelsWith(),
    changes: [],
    expect: { layer: 'retrieval', conclusion: 'index_stale' },
  },
  {
    name: 'corpus-drift',
    description:
      'A product launch changed what users ask; the index is fresh but relevance fell 35% with no change.',
    metrics: healthyWith({ [M.retrievalHits]: 0.71, [M.relevance]: from(0.78, 0.5) }),
    seriesLabels: labelsWith(),
    changes: [],
    expect: { layer: 'retrieval', conclusion: 'retrieval_degraded' },
  },
  {
    name: 'unrelated-prompt-change-while-index-stale',
    description:
      'Confounder: a prompt was deployed 40 minutes before, but the real cause is an index not refreshed for 40 hours.',
    metrics: healthyWith({
      [M.retrievalHits]: 0.58,
      [M.evalPass]: from(0.95, 0.79),
      [M.indexAge]: 40 * HOUR,
    }),
    seriesLabels: labelsWith(),
    changes: [{ kind: 'prompt', minutesBeforeStart: 40, from: 'v12', to: 'v13', author: 'alice' }],
    expect: { layer: 'retrieval', conclusion: 'index_stale' },
  },
  {
    name: 'retrieval-down-with-model-rotation',
    description:
      'Confounder: the provider rotated the response model yesterday evening, but the hit rate fell after an embedding change.',
    metrics: healthyWith({ [M.retrievalHits]: 0.45, [M.evalPass]: from(0.95, 0.82) }),
    seriesLabels: labelsWith({
      [L.responseModel]: { now: ['gpt-4o-2024-11-20'], baseline: ['gpt-4o-2024-08-06'] },
    }),
    changes: [{ kind: 'embedding', minutesBeforeStart: 600, to: 'bge-m3', author: 'ml-platform' }],
    expect: { layer: 'retrieval', conclusion: 'embedding_model_changed' },
  },
  {
    name: 'retrieval-down-no-cause-data',
    description:
      'The hit rate fell, but neither index freshness nor relevance is exported and nothing changed: ask a person.',
    metrics: healthyWith({ [M.retrievalHits]: 0.52, [M.indexAge]: undefined, [M.relevance]: undefined }),
    seriesLabels: labelsWith(),
    changes: [],
    expect: { asks: 'retrieval' },
  },

  // Generation
  {
    name: 'prompt-regression',
    description: 'A new system prompt went out 45 minutes before the eval pass rate dropped.',
    metrics: healthyWith({ [M.evalPass]: from(0.95, 0.78) }),
    seriesLabels: labelsWith(),
    changes: [{ kind: 'prompt', minutesBeforeStart: 45, from: 'v12', to: 'v13', author: 'alice' }],
    expect: { layer: 'generation', conclusion: 'prompt_regression' },
  },
  {
    name: 'truncated-answers',
    description: 'Answers got cut short (max_tokens lowered in code): output length fell 65%, evals fail.',
    metrics: healthyWith({ [M.evalPass]: from(0.95, 0.74), [M.outputTokens]: from(340, 120) }),
    seriesLabels: labelsWith(),
    changes: [{ kind: 'code', minutesBeforeStart: 90, to: 'a1b2c3d', author: 'bob' }],
    expect: { layer: 'generation', conclusion: 'output_shift' },
  },
  {
    name: 'token-spend-up-with-eval-drop',
    description:
      'Confounder: token spend doubled, but answers also fail evals, so it is a generation problem, not cost.',
    metrics: healthyWith({
      [M.tokens]: from(1800, 3700),
      [M.outputTokens]: from(340, 820),
      [M.evalPass]: from(0.95, 0.81),
    }),
    seriesLabels: labelsWith(),
    changes: [],
    expect: { layer: 'generation', conclusion: 'output_shift' },
  },
  {
    name: 'eval-regression-no-change',
    description: 'Eval pass rate fell 12% with no prompt change and stable output length.',
    metrics: healthyWith({ [M.evalPass]: from(0.95, 0.84) }),
    seriesLabels: labelsWith(),
    changes: [],
    expect: { layer: 'generation', conclusion: 'eval_regression' },
  },
  {
    name: 'prompt-change-outside-window',
    description: 'Confounder: the last prompt change was 30 hours ago, outside the 24h window.',
    metrics: healthyWith({ [M.evalPass]: from(0.95, 0.83) }),
    seriesLabels: labelsWith(),
    changes: [{ kind: 'prompt', minutesBeforeStart: 30 * 60, from: 'v11', to: 'v12', author: 'alice' }],
    expect: { layer: 'generation', conclusion: 'eval_regression' },
  },
  {
    name: 'prompt-change-in-another-service',
    description: 'Confounder: a prompt was changed an hour ago, but in another service.',
    metrics: healthyWith({ [M.evalPass]: from(0.95, 0.82) }),
    seriesLabels: labelsWith(),
    changes: [{ kind: 'prompt', minutesBeforeStart: 60, to: 'v4', author: 'carol', service: 'search-api' }],
    expect: { layer: 'generation', conclusion: 'eval_regression' },
  },
  {
    name: 'chronically-low-evals',
    description:
      'Eval pass rate is below target but was just as low yesterday; nothing changed: a person decides.',
    metrics: healthyWith({ [M.evalPass]: from(0.86, 0.86) }),
    seriesLabels: labelsWith(),
    changes: [],
    expect: { asks: 'generation' },
  },
  {
    name: 'evals-failing-no-history',
    description:
      'Evals fail, but the eval metric is new (no data a day ago) and output length is not exported: ask.',
    metrics: healthyWith({ [M.evalPass]: from(Number.NaN, 0.8), [M.outputTokens]: undefined }),
    seriesLabels: labelsWith(),
    changes: [],
    expect: { asks: 'generation' },
  },

  // Routing
  {
    name: 'route-config-change',
    description: 'A LiteLLM router config change 30 minutes before sends traffic to fallbacks.',
    metrics: healthyWith({ [M.fallbacks]: 0.31, [M.evalPass]: from(0.95, 0.88) }),
    seriesLabels: labelsWith(),
    changes: [{ kind: 'config', minutesBeforeStart: 30, to: 'router-v42', author: 'platform' }],
    expect: { layer: 'routing', conclusion: 'route_changed' },
  },
  {
    name: 'wrong-model-answering',
    description: 'The gateway rewrites requests: a third of responses come from another model.',
    metrics: healthyWith({ [M.fallbacks]: 0.12, [M.modelMismatch]: 0.34 }),
    seriesLabels: labelsWith(),
    changes: [],
    expect: { layer: 'routing', conclusion: 'model_mismatch' },
  },
  {
    name: 'primary-model-outage',
    description: 'The primary deployment times out; 60% of traffic is served by the fallback model.',
    metrics: healthyWith({ [M.fallbacks]: 0.6, [M.evalPass]: from(0.95, 0.85) }),
    seriesLabels: labelsWith(),
    changes: [],
    expect: { layer: 'routing', conclusion: 'fallback_storm' },
  },
  {
    name: 'fallbacks-with-old-config-change',
    description: 'Confounder: the last config change was 8 hours ago, outside routing’s 6h window.',
    metrics: healthyWith({ [M.fallbacks]: 0.45 }),
    seriesLabels: labelsWith(),
    changes: [{ kind: 'config', minutesBeforeStart: 8 * 60, to: 'router-v41', author: 'platform' }],
    expect: { layer: 'routing', conclusion: 'fallback_storm' },
  },

  // Provider drift
  {
    name: 'silent-provider-update',
    description: 'The provider moved the alias to a new dated model overnight; evals drop, nothing deployed.',
    metrics: healthyWith({ [M.evalPass]: from(0.95, 0.84) }),
    seriesLabels: labelsWith({
      [L.responseModel]: { now: ['gpt-4o-2024-11-20'], baseline: ['gpt-4o-2024-08-06'] },
    }),
    changes: [],
    expect: { layer: 'provider_drift', conclusion: 'provider_model_update' },
  },
  {
    name: 'provider-fingerprint-change-with-eval-drop',
    description:
      'Same model name, but a new system_fingerprint (backend change) and evals drop, with no deploy of ours.',
    metrics: healthyWith({ [M.evalPass]: from(0.95, 0.83) }),
    seriesLabels: labelsWith({ [L.fingerprint]: { now: ['fp_9e41d0'], baseline: ['fp_7f2c1a'] } }),
    changes: [],
    expect: { layer: 'provider_drift', conclusion: 'provider_model_update' },
  },
  {
    name: 'model-change-but-we-deployed-a-prompt',
    description:
      'Confounder: the response model changed, but we also deployed a prompt 2h ago; the prompt is the first suspect.',
    metrics: healthyWith({ [M.evalPass]: from(0.95, 0.8) }),
    seriesLabels: labelsWith({
      [L.responseModel]: { now: ['gpt-4o-2024-11-20'], baseline: ['gpt-4o-2024-08-06'] },
    }),
    changes: [{ kind: 'prompt', minutesBeforeStart: 120, from: 'v7', to: 'v8', author: 'dave' }],
    expect: { layer: 'generation', conclusion: 'prompt_regression' },
  },
  {
    name: 'healthy-with-model-rotation',
    description:
      'Confounder: a latency alert fired; every AI metric is healthy and the provider rotated the response model. Not evidence of drift: ask.',
    metrics: healthyWith(),
    seriesLabels: labelsWith({
      [L.responseModel]: { now: ['gpt-4o-2024-11-20'], baseline: ['gpt-4o-2024-08-06'] },
    }),
    changes: [],
    expect: { asks: 'triage' },
  },
  {
    name: 'healthy-with-fingerprint-change',
    description:
      'Confounder: every metric is healthy and only the provider’s system_fingerprint changed: ask, do not blame the provider.',
    metrics: healthyWith(),
    seriesLabels: labelsWith({ [L.fingerprint]: { now: ['fp_9e41d0'], baseline: ['fp_7f2c1a'] } }),
    changes: [],
    expect: { asks: 'triage' },
  },

  // Integration
  {
    name: 'schema-drift-after-deploy',
    description: 'A code deploy changed the output contract; 9% of outputs fail schema validation.',
    metrics: healthyWith({ [M.schemaErrors]: 0.09, [M.mappingErrors]: 2.4, [M.evalPass]: from(0.95, 0.88) }),
    seriesLabels: labelsWith(),
    changes: [{ kind: 'code', minutesBeforeStart: 25, to: 'f00dbab', author: 'erin' }],
    expect: { layer: 'integration', conclusion: 'integration_broken' },
  },

  // Cost
  {
    name: 'agent-loop',
    description: 'An agent loops on a tool call: p95 steps per session jumps to 48 and token spend triples.',
    metrics: healthyWith({ [M.tokens]: from(1800, 5600), [M.agentSteps]: 48 }),
    seriesLabels: labelsWith(),
    changes: [],
    expect: { layer: 'cost', conclusion: 'agent_loop' },
  },
  {
    name: 'retry-storm',
    description: 'A client retries on a 429 without backoff: 35% of calls are retries, spend +140%.',
    metrics: healthyWith({ [M.tokens]: from(1800, 4300), [M.retries]: 0.35 }),
    seriesLabels: labelsWith(),
    changes: [],
    expect: { layer: 'cost', conclusion: 'retry_loop' },
  },
  {
    name: 'usage-spike',
    description: 'A marketing campaign doubles traffic: spend is up 110%, no loop, quality holds.',
    metrics: healthyWith({ [M.tokens]: from(1800, 3800) }),
    seriesLabels: labelsWith(),
    changes: [],
    expect: { layer: 'cost', conclusion: 'cost_spike' },
  },
  {
    name: 'cost-spike-non-agent-service',
    description:
      'A plain chat service (no agent metrics, no eval metric) whose spend doubled after a heavier prompt.',
    metrics: healthyWith({
      [M.tokens]: from(1800, 3900),
      [M.agentSteps]: undefined,
      [M.evalPass]: undefined,
    }),
    seriesLabels: labelsWith(),
    changes: [{ kind: 'prompt', minutesBeforeStart: 50, to: 'v3', author: 'frank' }],
    expect: { layer: 'cost', conclusion: 'cost_spike' },
  },

  // Safety
  {
    name: 'guardrail-too-strict',
    description: 'A stricter safety system prompt went out 3h ago; refusals rise to 14%.',
    metrics: healthyWith({ [M.refusals]: 0.14 }),
    seriesLabels: labelsWith(),
    changes: [{ kind: 'prompt', minutesBeforeStart: 180, from: 'v20', to: 'v21', author: 'trust-safety' }],
    expect: { layer: 'safety', conclusion: 'safety_regression' },
  },
  {
    name: 'provider-content-filter',
    description: 'The provider’s content filter blocks 9% of answers; nothing changed on our side.',
    metrics: healthyWith({ [M.refusals]: 0.11, [M.contentFilter]: 0.09 }),
    seriesLabels: labelsWith(),
    changes: [],
    expect: { layer: 'safety', conclusion: 'content_filter_tripped' },
  },
  {
    name: 'refusals-break-json',
    description:
      'Confounder: refusals are plain text, so schema errors rise too; refusals are the cause (safety first).',
    metrics: healthyWith({ [M.refusals]: 0.12, [M.schemaErrors]: 0.1, [M.contentFilter]: 0.08 }),
    seriesLabels: labelsWith(),
    changes: [],
    expect: { layer: 'safety', conclusion: 'content_filter_tripped' },
  },
  {
    name: 'refusals-drift-with-index-change',
    description:
      'Confounder: the index was rebuilt 2h ago (not a safety-relevant change); the model simply refuses more.',
    metrics: healthyWith({ [M.refusals]: 0.09 }),
    seriesLabels: labelsWith(),
    changes: [{ kind: 'index', minutesBeforeStart: 120, to: 'idx-2026-11-22', author: 'ingest-bot' }],
    expect: { layer: 'safety', conclusion: 'refusals_up' },
  },

  // Nothing to go on
  {
    name: 'no-metrics-at-all',
    description: 'The service exports no AI metrics and nothing changed: the tree must ask a person.',
    metrics: {},
    changes: [],
    expect: { asks: 'triage' },
  },
  {
    name: 'no-traffic',
    description:
      'Traffic stopped entirely: every ratio is 0/0 (NaN) and gauges are absent; the checks cannot decide.',
    metrics: {
      [M.refusals]: Number.NaN,
      [M.schemaErrors]: Number.NaN,
      [M.fallbacks]: Number.NaN,
      [M.retries]: Number.NaN,
      [M.tokens]: from(1800, 0),
    },
    changes: [],
    expect: { asks: 'triage' },
  },
  {
    name: 'non-ai-incident',
    description:
      'A database outage raised the incident; every AI metric is healthy and a config change 2h ago is unrelated.',
    metrics: healthyWith(),
    seriesLabels: labelsWith(),
    changes: [{ kind: 'config', minutesBeforeStart: 120, to: 'db-pool-50', author: 'dba' }],
    expect: { asks: 'triage' },
  },
];
