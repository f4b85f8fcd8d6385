import type { ActionRun, ActionRunStatus, ActionVerification } from '../../../src/actions/action-run.js';
import type { ActionChange } from '../../../src/actions/action-type.js';
import { type ChangeEvent, describeChange } from '../../../src/changes/change-event.js';
import type { CheckResult, CheckStatus } from '../../../src/checks/check-type.js';
import type { DiagnosisSession, DiagnosisStep } from '../../../src/diagnosis/diagnosis.js';
import {
  type CheckSpec,
  type ConclusionNode,
  type DecisionNode,
  isConclusion,
  type Runbook,
} from '../../../src/diagnosis/runbook-schema.js';
import {
  type AlertOccurrence,
  type Incident,
  incidentRef,
  type TimelineEntry,
  type TimelineKind,
} from '../../../src/incidents/incident.js';
import type { PostmortemImpact, PostmortemRecord } from '../../../src/postmortems/postmortem.js';
import { alertFixture, incidentFixture } from '../../support/domain-fixtures.js';

/**
 * Builders for postmortem records. A scenario states the facts of an incident (alerts, changes,
 * diagnosis steps, actions, status changes, each at a minute offset from the first alert) and
 * `buildRecord` derives the rest the way aisre's services record it, timeline included.
 */

export const START = '2026-11-22T10:04:05Z';

const check = (id: string, title: string, type = 'prometheus'): CheckSpec => ({
  id,
  type,
  title,
  params: {},
});

function decision(title: string, checks: CheckSpec[], question?: DecisionNode['question']): DecisionNode {
  return { title, checks, outcomes: [], ...(question ? { question } : {}) };
}

function conclusion(
  title: string,
  layer: ConclusionNode['conclusion']['layer'],
  cls: ConclusionNode['conclusion']['class'],
  hypothesis: string,
): ConclusionNode {
  return { title, checks: [], conclusion: { layer, class: cls, hypothesis, actions: [] } };
}

