import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { evalPassRatio, modelMismatchRatio, retrievalHealth } from './behaviour.js';
import { FAULTS, PROVIDER_NAME, SEED_FALLBACKS, WORKLOADS } from './catalog.js';
import type { ReferenceAppState } from './state.js';
import type { TrafficEvent } from './traffic.js';

/**
 * The reference app's Prometheus metrics, in its own registry. Every series carries the `service`
 * label. Counters and histograms count the simulated traffic; gauges are computed from the state
 * when scraped. Names and labels are the ones runbooks/ai-incident.yaml queries:
 *
 * | series | labels (besides service) | read by |
 * |---|---|---|
 * | gen_ai_client_operation_duration_seconds (histogram) | gen_ai_operation_name, gen_ai_provider_name, gen_ai_request_model, gen_ai_response_model, error_type | denominators of every ratio; content_filter (error_type="content_filter") |
 * | gen_ai_client_token_usage (histogram) | same, plus gen_ai_token_type (input/output), no error_type | token_spend, output_length, response_models |
 * | llm_responses_total | gen_ai_request_model, gen_ai_response_model, system_fingerprint | fingerprints |
 * | llm_refusals_total | reason (guardrail, content_filter) | refusals |
 * | llm_output_schema_errors_total | | schema_errors |
 * | app_mapping_errors_total | | mapping_errors |
 * | llm_fallback_total | gen_ai_request_model, fallback_model, reason | fallbacks |
 * | llm_retries_total | gen_ai_request_model | retries |
 * | llm_model_mismatch_ratio (gauge) | | model_mismatch |
 * | llm_eval_pass_ratio (gauge) | | eval_pass, eval_drop |
 * | rag_retrieval_hit_ratio (gauge) | | retrieval_hits |
 * | rag_retrieval_relevance_score (gauge) | | relevance |
 * | rag_index_last_success_timestamp_seconds (gauge) | | index_age |
 * | agent_steps_per_session (histogram) | | steps_per_session |
 * | llm_cost_usd_total | gen_ai_request_model | the postmortem's cost |
 *
 * Also: llm_requests_rejected_total{reason} (gateway refusals), rag_answers_total{mode},
 * rag_retrievals_total{outcome}, agent_sessions_total{outcome}, and
 * reference_app_fault_active{fault} and reference_app_mode_enabled{mode} to show what is going on.
 */
export interface ReferenceAppMetrics {
  registry: Registry;
  /** Counts what the traffic simulation did. */
  record(events: readonly TrafficEvent[]): void;
}

/** OpenTelemetry's recommended buckets for gen_ai.client.operation.duration. */
const DURATION_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];
/** OpenTelemetry's recommended buckets for gen_ai.client.token.usage. */
const TOKEN_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];
const STEP_BUCKETS = [0, 1, 2, 3, 5, 8, 10, 15, 20, 30, 50, 80, 100];
const REJECTIONS: ReadonlySet<string> = new Set(['key_blocked', 'budget_exceeded', 'rate_limited']);

