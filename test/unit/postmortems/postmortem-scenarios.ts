import type { PostmortemRecord } from '../../../src/postmortems/postmortem.js';
import { buildRecord, result } from './postmortem-fixtures.js';

/** The incidents the golden files are drafted from: one per layer, plus the awkward cases. */

const GRAPH = 'http://prometheus.example.internal:9090/graph?g0.expr=';

const triageQuiet = {
  eval_pass: result(
    'pass',
    'eval pass rate 0.93 ≥ 0.90',
    { current: '0.93' },
    `${GRAPH}avg(llm_eval_pass_ratio)`,
  ),
  refusals: result('pass', 'refusal rate 0.012 ≤ 0.05'),
  schema_errors: result('pass', 'schema error rate 0 ≤ 0.01'),
  token_spend: result('pass', 'token spend 1.04× yesterday (limit 1.5×)'),
  response_models: result('pass', 'same response models as yesterday: gpt-4o-2024-08-06'),
};

export function retrievalIncident(): PostmortemRecord {
  return buildRecord({
    incident: {
      id: 101,
      title: 'RAG answers cite stale documents',
      layerHint: 'retrieval',
      service: 'rag-api',
    },
    alerts: [
      {
        alertname: 'RetrievalHitRateLow',
        labels: { service: 'rag-api', layer: 'retrieval', severity: 'SEV2', index: 'kb-prod' },
        annotations: { summary: 'Retrieval hit rate 0.41 below 0.70 for 10 minutes' },
        resolvedAfter: 58,
      },
      {
        alertname: 'RetrievalHitRateLow',
        labels: { service: 'rag-api', layer: 'retrieval', severity: 'SEV2', index: 'kb-archive' },
        annotations: { summary: 'Retrieval hit rate 0.52 below 0.70 for 10 minutes' },
        after: 1,
        resolvedAfter: 60,
      },
    ],
    acknowledged: { after: 6, by: 'U0ALICE' },
    diagnosis: {
      after: 2,
      steps: [
        {
          node: 'triage',
          after: 2,
          reason: 'retrieval hit rate below 0.70',
          results: {
            ...triageQuiet,
            retrieval_hit: result('fail', 'retrieval hit rate 0.41 < 0.70', {
              'kb-prod': '0.41',
              'kb-archive': '0.52',
            }),
            recent_changes: result('pass', 'no change in the last 6 hours'),
          },
        },
        {
          node: 'retrieval',
          after: 3,
          reason: 'the index has not refreshed for 31 hours',
          results: {
            embedding_changes: result('pass', 'no embedding model change in 24 h'),
            index_freshness: result('fail', 'last successful index refresh 31 h ago > 6 h', {
              'last success': '2026-11-21 03:02:11 UTC',
            }),
          },
        },
        { node: 'index_stale', after: 4 },
      ],
      concludedAfter: 4,
    },
    actions: [
      {
        action: 'http.webhook',
        params: { webhook: 'reindex', body: { index: 'kb-prod' } },
        status: 'recovered',
        requestedBy: 'U0ALICE',
        requestedAfter: 9,
        executedAfter: 10,
        result: { summary: 'POST reindex webhook: HTTP 202 Accepted' },
        verification: { status: 'recovered', summary: '2 of 2 checks pass', after: 52 },
      },
    ],
    mitigated: { after: 52, by: 'system' },
    allResolvedAfter: 61,
    resolved: { after: 75, by: 'U0ALICE' },
    impact: {
      window: { from: new Date('2026-11-22T10:04:05Z'), to: new Date('2026-11-22T11:19:05Z') },
      errorBudget: { slo: 0.9, averagePassRate: 0.84, shareBelowSlo: 0.7 },
      costUsd: 18.4,
      tokens: 2_310_554,
    },
  });
}

