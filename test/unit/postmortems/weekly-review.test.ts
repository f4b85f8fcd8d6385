import { describe, expect, it } from 'vitest';
import type { ActionRun } from '../../../src/actions/action-run.js';
import type { IncidentDiagnosis } from '../../../src/diagnosis/diagnosis.js';
import type { IncidentClass, Layer } from '../../../src/diagnosis/runbook-schema.js';
import type { Incident } from '../../../src/incidents/incident.js';
import { buildWeeklyReview, type WeeklyReviewInput } from '../../../src/postmortems/weekly-review.js';
import { actionRunFixture, incidentFixture } from '../../support/domain-fixtures.js';

const FROM = new Date('2026-11-16T00:00:00Z');
const TO = new Date('2026-11-23T00:00:00Z');
const OPENED = new Date('2026-11-20T10:00:00Z');

function at(secondsAfterOpening: number): Date {
  return new Date(OPENED.getTime() + secondsAfterOpening * 1000);
}

function incident(id: number, overrides: Partial<Incident> = {}): Incident {
  return incidentFixture({
    id,
    createdAt: OPENED,
    service: `service-${id}`,
    groupLabels: { alertname: `Alert${id}` },
    ...overrides,
  });
}

function concluded(layer: Layer, incidentClass: IncidentClass): IncidentDiagnosis {
  return {
    sessionId: 1,
    runbookId: 'rag',
    status: 'concluded',
    node: 'end',
    nodeTitle: 'Concluded',
    conclusion: {
      node: 'end',
      title: 'Found it',
      layer,
      hypothesis: 'It broke.',
      class: incidentClass,
      actions: [],
    },
  };
}

function review(input: Partial<WeeklyReviewInput>) {
  return buildWeeklyReview({ from: FROM, to: TO, incidents: [], actions: [], ...input });
}

describe('buildWeeklyReview: counts', () => {
  it('reviews only the incidents opened in the window, and only their actions', () => {
    const result = review({
      incidents: [
        incident(1, { createdAt: FROM }),
        incident(2, { createdAt: new Date(FROM.getTime() - 1) }),
        incident(3, { createdAt: TO }),
      ],
      actions: [
        actionRunFixture({ id: 1, incidentId: 1, status: 'recovered', executedAt: OPENED }),
        actionRunFixture({ id: 2, incidentId: 2, status: 'recovered', executedAt: OPENED }),
      ],
    });
    expect(result.incidents).toBe(1);
    expect(result.days).toBe(7);
    expect(result.actions.map((usage) => usage.runs)).toEqual([1]);
  });

  it('counts by layer and class from concluded diagnoses, and calls the rest undiagnosed', () => {
    const running: IncidentDiagnosis = {
      ...concluded('retrieval', 'data'),
      status: 'running',
      conclusion: null,
    };
    const result = review({
      incidents: [
        incident(1, { diagnosis: concluded('retrieval', 'data') }),
        incident(2, { diagnosis: concluded('retrieval', 'data') }),
        incident(3, { diagnosis: concluded('generation', 'model_behaviour') }),
        incident(4, { diagnosis: running }),
        incident(5, { diagnosis: null }),
        incident(6, { diagnosis: null, status: 'cancelled' }),
      ],
    });
    expect(result.byLayer).toEqual([
      { key: 'undiagnosed', count: 3 },
      { key: 'retrieval', count: 2 },
      { key: 'generation', count: 1 },
    ]);
    expect(result.byClass).toEqual([
      { key: 'undiagnosed', count: 3 },
      { key: 'data', count: 2 },
      { key: 'model_behaviour', count: 1 },
    ]);
  });

  it('lists every severity, and counts open, resolved and cancelled incidents', () => {
    const result = review({
      incidents: [
        incident(1, { severity: 'SEV1', status: 'triggered' }),
        incident(2, { severity: 'SEV1', status: 'mitigated' }),
        incident(3, { severity: 'SEV3', status: 'resolved' }),
        incident(4, { severity: 'SEV3', status: 'cancelled' }),
      ],
    });
    expect(result.bySeverity).toEqual({ SEV1: 2, SEV2: 0, SEV3: 2, SEV4: 0 });
    expect(result.byStatus).toEqual({ open: 2, resolved: 1, cancelled: 1 });
    expect(result.incidents).toBe(4);
  });

  it('gives an empty window zero counts and no times', () => {
    const result = review({});
    expect(result.incidents).toBe(0);
    expect(result.bySeverity).toEqual({ SEV1: 0, SEV2: 0, SEV3: 0, SEV4: 0 });
    expect(result.byLayer).toEqual([]);
    expect(result.times.toResolve).toEqual({ incidents: 0, meanSeconds: null, medianSeconds: null });
  });
});