/** A compact copy of the default runbook's shape: triage, one node per layer, its conclusions. */
export const RUNBOOK: Runbook = {
  id: 'ai_incident',
  title: 'AI incident triage',
  match: {},
  priority: 0,
  vars: {},
  start: 'triage',
  nodes: {
    triage: decision('Which layer failed?', [
      check('eval_pass', 'Online eval pass rate'),
      check('retrieval_hit', 'Retrieval hit rate'),
      check('refusals', 'Refusal / content-filter rate'),
      check('schema_errors', 'Output schema / mapping errors'),
      check('token_spend', 'Token spend against yesterday', 'prometheus_compare'),
      check('response_models', 'Response models against yesterday', 'fingerprint'),
      check('recent_changes', 'Changes in the last 6 hours', 'changes'),
    ]),
    retrieval: decision('Retrieval - what broke it?', [
      check('embedding_changes', 'Embedding model changes (24h)', 'changes'),
      check('index_freshness', 'Index freshness'),
    ]),
    generation: decision('Generation - prompt, model output or evals?', [
      check('prompt_changes', 'Prompt changes (24h)', 'changes'),
      check('eval_vs_yesterday', 'Eval pass rate against yesterday', 'prometheus_compare'),
    ]),
    routing: decision('Routing - which route misbehaves?', [
      check('routing_changes', 'Gateway / routing config changes (6h)', 'changes'),
      check('model_mismatch', 'Requested vs response model mismatch'),
      check('fallback_rate', 'Fallback rate'),
    ]),
    provider_drift: decision(
      'Provider drift - did the model change under us?',
      [
        check('drift_models', 'Response models against yesterday', 'fingerprint'),
        check('own_deploys', 'Our own deploys (24h)', 'changes'),
        check('golden_set', 'Golden-set answers against their baseline', 'golden_set'),
      ],
      {
        text: 'Did the provider announce a model update for this deployment?',
        answers: [
          { label: 'Yes', next: 'provider_model_update' },
          { label: 'No', next: 'unknown_cause' },
        ],
      },
    ),
    integration: decision('Integration - is the model fine in isolation?', [
      check('output_schema', 'Output schema errors'),
      check('isolation', 'The model in isolation (golden set)', 'golden_set'),
    ]),
    cost: decision('Cost runaway or agent loop?', [
      check('agent_steps', 'Agent steps per session (p95)'),
      check('retry_rate', 'Retry rate'),
    ]),
    safety: decision('Safety - refusals or filters up?', [
      check('policy_changes', 'Prompt, model and config changes (24h)', 'changes'),
      check('content_filter', 'Provider content-filter rate'),
    ]),
    index_stale: conclusion(
      'Index stale',
      'retrieval',
      'data',
      'The index has not refreshed, so answers are built on outdated documents. The ingestion or reindex job is failing.',
    ),
    embedding_model_changed: conclusion(
      'Embedding model changed',
      'retrieval',
      'data',
      'The embedding model changed but the index still holds vectors from the old model, so queries no longer match documents. Reindex with the new model, or roll the embedding model back.',
    ),
    prompt_regression: conclusion(
      'Prompt regression',
      'generation',
      'model_behaviour',
      'A prompt deployed shortly before the incident made answers worse. Roll the prompt back to its previous version.',
    ),
    route_changed: conclusion(
      'Route changed',
      'routing',
      'infrastructure',
      'A gateway or routing configuration change sends traffic to the wrong deployment.',
    ),
    fallback_storm: conclusion(
      'Primary model failing',
      'routing',
      'infrastructure',
      'The primary model errors or times out and most traffic is served by fallbacks, which answer worse.',
    ),
    provider_model_update: conclusion(
      'Silent provider model update',
      'provider_drift',
      'model_behaviour',
      'The provider changed the model behind the same name (new response model or system_fingerprint) with no deploy on our side. Pin a dated model version or fall back.',
    ),
    integration_broken: conclusion(
      'Integration failure',
      'integration',
      'infrastructure',
      "The model's output is fine in isolation, but the pipeline fails to parse or map it (schema drift, a broken mapping, a changed contract).",
    ),
    agent_loop: conclusion(
      'Agent loop',
      'cost',
      'model_behaviour',
      'Agents take far more steps per session than usual, looping on tools or plans and burning tokens.',
    ),
    safety_regression: conclusion(
      'Safety regression after a change',
      'safety',
      'evaluation_policy',
      'Refusals rose after a prompt, model or policy change; the new guardrail or system prompt is too strict.',
    ),
    content_filter_tripped: conclusion(
      'Provider content filter tripped',
      'safety',
      'evaluation_policy',
      "The provider's content filter blocks a growing share of answers; its policy or our inputs changed.",
    ),
    unknown_cause: conclusion(
      'Cause not found',
      'unknown',
      'infrastructure',
      'No check pointed at a layer; investigate by hand.',
    ),
  },
};

/** A check result: `evidence` as label → value, `link` a Prometheus graph URL. */
export function result(
  status: CheckStatus,
  summary: string,
  evidence: Record<string, string> = {},
  link?: string,
): CheckResult {
  return {
    status,
    value: null,
    summary,
    evidence: Object.entries(evidence).map(([label, value]) => ({ label, value })),
    links: link ? [{ label: 'Prometheus graph', url: link }] : [],
  };
}

export interface AlertSpec {
  alertname: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Minutes after the scenario start. */
  after?: number;
  resolvedAfter?: number;
}

export interface ChangeSpec {
  kind: ChangeEvent['kind'];
  from?: string;
  to?: string;
  author?: string;
  /** Minutes after the start; negative for changes before it. */
  after: number;
  summary?: string;
  link?: string;
}

export interface StepSpec {
  node: string;
  after: number;
  results?: Record<string, CheckResult>;
  /** Why the tree moved on, as the runbook's outcome words it. */
  reason?: string;
  answer?: { label: string; by: string };
  override?: { by: string };
}