export function generationIncident(): PostmortemRecord {
  return buildRecord({
    incident: {
      id: 102,
      title: 'Support bot answers got worse',
      layerHint: 'generation',
      service: 'support-bot',
      severity: 'SEV2',
    },
    alerts: [
      {
        alertname: 'EvalPassRateLow',
        labels: { service: 'support-bot', layer: 'generation', severity: 'SEV2' },
        annotations: { summary: 'Online eval pass rate 0.71 below SLO 0.90' },
      },
    ],
    changes: [
      {
        kind: 'prompt',
        from: 'v12',
        to: 'v13',
        author: 'alice',
        after: -42,
        summary: 'Ask for shorter answers and cite sources inline',
        link: 'https://langfuse.example.internal/prompts/support-answer?version=13',
      },
    ],
    openedAfter: 1,
    acknowledged: { after: 4, by: 'U0BOB' },
    diagnosis: {
      after: 1,
      steps: [
        {
          node: 'triage',
          after: 1,
          reason: 'eval pass rate fell with a recent change',
          results: {
            ...triageQuiet,
            eval_pass: result(
              'fail',
              'eval pass rate 0.71 < 0.90',
              { current: '0.71' },
              `${GRAPH}avg(llm_eval_pass_ratio)`,
            ),
            retrieval_hit: result('pass', 'retrieval hit rate 0.88 ≥ 0.70'),
            recent_changes: result('fail', '1 change in the last 6 hours: prompt v12 → v13', {
              prompt: 'v12 → v13 by alice, 42 min before',
            }),
          },
        },
        {
          node: 'generation',
          after: 2,
          reason: 'a prompt changed shortly before the drop',
          results: {
            prompt_changes: result('fail', 'prompt v12 → v13, 42 min before the incident'),
            eval_vs_yesterday: result('fail', 'eval pass rate 0.71 vs 0.92 yesterday (−0.21, allowed −0.05)'),
          },
        },
        { node: 'prompt_regression', after: 3 },
      ],
      concludedAfter: 3,
    },
    actions: [
      {
        action: 'prompt.rollback',
        params: { prompt: 'support-answer', label: 'production' },
        status: 'recovered',
        requestedBy: 'system',
        requestedAfter: 3,
        executedAfter: 3,
        result: {
          summary:
            'Moved prompt "support-answer" production label from v13 to v12 (SDK caches refresh within about 60 s)',
          changes: [{ target: 'prompt "support-answer" production label', from: 'v13', to: 'v12' }],
        },
        verification: { status: 'recovered', summary: '3 of 3 checks pass', after: 12 },
      },
    ],
    mitigated: { after: 12, by: 'system' },
    allResolvedAfter: 20,
    resolved: { after: 31, by: 'U0BOB' },
  });
}