describe('buildWeeklyReview: times', () => {
  it('takes the mean and median over the incidents that have the end time, saying how many', () => {
    const result = review({
      incidents: [
        incident(1, { acknowledgedAt: at(60), resolvedAt: at(3600), status: 'resolved' }),
        incident(2, { acknowledgedAt: at(120), resolvedAt: at(7200), status: 'resolved' }),
        incident(3, { acknowledgedAt: at(600) }),
        incident(4),
      ],
    });
    expect(result.times.toAcknowledge).toEqual({ incidents: 3, meanSeconds: 260, medianSeconds: 120 });
    // An even count's median is the mean of the middle two.
    expect(result.times.toResolve).toEqual({ incidents: 2, meanSeconds: 5400, medianSeconds: 5400 });
    expect(result.times.toMitigate).toEqual({ incidents: 0, meanSeconds: null, medianSeconds: null });
  });

  it('leaves cancelled incidents out of the times but not out of the counts', () => {
    const result = review({
      incidents: [
        incident(1, { acknowledgedAt: at(60), resolvedAt: at(600), status: 'resolved' }),
        // Cancelling sets resolvedAt; a false alarm closed in seconds would flatter the mean.
        incident(2, { acknowledgedAt: at(5), resolvedAt: at(10), status: 'cancelled' }),
      ],
    });
    expect(result.times.toAcknowledge).toEqual({ incidents: 1, meanSeconds: 60, medianSeconds: 60 });
    expect(result.times.toResolve).toEqual({ incidents: 1, meanSeconds: 600, medianSeconds: 600 });
    expect(result.incidents).toBe(2);
  });

  it('measures time to diagnose from when each diagnosis concluded', () => {
    const result = review({
      incidents: [
        incident(1, { diagnosis: concluded('routing', 'infrastructure') }),
        incident(2, { diagnosis: concluded('cost', 'infrastructure') }),
        incident(3),
      ],
      diagnosedAt: new Map([
        [1, at(300)],
        [2, at(900)],
      ]),
    });
    expect(result.times.toDiagnose).toEqual({ incidents: 2, meanSeconds: 600, medianSeconds: 600 });
  });

  it('ignores an end time that lies before the incident opened', () => {
    const result = review({ incidents: [incident(1, { acknowledgedAt: at(-30) })] });
    expect(result.times.toAcknowledge.incidents).toBe(0);
  });

  it('rounds to whole seconds', () => {
    const result = review({
      incidents: [incident(1, { acknowledgedAt: at(1) }), incident(2, { acknowledgedAt: at(2) })],
    });
    expect(result.times.toAcknowledge).toEqual({ incidents: 2, meanSeconds: 2, medianSeconds: 2 });
  });
});

