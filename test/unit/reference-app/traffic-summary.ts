import type { TrafficEvent } from '../../../src/reference-app/traffic.js';

/**
 * Traffic events reduced to the ratios the default runbook's queries compute over a window, e.g.
 * `refusals` is sum(rate(llm_refusals_total)) / sum(rate(gen_ai_client_operation_duration_seconds_count)).
 */
export interface TrafficSummary {
  operations: number;
  refusals: number;
  schemaErrors: number;
  mappingErrors: number;
  fallbacks: number;
  retries: number;
  contentFilter: number;
  /** Tokens (input + output) per step. */
  tokensPerStep: number;
  costUsd: number;
  rejected: Record<string, number>;
  /** 95th percentile of agent steps per session, or NaN without sessions. */
  p95Steps: number;
  sessions: number;
  responseModels: string[];
  fingerprints: string[];
  answers: Record<string, number>;
}

export function summarize(events: readonly TrafficEvent[], steps: number): TrafficSummary {
  let operations = 0;
  let refusals = 0;
  let schemaErrors = 0;
  let mappingErrors = 0;
  let fallbacks = 0;
  let retries = 0;
  let contentFilter = 0;
  let tokens = 0;
  let costUsd = 0;
  const rejected: Record<string, number> = {};
  const answers: Record<string, number> = {};
  const sessionSteps: number[] = [];
  const responseModels = new Set<string>();
  const fingerprints = new Set<string>();
  for (const event of events) {
    switch (event.type) {
      case 'operation':
        operations++;
        tokens += event.inputTokens + event.outputTokens;
        costUsd += event.costUsd;
        if (event.errorType === 'content_filter') contentFilter++;
        if (event.retry && event.responseModel !== null) retries++;
        if (event.responseModel && event.inputTokens > 0) responseModels.add(event.responseModel);
        if (event.fingerprint && event.errorType === null) fingerprints.add(event.fingerprint);
        break;
      case 'refusal':
        refusals++;
        break;
      case 'schema_error':
        schemaErrors++;
        if (event.mapping) mappingErrors++;
        break;
      case 'fallback':
        fallbacks++;
        break;
      case 'rejected':
        rejected[event.reason] = (rejected[event.reason] ?? 0) + 1;
        break;
      case 'answer':
        answers[event.mode] = (answers[event.mode] ?? 0) + 1;
        break;
      case 'agent_session':
        sessionSteps.push(event.steps);
        break;
      case 'retrieval':
        break;
    }
  }
  const sorted = [...sessionSteps].sort((a, b) => a - b);
  const share = (count: number) => (operations === 0 ? 0 : count / operations);
  return {
    operations,
    refusals: share(refusals),
    schemaErrors: share(schemaErrors),
    mappingErrors,
    fallbacks: share(fallbacks),
    retries: share(retries),
    contentFilter: share(contentFilter),
    tokensPerStep: tokens / steps,
    costUsd,
    rejected,
    p95Steps: sorted.length === 0 ? Number.NaN : sorted[Math.ceil(sorted.length * 0.95) - 1]!,
    sessions: sorted.length,
    responseModels: [...responseModels].sort(),
    fingerprints: [...fingerprints].sort(),
    answers,
  };
}