export function routingIncident(): PostmortemRecord {
  return buildRecord({
    incident: {
      id: 103,
      title: 'Chat answers come from the wrong model',
      layerHint: 'routing',
      service: 'chat-gateway',
      severity: 'SEV1',
    },
    alerts: [
      {
        alertname: 'ModelMismatch',
        labels: {
          service: 'chat-gateway',
          layer: 'routing',
          severity: 'SEV1',
          gen_ai_request_model: 'gpt-4o',
        },
        annotations: { summary: '38% of responses come from another model than requested' },
        resolvedAfter: 24,
      },
    ],
    changes: [
      {
        kind: 'config',
        from: 'routes@41',
        to: 'routes@42',
        author: 'deploy-bot',
        after: -15,
        summary: 'Move gpt-4o traffic to the eu-west deployment',
      },
    ],
    acknowledged: { after: 3, by: 'U0CAROL' },
    diagnosis: {
      after: 2,
      steps: [
        {
          node: 'triage',
          after: 2,
          reason: 'responses come from another model',
          results: {
            ...triageQuiet,
            response_models: result(
              'fail',
              'response models changed: gpt-4o-2024-08-06 → gpt-4o-mini-2024-07-18',
            ),
            retrieval_hit: result('pass', 'retrieval hit rate 0.91 ≥ 0.70'),
            recent_changes: result('fail', '1 change in the last 6 hours: config routes@41 → routes@42'),
          },
        },
        {
          node: 'routing',
          after: 3,
          reason: 'a routing change preceded the mismatch',
          results: {
            routing_changes: result('fail', 'config routes@41 → routes@42, 15 min before the incident'),
            model_mismatch: result('fail', 'model mismatch ratio 0.38 > 0.05'),
            fallback_rate: result('pass', 'fallback rate 0.01 ≤ 0.10'),
          },
        },
        { node: 'route_changed', after: 4 },
      ],
      concludedAfter: 4,
    },
    actions: [
      {
        action: 'gateway.route',
        params: { model_id: 'gpt-4o-eu', upstream_model: 'azure/gpt-4o-2024-08-06' },
        risk: 'high',
        status: 'recovered',
        requestedBy: 'U0CAROL',
        approvedBy: 'U0DAVE',
        requestedAfter: 6,
        executedAfter: 9,
        result: {
          summary: 'Set deployment gpt-4o-eu upstream: azure/gpt-4o-mini → azure/gpt-4o-2024-08-06',
          changes: [
            {
              target: 'deployment gpt-4o-eu upstream model',
              from: 'azure/gpt-4o-mini',
              to: 'azure/gpt-4o-2024-08-06',
            },
          ],
        },
        verification: { status: 'recovered', summary: '3 of 3 checks pass', after: 16 },
      },
    ],
    mitigated: { after: 16, by: 'system' },
    allResolvedAfter: 25,
    resolved: { after: 40, by: 'U0CAROL' },
  });
}

export function providerDriftIncident(): PostmortemRecord {
  return buildRecord({
    incident: {
      id: 104,
      title: 'Extraction accuracy dropped with no deploy',
      layerHint: 'provider_drift',
      service: 'invoice-extractor',
      severity: 'SEV2',
    },
    alerts: [
      {
        alertname: 'GoldenSetRegression',
        labels: {
          service: 'invoice-extractor',
          layer: 'provider_drift',
          severity: 'SEV2',
          gen_ai_request_model: 'gpt-4o',
        },
        annotations: { summary: 'Golden-set pass rate 0.78, baseline 0.96' },
      },
    ],
    acknowledged: { after: 8, by: 'U0ERIN' },
    diagnosis: {
      after: 2,
      steps: [
        {
          node: 'triage',
          after: 2,
          reason: 'the response model or fingerprint changed',
          results: {
            ...triageQuiet,
            eval_pass: result('fail', 'eval pass rate 0.78 < 0.90'),
            retrieval_hit: result('inconclusive', 'no data for rag_retrieval_hit_ratio'),
            response_models: result('fail', 'system_fingerprint changed: fp_3b5c1e → fp_9d02aa'),
            recent_changes: result('pass', 'no change in the last 6 hours'),
          },
        },
        {
          node: 'provider_drift',
          after: 3,
          answer: { label: 'Yes', by: 'U0ERIN' },
          results: {
            drift_models: result('fail', 'system_fingerprint changed: fp_3b5c1e → fp_9d02aa', {
              models: 'gpt-4o-2024-08-06',
              'fingerprints vs baseline': 'changed: fp_3b5c1e → fp_9d02aa',
            }),
            own_deploys: result('pass', 'no deploy of ours in 24 h'),
            golden_set: result(
              'fail',
              'golden set invoices pass rate 0.78, down 0.18 from baseline 0.96 (allowed 0.1); fingerprint changed since baseline',
              {
                'pass rate': '0.78 (47/60 runs)',
                'case due_date_iso': '0/3 runs passed; e.g. "22 Nov 2026"',
              },
            ),
          },
        },
        { node: 'provider_model_update', after: 14 },
      ],
      concludedAfter: 14,
    },
    actions: [
      {
        action: 'gateway.fallback',
        params: { model: 'gpt-4o', fallback_models: ['gpt-4o-2024-05-13'] },
        status: 'unverified',
        requestedBy: 'U0ERIN',
        requestedAfter: 16,
        executedAfter: 17,
        result: {
          summary: 'Set fallbacks of gpt-4o: none → gpt-4o-2024-05-13',
          changes: [{ target: 'gpt-4o fallbacks', from: [], to: ['gpt-4o-2024-05-13'] }],
        },
        verification: { status: 'unverified', summary: 'no recovery checks for this conclusion', after: 19 },
      },
    ],
    mitigated: { after: 35, by: 'U0ERIN' },
    resolved: { after: 190, by: 'U0ERIN' },
    impact: {
      window: { from: new Date('2026-11-22T10:04:05Z'), to: new Date('2026-11-22T13:14:05Z') },
      errorBudget: { slo: 0.95, averagePassRate: 0.81, shareBelowSlo: 0.92 },
      costUsd: 42.07,
    },
  });
}

