import type { ActionRun } from '../../src/actions/action-run.js';
import type { AlertOccurrence, Incident } from '../../src/incidents/incident.js';

/** A complete, plausible incident for tests of pure code; override what the test is about. */
export function incidentFixture(overrides: Partial<Incident> = {}): Incident {
  return {
    id: 42,
    title: 'RAG answers cite stale documents',
    status: 'triggered',
    severity: 'SEV2',
    source: 'alertmanager',
    service: 'rag-api',
    description: null,
    layerHint: 'retrieval',
    receiver: 'aisre',
    groupKey: '{}:{alertname="RetrievalRecallDrop"}',
    groupLabels: { alertname: 'RetrievalRecallDrop' },
    runbookUrl: 'https://runbooks.example.com/retrieval',
    generatorUrl: 'http://prometheus:9090/graph?g0.expr=recall&g0.tab=1',
    externalUrl: 'http://alertmanager:9093',
    commanderId: 'U0COMMANDER',
    responderIds: ['U0ALICE', 'U0BOB'],
    alertsFiring: 2,
    alertsResolved: 1,
    truncatedAlerts: 0,
    allAlertsResolvedAt: null,
    createdAt: new Date('2026-11-22T21:05:00Z'),
    updatedAt: new Date('2026-11-22T21:06:00Z'),
    acknowledgedAt: null,
    mitigatedAt: null,
    resolvedAt: null,
    diagnosis: null,
    ...overrides,
  };
}

export function alertFixture(n: number, overrides: Partial<AlertOccurrence> = {}): AlertOccurrence {
  return {
    id: n,
    incidentId: 42,
    receiver: 'aisre',
    fingerprint: `fp${n}`,
    startsAt: new Date('2026-11-22T21:00:00Z'),
    endsAt: null,
    status: 'firing',
    alertname: 'RetrievalRecallDrop',
    labels: { alertname: 'RetrievalRecallDrop', service: 'rag-api', index: `shard-${n}` },
    annotations: {},
    generatorUrl: null,
    firstSeenAt: new Date('2026-11-22T21:05:00Z'),
    resolvedSeenAt: null,
    ...overrides,
  };
}

const RUN_AT = new Date('2026-11-23T10:00:00Z');

/** An action run previewed by U0ALICE: a low-risk rate limit on a LiteLLM key. */
export function actionRunFixture(overrides: Partial<ActionRun> = {}): ActionRun {
  return {
    id: 7,
    incidentId: 3,
    sessionId: 2,
    nodeId: 'prompt_bad',
    actionId: 'gateway.rate_limit',
    kind: 'run',
    undoOf: null,
    params: { key: 'sk-live-agent-key-9876', rpm_limit: 60 },
    risk: 'low',
    status: 'previewed',
    autoKey: null,
    requestedBy: 'slack:U0ALICE',
    requestedAt: RUN_AT,
    approvedBy: null,
    approvedAt: null,
    executedBy: null,
    executedAt: null,
    preview: {
      summary: 'Would set rpm_limit 1000 → 60 on key sk-…9876',
      changes: [{ target: 'key sk-…9876 rpm_limit', from: 1000, to: 60 }],
      previousState: { rpm_limit: 1000 },
    },
    outcome: null,
    previousState: null,
    error: null,
    leaseUntil: null,
    verifyAt: null,
    verification: null,
    finishedAt: null,
    updatedAt: RUN_AT,
    ...overrides,
  };
}