/** Creates the registry; gauges read `state()` at every scrape. */
export function createReferenceAppMetrics(state: () => ReferenceAppState): ReferenceAppMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: state().service });
  const registers = [registry];
  const genAi = [
    'gen_ai_operation_name',
    'gen_ai_provider_name',
    'gen_ai_request_model',
    'gen_ai_response_model',
  ];

  const duration = new Histogram({
    name: 'gen_ai_client_operation_duration_seconds',
    help: 'GenAI operation duration (OpenTelemetry gen_ai.client.operation.duration).',
    labelNames: [...genAi, 'error_type'],
    buckets: DURATION_BUCKETS,
    registers,
  });
  const tokens = new Histogram({
    name: 'gen_ai_client_token_usage',
    help: 'Tokens used per operation (OpenTelemetry gen_ai.client.token.usage).',
    labelNames: [...genAi, 'gen_ai_token_type'],
    buckets: TOKEN_BUCKETS,
    registers,
  });
  const responses = new Counter({
    name: 'llm_responses_total',
    help: 'Completions received, by the model and system_fingerprint the provider reported.',
    labelNames: ['gen_ai_request_model', 'gen_ai_response_model', 'system_fingerprint'],
    registers,
  });
  const refusals = new Counter({
    name: 'llm_refusals_total',
    help: 'Answers refused by the model (guardrail) or blocked by the provider (content_filter).',
    labelNames: ['reason'],
    registers,
  });
  const schemaErrors = new Counter({
    name: 'llm_output_schema_errors_total',
    help: 'Model outputs the pipeline failed to parse or map onto the downstream schema.',
    registers,
  });
  const mappingErrors = new Counter({
    name: 'app_mapping_errors_total',
    help: 'Answers the ticket API rejected because a field did not map.',
    registers,
  });
  const fallbacks = new Counter({
    name: 'llm_fallback_total',
    help: 'Requests the primary model failed and a fallback model answered.',
    labelNames: ['gen_ai_request_model', 'fallback_model', 'reason'],
    registers,
  });
  const retries = new Counter({
    name: 'llm_retries_total',
    help: 'Calls sent again by a client after an earlier attempt.',
    labelNames: ['gen_ai_request_model'],
    registers,
  });
  const cost = new Counter({
    name: 'llm_cost_usd_total',
    help: 'Spend on model calls, in US dollars.',
    labelNames: ['gen_ai_request_model'],
    registers,
  });
  const rejected = new Counter({
    name: 'llm_requests_rejected_total',
    help: 'Calls the gateway refused: blocked key, budget exceeded or rate limited.',
    labelNames: ['reason'],
    registers,
  });
  const answers = new Counter({
    name: 'rag_answers_total',
    help: 'RAG questions answered, by how (llm, cache, rules) or failed.',
    labelNames: ['mode'],
    registers,
  });
  const retrievals = new Counter({
    name: 'rag_retrievals_total',
    help: 'Retrievals, by whether a relevant document was found.',
    labelNames: ['outcome'],
    registers,
  });
  const steps = new Histogram({
    name: 'agent_steps_per_session',
    help: 'Steps (model calls) an agent session completed.',
    buckets: STEP_BUCKETS,
    registers,
  });
  const sessions = new Counter({
    name: 'agent_sessions_total',
    help: 'Agent sessions ended, by outcome.',
    labelNames: ['outcome'],
    registers,
  });

  const gauge = (name: string, help: string, read: (current: ReferenceAppState) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read(state()));
      },
    });
  gauge('llm_eval_pass_ratio', 'Share of sampled answers passing the online evals.', evalPassRatio);
  gauge(
    'rag_retrieval_hit_ratio',
    'Share of queries that retrieved a relevant document.',
    (s) => retrievalHealth(s).hitRatio,
  );
  gauge(
    'rag_retrieval_relevance_score',
    'Mean relevance of retrieved documents (0-1).',
    (s) => retrievalHealth(s).relevance,
  );
  gauge(
    'rag_index_last_success_timestamp_seconds',
    'When the index job last succeeded (Unix seconds).',
    (s) => s.retrieval.indexLastSuccessMs / 1000,
  );
  gauge(
    'llm_model_mismatch_ratio',
    'Share of answers from a model neither requested nor a fallback.',
    modelMismatchRatio,
  );
  new Gauge({
    name: 'reference_app_fault_active',
    help: 'Faults injected into the reference app (1) since the last clear.',
    labelNames: ['fault'],
    registers,
    collect() {
      const active = state().faults;
      for (const fault of FAULTS) this.set({ fault }, active.includes(fault) ? 1 : 0);
    },
  });
  new Gauge({
    name: 'reference_app_mode_enabled',
    help: 'Degraded answering modes switched on by webhook (1).',
    labelNames: ['mode'],
    registers,
    collect() {
      const { modes } = state();
      this.set({ mode: 'cache_only' }, modes.cacheOnly ? 1 : 0);
      this.set({ mode: 'rules_based' }, modes.rulesBased ? 1 : 0);
    },
  });

  // Series exist from the first scrape, so a ratio reads 0 rather than "no data" while all is well.
  for (const reason of ['guardrail', 'content_filter']) refusals.inc({ reason }, 0);
  for (const reason of REJECTIONS) rejected.inc({ reason }, 0);
  for (const { model } of Object.values(WORKLOADS)) {
    retries.inc({ gen_ai_request_model: model }, 0);
    cost.inc({ gen_ai_request_model: model }, 0);
  }
  for (const { type, model, fallbacks: to } of SEED_FALLBACKS) {
    for (const fallback of to)
      fallbacks.inc({ gen_ai_request_model: model, fallback_model: fallback, reason: type }, 0);
  }

  const record = (event: TrafficEvent) => {
    switch (event.type) {
      case 'operation': {
        const labels = {
          gen_ai_operation_name: 'chat',
          gen_ai_provider_name: PROVIDER_NAME,
          gen_ai_request_model: event.requestModel,
          gen_ai_response_model: event.responseModel ?? '',
        };
        duration.observe({ ...labels, error_type: event.errorType ?? '' }, event.durationSeconds);
        if (event.inputTokens > 0)
          tokens.observe({ ...labels, gen_ai_token_type: 'input' }, event.inputTokens);
        if (event.outputTokens > 0)
          tokens.observe({ ...labels, gen_ai_token_type: 'output' }, event.outputTokens);
        if (event.responseModel !== null && event.errorType === null) {
          responses.inc({
            gen_ai_request_model: event.requestModel,
            gen_ai_response_model: event.responseModel,
            system_fingerprint: event.fingerprint ?? '',
          });
        }
        if (event.retry && !REJECTIONS.has(event.errorType ?? '')) {
          retries.inc({ gen_ai_request_model: event.requestModel });
        }
        if (event.costUsd > 0) cost.inc({ gen_ai_request_model: event.requestModel }, event.costUsd);
        return;
      }
      case 'rejected':
        return rejected.inc({ reason: event.reason });
      case 'fallback':
        return fallbacks.inc({
          gen_ai_request_model: event.requestModel,
          fallback_model: event.fallbackModel,
          reason: event.reason,
        });
      case 'refusal':
        return refusals.inc({ reason: event.reason });
      case 'schema_error':
        schemaErrors.inc();
        if (event.mapping) mappingErrors.inc();
        return;
      case 'answer':
        return answers.inc({ mode: event.mode });
      case 'retrieval':
        return retrievals.inc({ outcome: event.hit ? 'hit' : 'miss' });
      case 'agent_session':
        steps.observe(event.steps);
        sessions.inc({ outcome: event.outcome });
        return;
    }
  };

  return {
    registry,
    record(events) {
      for (const event of events) record(event);
    },
  };
}