export function integrationIncident(): PostmortemRecord {
  return buildRecord({
    incident: {
      id: 105,
      title: 'Order assistant fails to create tickets',
      layerHint: 'integration',
      service: 'order-assistant',
      severity: 'SEV2',
    },
    alerts: [
      {
        alertname: 'OutputSchemaErrors',
        labels: { service: 'order-assistant', layer: 'integration', severity: 'SEV2' },
        annotations: { summary: '12% of model outputs fail schema validation' },
      },
    ],
    changes: [
      {
        kind: 'code',
        from: '2026.11.21-3',
        to: '2026.11.22-1',
        author: 'ci',
        after: -25,
        summary: 'Ticket mapper v2: nested customer object',
      },
    ],
    acknowledged: { after: 5, by: 'U0FRANK' },
    diagnosis: {
      after: 2,
      steps: [
        {
          node: 'triage',
          after: 2,
          reason: 'schema or mapping errors',
          results: {
            ...triageQuiet,
            schema_errors: result('fail', 'schema error rate 0.12 > 0.01'),
            retrieval_hit: result('pass', 'retrieval hit rate 0.90 ≥ 0.70'),
            recent_changes: result('fail', '1 change in the last 6 hours: code 2026.11.21-3 → 2026.11.22-1'),
          },
        },
        {
          node: 'integration',
          after: 3,
          reason: 'the model is fine in isolation',
          results: {
            output_schema: result('fail', 'output schema error rate 0.12 > 0.01'),
            isolation: result('pass', 'golden set orders pass rate 0.97 (baseline 0.96)'),
          },
        },
        { node: 'integration_broken', after: 5 },
      ],
      concludedAfter: 5,
    },
    actions: [
      {
        action: 'http.webhook',
        params: { webhook: 'deploy-rollback', body: { service: 'order-assistant', to: '2026.11.21-3' } },
        status: 'recovered',
        requestedBy: 'U0FRANK',
        requestedAfter: 8,
        executedAfter: 8,
        result: { summary: 'POST deploy-rollback webhook: HTTP 200 OK' },
        verification: { status: 'recovered', summary: '2 of 2 checks pass', after: 15 },
      },
    ],
    mitigated: { after: 15, by: 'system' },
    resolved: { after: 44, by: 'U0FRANK' },
  });
}