describe('buildWeeklyReview: actions', () => {
  const executed = { executedAt: at(60) };
  let nextId = 100;
  function run(actionId: string, status: ActionRun['status'], overrides: Partial<ActionRun> = {}): ActionRun {
    nextId += 1;
    return actionRunFixture({ id: nextId, incidentId: 1, actionId, status, ...overrides });
  }

  it('counts executions and outcomes per action, with the recovery rate over known outcomes', () => {
    const undone = run('gateway.rate_limit', 'recovered', executed);
    const result = review({
      incidents: [incident(1)],
      actions: [
        run('gateway.rate_limit', 'recovered', executed),
        undone,
        run('gateway.rate_limit', 'not_recovered', executed),
        run('gateway.rate_limit', 'failed', executed),
        run('gateway.rate_limit', 'unverified', executed),
        run('gateway.rate_limit', 'verifying', executed),
        // A dry run that failed executed nothing.
        run('gateway.rate_limit', 'failed', { executedAt: null }),
        run('gateway.rate_limit', 'previewed'),
        run('gateway.rate_limit', 'rejected'),
        run('gateway.rate_limit', 'cancelled'),
        run('gateway.rate_limit', 'awaiting_approval'),
        run('gateway.rate_limit', 'recovered', { kind: 'undo', undoOf: undone.id, ...executed }),
      ],
    });
    expect(result.actions).toEqual([
      {
        actionId: 'gateway.rate_limit',
        runs: 11,
        executed: 6,
        verifying: 1,
        recovered: 2,
        notRecovered: 1,
        unverified: 1,
        failed: 1,
        undone: 1,
        previewed: 2,
        pending: 1,
        rejected: 1,
        cancelled: 1,
        recoveryRate: 0.5,
      },
    ]);
  });

  it('does not count a run as undone while its undo is only previewed or was withdrawn', () => {
    const original = run('prompt.rollback', 'recovered', executed);
    const result = review({
      incidents: [incident(1)],
      actions: [
        original,
        run('prompt.rollback', 'previewed', { kind: 'undo', undoOf: original.id }),
        run('prompt.rollback', 'cancelled', { kind: 'undo', undoOf: original.id }),
      ],
    });
    expect(result.actions[0]).toMatchObject({ runs: 1, executed: 1, undone: 0, recoveryRate: 1 });
  });

  it('has no recovery rate until an outcome is known, and lists the most executed action first', () => {
    const result = review({
      incidents: [incident(1)],
      actions: [
        run('index.rebuild', 'previewed'),
        run('index.rebuild', 'previewed'),
        run('model.pin', 'unverified', executed),
        run('gateway.rate_limit', 'verifying', executed),
        run('gateway.rate_limit', 'recovered', executed),
      ],
    });
    expect(result.actions.map((usage) => [usage.actionId, usage.executed, usage.recoveryRate])).toEqual([
      ['gateway.rate_limit', 2, 1],
      ['model.pin', 1, null],
      ['index.rebuild', 0, null],
    ]);
  });
});

describe('buildWeeklyReview: repeat offenders', () => {
  it('lists services and alerts with two or more incidents, most first, with their references oldest first', () => {
    const later = (minutes: number) => new Date(OPENED.getTime() + minutes * 60_000);
    const result = review({
      incidents: [
        incident(9, { service: 'rag-api', groupLabels: { alertname: 'RecallDrop' }, createdAt: later(1) }),
        incident(3, { service: 'rag-api', groupLabels: { alertname: 'RecallDrop' }, createdAt: later(2) }),
        incident(4, { service: 'rag-api', groupLabels: { alertname: 'CostSpike' }, createdAt: later(3) }),
        incident(5, { service: 'router', groupLabels: { alertname: 'CostSpike' }, createdAt: later(4) }),
        incident(6, { service: 'router', groupLabels: {}, createdAt: later(5) }),
        incident(7, { service: null, groupLabels: {}, createdAt: later(6) }),
        incident(8, { service: 'lonely', groupLabels: { alertname: 'Once' }, createdAt: later(7) }),
      ],
    });
    expect(result.repeatOffenders).toEqual([
      { kind: 'service', name: 'rag-api', incidents: ['INC-9', 'INC-3', 'INC-4'] },
      { kind: 'service', name: 'router', incidents: ['INC-5', 'INC-6'] },
      { kind: 'alertname', name: 'CostSpike', incidents: ['INC-4', 'INC-5'] },
      { kind: 'alertname', name: 'RecallDrop', incidents: ['INC-9', 'INC-3'] },
    ]);
  });
});