export interface ActionSpec {
  action: string;
  params?: Record<string, unknown>;
  kind?: 'run' | 'undo';
  /** The index in `actions` of the run this one undoes. */
  undoOf?: number;
  status: ActionRunStatus;
  risk?: 'low' | 'high';
  /** A Slack user id, or `system` for an automatic run. */
  requestedBy: string;
  requestedAfter: number;
  approvedBy?: string;
  executedAfter?: number;
  result?: { summary: string; changes?: ActionChange[] };
  verification?: { status: ActionVerification['status']; summary: string; after: number };
  error?: string;
}

export interface ScenarioSpec {
  incident: Partial<Incident> & Pick<Incident, 'id' | 'title'>;
  start?: string;
  alerts?: AlertSpec[];
  /** Minutes from the start to aisre opening the incident. */
  openedAfter?: number;
  /** For incidents without alerts: who declared it, from where. */
  declared?: { by: string; source: 'slack' | 'api' };
  acknowledged?: { after: number; by: string };
  changes?: ChangeSpec[];
  diagnosis?: {
    after: number;
    by?: string;
    steps: StepSpec[];
    /** Minutes after the start at which it concluded; omitted for a diagnosis that did not. */
    concludedAfter?: number;
    status?: DiagnosisSession['status'];
  };
  actions?: ActionSpec[];
  mitigated?: { after: number; by: string };
  allResolvedAfter?: number;
  resolved?: { after: number; by: string };
  impact?: PostmortemImpact | null;
}

const slack = (id: string) => (id === 'system' ? 'system' : `slack:${id}`);
const mention = (id: string) => (id === 'system' ? 'aisre automatically' : `<@${id}>`);