export function costIncident(): PostmortemRecord {
  return buildRecord({
    incident: {
      id: 106,
      title: 'Research agent token spend 9× normal',
      layerHint: 'cost',
      service: 'research-agent',
      severity: 'SEV2',
    },
    alerts: [
      {
        alertname: 'TokenSpendHigh',
        labels: { service: 'research-agent', layer: 'cost', severity: 'SEV2', litellm_key: 'sk-…a1f3' },
        annotations: { summary: 'Token spend 9.2× the same hour yesterday' },
      },
    ],
    acknowledged: { after: 12, by: 'U0GRACE' },
    diagnosis: {
      after: 2,
      steps: [
        {
          node: 'triage',
          after: 2,
          reason: 'token spend far above yesterday',
          results: {
            ...triageQuiet,
            token_spend: result('fail', 'token spend 9.2× yesterday (limit 1.5×)'),
            retrieval_hit: result('inconclusive', 'no data for rag_retrieval_hit_ratio'),
            recent_changes: result('pass', 'no change in the last 6 hours'),
          },
        },
        {
          node: 'cost',
          after: 3,
          reason: 'agents take far more steps than usual',
          results: {
            agent_steps: result('fail', 'agent steps per session p95 48 > 15'),
            retry_rate: result('pass', 'retry rate 0.02 ≤ 0.10'),
          },
        },
        { node: 'agent_loop', after: 4 },
      ],
      concludedAfter: 4,
    },
    actions: [
      {
        action: 'gateway.block',
        params: { key: 'sk-agent-key-000000000001' },
        risk: 'high',
        status: 'rejected',
        requestedBy: 'U0GRACE',
        approvedBy: 'U0HEIDI',
        requestedAfter: 13,
        result: { summary: 'Block key sk-…0001' },
      },
      {
        action: 'gateway.budget_cap',
        params: { key: 'sk-agent-key-000000000001', max_budget: 50 },
        status: 'recovered',
        requestedBy: 'U0GRACE',
        requestedAfter: 16,
        executedAfter: 16,
        result: {
          summary: 'Set key sk-…0001 max_budget: none → 50',
          changes: [{ target: 'key sk-…0001 max_budget', from: null, to: 50 }],
        },
        verification: { status: 'recovered', summary: '2 of 2 checks pass', after: 22 },
      },
    ],
    mitigated: { after: 22, by: 'system' },
    resolved: { after: 95, by: 'U0GRACE' },
    impact: {
      window: { from: new Date('2026-11-22T10:04:05Z'), to: new Date('2026-11-22T11:39:05Z') },
      costUsd: 1843.27,
      tokens: 412_993_120,
    },
  });
}

export function safetyIncident(): PostmortemRecord {
  return buildRecord({
    incident: {
      id: 107,
      title: 'Refusals up on the health assistant',
      layerHint: 'safety',
      service: 'health-assistant',
      severity: 'SEV3',
    },
    alerts: [
      {
        alertname: 'RefusalRateHigh',
        labels: { service: 'health-assistant', layer: 'safety', severity: 'SEV3' },
        annotations: { summary: 'Refusal rate 0.19 above 0.05' },
      },
    ],
    changes: [
      {
        kind: 'prompt',
        from: 'v31',
        to: 'v32',
        author: 'safety-team',
        after: -190,
        summary: 'Stricter medical-advice guardrail',
      },
    ],
    acknowledged: { after: 9, by: 'U0IVAN' },
    diagnosis: {
      after: 2,
      steps: [
        {
          node: 'triage',
          after: 2,
          reason: 'refusals or filters up',
          results: {
            ...triageQuiet,
            refusals: result('fail', 'refusal rate 0.19 > 0.05'),
            retrieval_hit: result('pass', 'retrieval hit rate 0.86 ≥ 0.70'),
            recent_changes: result('pass', 'no change in the last 6 hours'),
          },
        },
        {
          node: 'safety',
          after: 3,
          reason: 'content filter rate up',
          override: { by: 'U0IVAN' },
          results: {
            policy_changes: result(
              'inconclusive',
              'prompt v31 → v32, 3 h 10 min before the incident; too long before to decide',
            ),
            content_filter: result('fail', 'content-filter rate 0.07 > 0.05'),
          },
        },
        { node: 'safety_regression', after: 11 },
      ],
      concludedAfter: 11,
    },
    actions: [
      {
        action: 'prompt.rollback',
        params: { prompt: 'health-answer', label: 'production' },
        status: 'recovered',
        requestedBy: 'U0IVAN',
        requestedAfter: 12,
        executedAfter: 12,
        result: {
          summary:
            'Moved prompt "health-answer" production label from v32 to v31 (SDK caches refresh within about 60 s)',
          changes: [{ target: 'prompt "health-answer" production label', from: 'v32', to: 'v31' }],
        },
        verification: { status: 'recovered', summary: '2 of 2 checks pass', after: 20 },
      },
    ],
    mitigated: { after: 20, by: 'system' },
    resolved: { after: 48, by: 'U0IVAN' },
  });
}

