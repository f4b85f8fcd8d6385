import type { AlertStatus } from '../incidents/incident.js';

const ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * A realistic Alertmanager v4 delivery for a degraded RAG assistant: answers got worse while
 * latency and errors stayed green. Used by the demo; `resolved` builds the follow-up delivery.
 */
export function sampleDelivery(options: { startsAt: Date; status: AlertStatus; endsAt?: Date }) {
  const startsAt = options.startsAt.toISOString();
  const endsAt = options.status === 'resolved' ? (options.endsAt ?? new Date()).toISOString() : ZERO_TIME;
  const common = {
    service: 'rag-assistant',
    team: 'ai-platform',
    severity: 'critical',
    prompt: 'rag-answer',
  };
  return {
    version: '4',
    groupKey: '{}/{team="ai-platform"}:{service="rag-assistant"}',
    truncatedAlerts: 0,
    status: options.status,
    receiver: 'aisre',
    groupLabels: { service: 'rag-assistant' },
    commonLabels: common,
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example.internal:9093',
    alerts: [
      {
        status: options.status,
        labels: { ...common, alertname: 'EvalPassRateLow', layer: 'generation' },
        annotations: {
          summary: 'Eval pass rate for rag-assistant fell to 71% (SLO 90%)',
          description:
            'Golden-set pass rate dropped 19 points in 30 minutes; latency and error rate are normal.',
          runbook_url: 'https://runbooks.example.internal/ai/eval-pass-rate',
        },
        startsAt,
        endsAt,
        generatorURL:
          'http://prometheus.example.internal:9090/graph?g0.expr=eval_pass_ratio%7Bservice%3D%22rag-assistant%22%7D+%3C+0.9',
        fingerprint: 'a3f1c2d4e5b60718',
      },
      {
        status: options.status,
        labels: { ...common, alertname: 'TokenSpendHigh', layer: 'generation', severity: 'warning' },
        annotations: { summary: 'Output tokens per answer up 2.4x against last week' },
        startsAt,
        endsAt,
        generatorURL:
          'http://prometheus.example.internal:9090/graph?g0.expr=rate%28gen_ai_client_token_usage_sum%5B5m%5D%29',
        fingerprint: '5b2e9f0a1c3d4e67',
      },
    ],
  };
}