/** Derives a whole record from a scenario, the timeline worded as aisre's services word it. */
export function buildRecord(spec: ScenarioSpec): PostmortemRecord {
  const start = new Date(spec.start ?? START);
  const time = (minutes: number) => new Date(start.getTime() + Math.round(minutes * 60_000));
  const incidentId = spec.incident.id;
  const timeline: TimelineEntry[] = [];
  const add = (minutes: number, actor: string, kind: TimelineKind, summary: string, data = {}) =>
    timeline.push({ id: timeline.length + 1, incidentId, at: time(minutes), actor, kind, summary, data });

  const opened = time(spec.openedAfter ?? 2);
  // "All alerts resolved" implies each one did: those without a time of their own, just before.
  const lastResolved = spec.allResolvedAfter === undefined ? undefined : spec.allResolvedAfter - 1;
  const alerts: AlertOccurrence[] = (spec.alerts ?? [])
    .map((alert) => ({ ...alert, resolvedAfter: alert.resolvedAfter ?? lastResolved }))
    .map((alert, index) =>
      alertFixture(index + 1, {
        incidentId,
        fingerprint: `${alert.alertname.toLowerCase().slice(0, 8)}${index + 1}`,
        alertname: alert.alertname,
        labels: { alertname: alert.alertname, ...alert.labels },
        annotations: alert.annotations ?? {},
        startsAt: time(alert.after ?? 0),
        firstSeenAt: (alert.after ?? 0) <= (spec.openedAfter ?? 2) ? opened : time((alert.after ?? 0) + 1),
        status: alert.resolvedAfter === undefined ? 'firing' : 'resolved',
        endsAt: alert.resolvedAfter === undefined ? null : time(alert.resolvedAfter),
        resolvedSeenAt: alert.resolvedAfter === undefined ? null : time(alert.resolvedAfter + 1),
      }),
    );

  const service = spec.incident.service ?? 'rag-api';
  const changes: ChangeEvent[] = (spec.changes ?? []).map((change, index) => ({
    id: index + 1,
    service,
    kind: change.kind,
    fromVersion: change.from ?? null,
    toVersion: change.to ?? null,
    author: change.author ?? null,
    at: time(change.after),
    summary: change.summary ?? null,
    diff: null,
    link: change.link ?? null,
    externalId: null,
    recordedAt: time(change.after),
  }));
  for (const change of changes) {
    if (change.at >= opened)
      add((change.at.getTime() - start.getTime()) / 60_000, 'api', 'change.recorded', describeChange(change));
  }

  const severity = spec.incident.severity ?? 'SEV2';
  if (spec.declared) {
    add(
      0,
      slack(spec.declared.by),
      'incident.declared',
      `<@${spec.declared.by}> declared ${incidentRef(spec.incident)} (${severity}): ${spec.incident.title}`,
    );
  } else {
    const firing = alerts.filter((alert) => alert.firstSeenAt <= opened).length;
    add(
      spec.openedAfter ?? 2,
      'alertmanager:aisre',
      'incident.opened',
      `${incidentRef(spec.incident)} opened (${severity}) by ${firing} firing alert${firing === 1 ? '' : 's'}: ${spec.incident.title}`,
    );
  }
  for (const alert of alerts) {
    const name = alert.annotations.summary
      ? `${alert.alertname}: ${alert.annotations.summary}`
      : alert.alertname;
    add(
      (alert.firstSeenAt.getTime() - start.getTime()) / 60_000,
      'alertmanager:aisre',
      'alert.firing',
      `Alert firing: ${name}`,
    );
    if (alert.resolvedSeenAt) {
      add(
        (alert.resolvedSeenAt.getTime() - start.getTime()) / 60_000,
        'alertmanager:aisre',
        'alert.resolved',
        `Alert resolved: ${name}`,
      );
    }
  }

  let status: Incident['status'] = 'triggered';
  const move = (minutes: number, by: string, to: Incident['status'], summary: string) => {
    add(minutes, slack(by), 'status.changed', summary, { from: status, to });
    status = to;
  };
  if (spec.acknowledged) {
    const { after, by } = spec.acknowledged;
    move(after, by, 'acknowledged', `<@${by}> acknowledged the incident`);
    add(after, slack(by), 'commander.assigned', `<@${by}> is the incident commander`, { commanderId: by });
  }

  let diagnosis: PostmortemRecord['diagnosis'] = null;
  if (spec.diagnosis) {
    const d = spec.diagnosis;
    const by = d.by ?? 'system';
    const sessionId = incidentId * 10;
    add(
      d.after,
      slack(by),
      'diagnosis.started',
      `${mention(by)} started diagnosis with runbook "${RUNBOOK.title}" (${RUNBOOK.id}@v7)`,
      { sessionId },
    );
    const steps: DiagnosisStep[] = d.steps.map((step, index) => {
      const next = d.steps[index + 1];
      const node = RUNBOOK.nodes[step.node]!;
      const leftAt = next?.after ?? null;
      let outcome: string | null = null;
      if (next)
        outcome = step.override
          ? 'overridden'
          : step.answer
            ? `answered “${step.answer.label}”`
            : (step.reason ?? 'outcome 1 matched');
      const by = step.override?.by ?? step.answer?.by ?? null;
      if (next && leftAt !== null) {
        const nextTitle = RUNBOOK.nodes[next.node]!.title;
        add(
          leftAt,
          by ? slack(by) : 'system',
          step.override ? 'diagnosis.overridden' : 'diagnosis.step',
          `Diagnosis: ${node.title} → ${nextTitle} (${by ? `<@${by}> ${outcome}` : outcome})`,
          { sessionId },
        );
      }
      const last = !next;
      return {
        id: sessionId + index,
        sessionId,
        seq: index + 1,
        nodeId: step.node,
        status: step.override
          ? 'overridden'
          : isConclusion(node)
            ? 'concluded'
            : last
              ? d.status === 'waiting'
                ? 'asking'
                : 'checking'
              : 'decided',
        results: step.results ?? {},
        outcome,
        nextNode: next?.node ?? null,
        answeredBy: by,
        answer: step.answer?.label ?? null,
        startedAt: time(step.after),
        finishedAt: leftAt === null ? (isConclusion(node) ? time(step.after) : null) : time(leftAt),
      };
    });
    const lastNode = RUNBOOK.nodes[d.steps.at(-1)!.node]!;
    const concluded = d.concludedAfter !== undefined && isConclusion(lastNode);
    if (concluded && isConclusion(lastNode)) {
      const c = lastNode.conclusion;
      add(
        d.concludedAfter!,
        'system',
        'diagnosis.concluded',
        `Diagnosis concluded: ${c.layer} layer. ${c.hypothesis} (${c.class.replace('_', ' ')})`,
        { sessionId, layer: c.layer, class: c.class },
      );
    }
    const session: DiagnosisSession = {
      id: sessionId,
      incidentId,
      runbookId: RUNBOOK.id,
      runbookVersion: 'v7',
      runbook: RUNBOOK,
      status: d.status ?? (concluded ? 'concluded' : 'running'),
      currentNode: d.steps.at(-1)!.node,
      snapshot: null,
      conclusion:
        concluded && isConclusion(lastNode)
          ? { node: d.steps.at(-1)!.node, title: lastNode.title, ...lastNode.conclusion }
          : null,
      startedBy: slack(by),
      startedAt: time(d.after),
      updatedAt: time(d.concludedAfter ?? d.steps.at(-1)!.after),
      concludedAt: concluded ? time(d.concludedAfter!) : null,
      remindAt: null,
    };
    diagnosis = { session, steps };
  }

  const runs: ActionRun[] = [];
  (spec.actions ?? []).forEach((action, index) => {
    const id = incidentId * 100 + index + 1;
    const undoOf = action.undoOf === undefined ? null : runs[action.undoOf]!.id;
    const approved = action.approvedBy !== undefined && action.status !== 'rejected';
    const run: ActionRun = {
      id,
      incidentId,
      sessionId: diagnosis?.session.id ?? null,
      nodeId: diagnosis?.session.currentNode ?? null,
      actionId: action.action,
      kind: action.kind ?? 'run',
      undoOf,
      params: action.params ?? {},
      risk: action.risk ?? 'low',
      status: action.status,
      autoKey: action.requestedBy === 'system' ? `auto:${id}` : null,
      requestedBy: slack(action.requestedBy),
      requestedAt: time(action.requestedAfter),
      approvedBy: approved ? slack(action.approvedBy!) : null,
      approvedAt: approved ? time(action.executedAfter ?? action.requestedAfter) : null,
      executedBy: action.executedAfter === undefined ? null : slack(action.approvedBy ?? action.requestedBy),
      executedAt: action.executedAfter === undefined ? null : time(action.executedAfter),
      preview: action.result
        ? {
            summary: `Dry run: ${action.result.summary}`,
            changes: action.result.changes ?? [],
            previousState: null,
          }
        : null,
      outcome:
        action.result && action.executedAfter !== undefined && action.status !== 'failed'
          ? { summary: action.result.summary, changes: action.result.changes ?? [], previousState: null }
          : null,
      previousState: null,
      error: action.error ?? null,
      leaseUntil: null,
      verifyAt: null,
      verification: action.verification
        ? {
            status: action.verification.status,
            summary: action.verification.summary,
            results: {},
            at: time(action.verification.after).toISOString(),
          }
        : null,
      finishedAt: action.verification ? time(action.verification.after) : null,
      updatedAt: time(action.verification?.after ?? action.executedAfter ?? action.requestedAfter),
    };
    runs.push(run);
    const name =
      run.kind === 'undo' ? `undo of ${run.actionId} (A-${run.id})` : `${run.actionId} (A-${run.id})`;
    const data = { runId: run.id, actionId: run.actionId, kind: run.kind };
    const log = (minutes: number, actor: string, kind: TimelineKind, summary: string) =>
      add(minutes, actor, kind, summary, data);
    const who = mention(action.requestedBy);
    log(
      action.requestedAfter,
      run.requestedBy,
      'action.previewed',
      `${who} previewed ${name}: ${run.preview?.summary ?? 'nothing to change'}`,
    );
    if (action.approvedBy) {
      log(
        action.requestedAfter,
        run.requestedBy,
        'action.requested',
        `${who} asked to execute ${name}; it is high risk, so a second person must approve it`,
      );
      if (action.status === 'rejected') {
        log(
          action.requestedAfter + 2,
          slack(action.approvedBy),
          'action.rejected',
          `<@${action.approvedBy}> rejected ${name}`,
        );
      } else {
        log(
          action.executedAfter ?? action.requestedAfter,
          slack(action.approvedBy),
          'action.approved',
          `<@${action.approvedBy}> approved ${name} (asked for by ${who})`,
        );
      }
    }
    if (action.executedAfter !== undefined) {
      if (action.status === 'failed') {
        log(action.executedAfter, run.executedBy!, 'action.failed', `${name} failed: ${action.error}`);
      } else {
        log(
          action.executedAfter,
          run.executedBy!,
          'action.executed',
          `${mention(action.approvedBy ?? action.requestedBy)} executed ${name}: ${run.outcome?.summary}. Recovery is checked in 120 s.`,
        );
      }
    }
    if (run.verification) {
      log(
        action.verification!.after,
        'system',
        'action.verified',
        `${name}: ${run.verification.status.replace('_', ' ')} (${run.verification.summary})`,
      );
    }
  });

  if (spec.allResolvedAfter !== undefined) {
    add(
      spec.allResolvedAfter,
      'alertmanager:aisre',
      'alerts.all_resolved',
      `All ${alerts.length} alerts resolved; the incident stays open until someone resolves it`,
    );
  }
  if (spec.mitigated) {
    const { after, by } = spec.mitigated;
    const recovered = runs.find((run) => run.status === 'recovered' && run.kind === 'run');
    move(
      after,
      by,
      'mitigated',
      by === 'system' && recovered
        ? `aisre marked the incident mitigated: ${recovered.actionId} (A-${recovered.id}) recovered`
        : `<@${by}> marked mitigated the incident`,
    );
  }
  if (spec.resolved) {
    const { after, by } = spec.resolved;
    move(after, by, 'resolved', `<@${by}> resolved the incident`);
  }

  const ack = spec.acknowledged ? time(spec.acknowledged.after) : null;
  const incident = incidentFixture({
    severity,
    service,
    source: spec.declared ? spec.declared.source : 'alertmanager',
    receiver: spec.declared ? null : 'aisre',
    groupKey: spec.declared ? null : `{}:{alertname="${alerts[0]?.alertname ?? ''}"}`,
    groupLabels: alerts[0] ? { alertname: alerts[0].alertname } : {},
    commanderId: spec.acknowledged?.by ?? spec.declared?.by ?? null,
    responderIds: [...new Set([spec.acknowledged?.by, spec.declared?.by].filter((id): id is string => !!id))],
    alertsFiring: alerts.filter((alert) => alert.status === 'firing').length,
    alertsResolved: alerts.filter((alert) => alert.status === 'resolved').length,
    allAlertsResolvedAt: spec.allResolvedAfter === undefined ? null : time(spec.allResolvedAfter),
    createdAt: spec.declared ? time(0) : opened,
    updatedAt: timeline.reduce((latest, entry) => (entry.at > latest ? entry.at : latest), opened),
    acknowledgedAt: ack ?? (spec.resolved ? time(spec.resolved.after) : null),
    mitigatedAt: spec.mitigated ? time(spec.mitigated.after) : null,
    resolvedAt: spec.resolved ? time(spec.resolved.after) : null,
    status,
    diagnosis: null,
    ...spec.incident,
  });
  return { incident, alerts, timeline, diagnosis, changes, actions: runs, impact: spec.impact ?? null };
}