/** Embeddings changed on Friday evening; the incident ran into the next day. */
export function multiDayIncident(): PostmortemRecord {
  return buildRecord({
    incident: {
      id: 108,
      title: 'Search answers irrelevant after embedding upgrade',
      layerHint: 'retrieval',
      service: 'docs-search',
      severity: 'SEV2',
    },
    start: '2026-11-20T22:47:12Z',
    alerts: [
      {
        alertname: 'RetrievalRelevanceLow',
        labels: { service: 'docs-search', layer: 'retrieval', severity: 'SEV2' },
        annotations: { summary: 'Relevance score 0.38 against 0.71 yesterday' },
        resolvedAfter: 1610,
      },
    ],
    changes: [
      {
        kind: 'embedding',
        from: 'text-embedding-3-small',
        to: 'text-embedding-3-large',
        author: 'ml-platform',
        after: -185,
        summary: 'Upgrade query embeddings',
      },
      {
        kind: 'index',
        from: 'docs-2026-11-19',
        to: 'docs-2026-11-21',
        author: 'ml-platform',
        after: 1490,
        summary: 'Reindex with text-embedding-3-large',
      },
    ],
    openedAfter: 3,
    acknowledged: { after: 50, by: 'U0JUDY' },
    diagnosis: {
      after: 3,
      steps: [
        {
          node: 'triage',
          after: 3,
          reason: 'retrieval relevance down',
          results: {
            ...triageQuiet,
            retrieval_hit: result('fail', 'retrieval hit rate 0.35 < 0.70'),
            recent_changes: result(
              'fail',
              '1 change in the last 6 hours: embedding text-embedding-3-small → text-embedding-3-large',
            ),
          },
        },
        {
          node: 'retrieval',
          after: 4,
          reason: 'the embedding model changed',
          results: {
            embedding_changes: result(
              'fail',
              'embedding text-embedding-3-small → text-embedding-3-large, 3 h 5 min before',
            ),
            index_freshness: result('pass', 'last successful index refresh 20 h ago ≤ 24 h'),
          },
        },
        { node: 'embedding_model_changed', after: 5 },
      ],
      concludedAfter: 5,
    },
    actions: [
      {
        action: 'http.webhook',
        params: { webhook: 'reindex', body: { index: 'docs', embedding_model: 'text-embedding-3-large' } },
        status: 'recovered',
        requestedBy: 'U0JUDY',
        requestedAfter: 55,
        executedAfter: 56,
        result: { summary: 'POST reindex webhook: HTTP 202 Accepted' },
        verification: { status: 'recovered', summary: '2 of 2 checks pass', after: 1500 },
      },
    ],
    mitigated: { after: 1500, by: 'system' },
    allResolvedAfter: 1611,
    resolved: { after: 1745, by: 'U0JUDY' },
  });
}

/** Declared by hand in Slack; nobody ran the diagnosis. */
export function undiagnosedIncident(): PostmortemRecord {
  return buildRecord({
    incident: {
      id: 109,
      title: 'Customers report the assistant answers in the wrong language',
      layerHint: null,
      service: 'support-bot',
      severity: 'SEV3',
      description: 'Reported by the support team.',
    },
    declared: { by: 'U0KATE', source: 'slack' },
    acknowledged: { after: 1, by: 'U0KATE' },
    resolved: { after: 130, by: 'U0KATE' },
  });
}

/** A routing fallback storm where the first two actions did not work and one was undone. */
export function failedActionsIncident(): PostmortemRecord {
  return buildRecord({
    incident: {
      id: 110,
      title: 'Primary model timing out; fallbacks answer badly',
      layerHint: 'routing',
      service: 'chat-gateway',
      severity: 'SEV1',
    },
    alerts: [
      {
        alertname: 'FallbackRateHigh',
        labels: {
          service: 'chat-gateway',
          layer: 'routing',
          severity: 'SEV1',
          gen_ai_request_model: 'gpt-4o',
        },
        annotations: { summary: 'Fallback rate 0.64 above 0.10' },
      },
      {
        alertname: 'LatencyHigh',
        labels: {
          service: 'chat-gateway',
          layer: 'routing',
          severity: 'SEV2',
          gen_ai_request_model: 'gpt-4o',
        },
        annotations: { summary: 'p95 latency 28 s above 8 s' },
        after: 2,
      },
    ],
    acknowledged: { after: 4, by: 'U0LEO' },
    diagnosis: {
      after: 2,
      steps: [
        {
          node: 'triage',
          after: 2,
          reason: 'fallback rate up',
          results: {
            ...triageQuiet,
            retrieval_hit: result('error', 'Prometheus answered HTTP 503: upstream connect error'),
            recent_changes: result('pass', 'no change in the last 6 hours'),
          },
        },
        {
          node: 'routing',
          after: 3,
          reason: 'most traffic goes to fallbacks',
          results: {
            routing_changes: result('pass', 'no routing change in 6 h'),
            model_mismatch: result('error', 'query timed out after 10 s'),
            fallback_rate: result('fail', 'fallback rate 0.64 > 0.10'),
          },
        },
        { node: 'fallback_storm', after: 4 },
      ],
      concludedAfter: 4,
    },
    actions: [
      {
        action: 'gateway.rate_limit',
        params: { key: 'sk-chat-prod-00000000beef', rpm_limit: 60 },
        status: 'failed',
        requestedBy: 'U0LEO',
        requestedAfter: 6,
        executedAfter: 6,
        error: 'LiteLLM answered HTTP 503 (network): upstream unavailable',
      },
      {
        action: 'gateway.fallback',
        params: { model: 'gpt-4o', fallback_models: ['claude-3-5-sonnet'] },
        status: 'not_recovered',
        requestedBy: 'U0LEO',
        requestedAfter: 9,
        executedAfter: 9,
        result: {
          summary: 'Set fallbacks of gpt-4o: gpt-4o-mini → claude-3-5-sonnet',
          changes: [{ target: 'gpt-4o fallbacks', from: ['gpt-4o-mini'], to: ['claude-3-5-sonnet'] }],
        },
        verification: { status: 'not_recovered', summary: '1 of 3 checks pass', after: 15 },
      },
      {
        action: 'gateway.fallback',
        kind: 'undo',
        undoOf: 1,
        params: { model: 'gpt-4o', fallback_models: ['claude-3-5-sonnet'] },
        status: 'not_recovered',
        requestedBy: 'U0LEO',
        requestedAfter: 17,
        executedAfter: 17,
        result: {
          summary: 'Restored fallbacks of gpt-4o: claude-3-5-sonnet → gpt-4o-mini',
          changes: [{ target: 'gpt-4o fallbacks', from: ['claude-3-5-sonnet'], to: ['gpt-4o-mini'] }],
        },
        verification: { status: 'not_recovered', summary: '1 of 3 checks pass', after: 24 },
      },
    ],
    mitigated: { after: 52, by: 'U0LEO' },
    allResolvedAfter: 49,
    resolved: { after: 80, by: 'U0LEO' },
  });
}

export const GOLDEN_SCENARIOS: Record<string, () => PostmortemRecord> = {
  'layer-retrieval': retrievalIncident,
  'layer-generation': generationIncident,
  'layer-routing': routingIncident,
  'layer-provider-drift': providerDriftIncident,
  'layer-integration': integrationIncident,
  'layer-cost': costIncident,
  'layer-safety': safetyIncident,
  'multi-day': multiDayIncident,
  'no-diagnosis': undiagnosedIncident,
  'failed-actions-and-undo': failedActionsIncident,
};
