import type { CheckResult } from '../checks/check-type.js';
import { templateValues } from '../checks/templates.js';
import { checkIncident } from '../diagnosis/check-incident.js';
import type { DiagnosisSession } from '../diagnosis/diagnosis.js';
import type { CheckRunner } from '../diagnosis/diagnosis-engine.js';
import type { CheckSpec } from '../diagnosis/runbook-schema.js';
import { AppError } from '../errors.js';
import {
  type Actor,
  actorRef,
  canTransition,
  type Incident,
  incidentRef,
  isOpen,
  type NewTimelineEntry,
  OPEN_STATUSES,
} from '../incidents/incident.js';
import type { Clock, Stores, UnitOfWork } from '../incidents/ports.js';
import type { Logger } from '../logger.js';
import type { ActionRisk } from './action-catalog.js';
import { parseActionParams, renderActionParams } from './action-params.js';
import type { ActionPolicy } from './action-policy.js';
import {
  type ActionRun,
  type ActionVerification,
  type AuditEntry,
  type AuditEvent,
  describeRun,
  EXECUTED_STATUSES,
} from './action-run.js';
import type { ActionContext, ActionOutcome, ActionType, RecordedRequest } from './action-type.js';
import type { ActionRegistry } from './built-in-actions.js';
import { redactBody } from './integration-client.js';
import type { IntegrationFactory } from './integrations.js';

export interface ActionServiceDeps {
  uow: UnitOfWork;
  registry: ActionRegistry;
  policy: ActionPolicy;
  integrations: IntegrationFactory;
  /** Runs the concluding node's checks again to verify recovery. */
  checks: CheckRunner;
  clock: Clock;
  logger: Logger;
  /** How long after execution recovery is first checked. */
  settleMs: number;
  /**
   * How long after the first check the checks are repeated while they fail: a rate over a
   * 15-minute window still holds the fault for up to 15 minutes after the fix. 0 checks once.
   */
  verifyWindowMs?: number;
  /** How long a process's claim on a run lasts without renewal; a dead process's claim runs out. */
  leaseMs: number;
  /** The longest a dry run, execution or verification may take. */
  runTimeoutMs?: number;
}

/** A recommended action of a diagnosis conclusion, with its parameters filled in from the alerts. */
export interface Recommendation {
  index: number;
  actionId: string;
  description: string;
  risk: ActionRisk | null;
  why: string | null;
  auto: boolean;
  /** The parameters as they would run, or null when they could not be filled in (see `error`). */
  params: Record<string, unknown> | null;
  error: string | null;
}

export interface Recommendations {
  sessionId: number;
  nodeId: string;
  items: Recommendation[];
}

export type PreviewRequest =
  | { incidentId: number; recommendation: { sessionId: number; index: number } }
  | { incidentId: number; actionId: string; params: Record<string, unknown> };

/** The outcome of a click; `accepted` is false when the run was not in a state to take it. */
export interface ActionCommandResult {
  accepted: boolean;
  message: string;
  run: ActionRun;
}

const DEFAULT_RUN_TIMEOUT_MS = 120_000;
const CLAIM_BATCH = 10;
const SHUTDOWN_GRACE_MS = 5_000;
/** While recovery has not shown, the checks run again every settle period, at most this far apart. */
const MAX_RECHECK_MS = 30_000;

function who(actor: Actor | string): string {
  const ref = typeof actor === 'string' ? actor : actorRef(actor);
  if (ref.startsWith('slack:')) return `<@${ref.slice('slack:'.length)}>`;
  return ref === 'system' ? 'aisre automatically' : ref;
}

function errorText(err: unknown): string {
  if (err instanceof AppError) return err.userMessage;
  return err instanceof Error ? err.message : String(err);
}

/** The dry-run result of an undo: the recorded changes, reversed. */
function undoPreview(original: ActionRun): ActionOutcome {
  const changes = (original.outcome?.changes ?? []).map((change) => ({
    target: change.target,
    from: change.to,
    to: change.from,
  }));
  return {
    summary:
      changes.length > 0
        ? `Would restore the state recorded before ${describeRun(original)}`
        : `${describeRun(original)} changed nothing; undo restores what it recorded anyway`,
    changes,
    previousState: original.previousState ?? null,
  };
}

function verificationOf(results: Record<string, CheckResult>, at: Date): ActionVerification {
  const entries = Object.values(results);
  if (entries.length === 0) {
    return {
      status: 'unverified',
      summary: 'no checks to verify recovery: confirm it by hand',
      results,
      at: at.toISOString(),
    };
  }
  const passing = entries.filter((result) => result.status === 'pass').length;
  return {
    status: passing === entries.length ? 'recovered' : 'not_recovered',
    summary: `${passing} of ${entries.length} checks pass`,
    results,
    at: at.toISOString(),
  };
}

/**
 * Runs runbook actions: preview (a dry run), the execution policy (one confirmation for low risk,
 * a second person's approval for high risk), exactly-once execution, verification after a settle
 * time, and undo. Every step is written to the append-only audit and the incident timeline in the
 * transaction that makes it.
 *
 * Exactly once: a run moves to `executing` under a row lock, so of two clicks only one wins.
 * Each side effect goes through a checkpoint stored in Postgres, and an executing run is held
 * under a lease; if its process dies, the lease runs out and `processDue` (here or in another
 * replica) resumes it, skipping the effects whose checkpoints are stored.
 */
export class ActionService {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly shutdown = new AbortController();
  private readonly leaseMs: number;
  private readonly runTimeoutMs: number;
  private processing = false;

  constructor(private readonly deps: ActionServiceDeps) {
    this.leaseMs = deps.leaseMs;
    this.runTimeoutMs = deps.runTimeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
  }

  /** The action types a responder can pick from, with their risk and description. */
  catalog(): Array<Pick<ActionType, 'id' | 'description' | 'risk'>> {
    return this.deps.registry.list().map((id) => {
      const { description, risk } = this.deps.registry.get(id);
      return { id, description, risk };
    });
  }

  async get(runId: number): Promise<ActionRun> {
    const run = await this.deps.uow.read.actions.get(runId);
    if (!run) throw new AppError('not_found', `There is no action run A-${runId}.`);
    return run;
  }

  async runs(incidentId: number): Promise<ActionRun[]> {
    return this.deps.uow.read.actions.listForIncident(incidentId);
  }

  async audit(filter: { runId?: number; incidentId?: number }): Promise<AuditEntry[]> {
    return this.deps.uow.read.actions.auditFor(filter);
  }

  /** What the incident's latest diagnosis conclusion recommends, parameters filled in. */
  async recommendations(incidentId: number): Promise<Recommendations | undefined> {
    const session = await this.deps.uow.read.diagnosis.latestForIncident(incidentId);
    if (!session?.conclusion) return undefined;
    const incident = await this.deps.uow.read.incidents.get(incidentId);
    if (!incident) return undefined;
    const values = await this.templateValuesFor(incident, session);
    return {
      sessionId: session.id,
      nodeId: session.conclusion.node,
      items: session.conclusion.actions.map((recommendation, index) => {
        const type = this.deps.registry.find(recommendation.action);
        const base = {
          index,
          actionId: recommendation.action,
          description: type?.description ?? 'unknown action',
          risk: type?.risk ?? null,
          why: recommendation.why ?? null,
          auto: recommendation.auto,
        };
        try {
          if (!type) throw new AppError('not_found', `There is no action "${recommendation.action}".`);
          const params = parseActionParams(
            type.id,
            type.params,
            renderActionParams(recommendation.params, values),
          ) as Record<string, unknown>;
          return { ...base, params, error: null };
        } catch (err) {
          return { ...base, params: null, error: errorText(err) };
        }
      }),
    };
  }

  /**
   * Dry-runs an action and records the preview as a new run. A recommendation's parameters are
   * filled in from the incident's alerts; parameters given by hand may use the same templates.
   * A dry run that fails is recorded too (status `failed`), so the audit shows what was tried.
   */
  async preview(request: PreviewRequest, actor: Actor, autoKey: string | null = null): Promise<ActionRun> {
    const { incident, session, nodeId, type, params } = await this.prepare(request);
    const requests: RecordedRequest[] = [];
    let preview: ActionOutcome | null = null;
    let error: string | null = null;
    try {
      preview = type.supportsDryRun
        ? await this.dryRun(type, params, actor, requests)
        : {
            summary: `${type.id} has no dry run: it will ${type.description.toLowerCase()}`,
            changes: [],
            previousState: null,
          };
    } catch (err) {
      error = errorText(err);
    }

    const at = this.deps.clock.now();
    return this.deps.uow.run(async (stores) => {
      const run = await stores.actions.create({
        incidentId: incident.id,
        sessionId: session?.id ?? null,
        nodeId,
        actionId: type.id,
        kind: 'run',
        undoOf: null,
        params,
        risk: type.risk,
        status: error === null ? 'previewed' : 'failed',
        autoKey,
        requestedBy: actorRef(actor),
        preview,
        error,
        at,
      });
      await this.log(stores, run, at, {
        actor: actorRef(actor),
        event: error === null ? 'previewed' : 'preview_failed',
        data: { result: preview, requests, ...(error !== null ? { error } : {}) },
        timeline: {
          kind: error === null ? 'action.previewed' : 'action.failed',
          summary:
            error === null
              ? `${who(actor)} previewed ${describeRun(run)}: ${preview?.summary ?? ''}`
              : `The dry run of ${describeRun(run)} failed: ${error}`,
        },
      });
      return run;
    });
  }

  /**
   * Checks that a preview request can run (the incident is open, the action exists, its parameters
   * fill in and validate) without running it: a modal can then show the problem on its field.
   */
  async validate(request: PreviewRequest): Promise<Record<string, unknown>> {
    return (await this.prepare(request)).params;
  }

  /**
   * The Execute click (after its confirmation). A low-risk run starts executing; a high-risk one
   * waits for a second person's approval. Clicking again, or after someone else, changes nothing.
   */
  async execute(runId: number, actor: Actor): Promise<ActionCommandResult> {
    const current = await this.get(runId);
    await this.assertMayExecute(current, actor);
    const at = this.deps.clock.now();
    const result = await this.deps.uow.run(async (stores) => {
      const run = await this.lock(stores, runId);
      if (run.status !== 'previewed') return { accepted: false, message: this.stateMessage(run), run };
      if (this.deps.policy.needsApproval(run)) {
        const updated = await stores.actions.update(runId, { status: 'awaiting_approval', updatedAt: at });
        await this.log(stores, run, at, {
          actor: actorRef(actor),
          event: 'approval_requested',
          timeline: {
            kind: 'action.requested',
            summary: `${who(actor)} asked to execute ${describeRun(run)}; it is high risk, so a second person must approve it`,
          },
        });
        return {
          accepted: true,
          message: `${describeRun(run)} is high risk: it waits for approval by someone else.`,
          run: updated,
        };
      }
      const updated = await this.startExecuting(stores, run, actor, at);
      return { accepted: true, message: `Executing ${describeRun(run)}…`, run: updated };
    });
    if (result.run.status === 'executing' && result.accepted) this.launch(() => this.perform(result.run));
    return result;
  }

  /** A second person approves a high-risk run, which then executes. */
  async approve(runId: number, actor: Actor): Promise<ActionCommandResult> {
    const current = await this.get(runId);
    if (actor.kind !== 'slack') throw new AppError('forbidden', 'Only a person can approve an action.');
    await this.deps.policy.assertMayApprove(actor.userId, current);
    const at = this.deps.clock.now();
    const result = await this.deps.uow.run(async (stores) => {
      const run = await this.lock(stores, runId);
      if (run.status !== 'awaiting_approval')
        return { accepted: false, message: this.stateMessage(run), run };
      await stores.actions.update(runId, { approvedBy: actorRef(actor), approvedAt: at, updatedAt: at });
      await this.log(stores, run, at, {
        actor: actorRef(actor),
        event: 'approved',
        timeline: {
          kind: 'action.approved',
          summary: `${who(actor)} approved ${describeRun(run)} (asked for by ${who(run.requestedBy)})`,
        },
      });
      const updated = await this.startExecuting(stores, run, actor, at);
      return { accepted: true, message: `Approved; executing ${describeRun(run)}…`, run: updated };
    });
    if (result.accepted) this.launch(() => this.perform(result.run));
    return result;
  }

  /** An approver turns down a high-risk run. */
  async reject(runId: number, actor: Actor): Promise<ActionCommandResult> {
    const current = await this.get(runId);
    if (actor.kind !== 'slack') throw new AppError('forbidden', 'Only a person can reject an action.');
    await this.deps.policy.assertMayApprove(actor.userId, current);
    return this.close(runId, actor, ['awaiting_approval'], 'rejected');
  }

  /** The requester (or anyone who may execute) withdraws a preview or an approval request. */
  async cancel(runId: number, actor: Actor): Promise<ActionCommandResult> {
    const current = await this.get(runId);
    if (actor.kind === 'slack' && current.requestedBy !== actorRef(actor))
      await this.deps.policy.assertMayExecute(actor.userId);
    return this.close(runId, actor, ['previewed', 'awaiting_approval'], 'cancelled');
  }

  /**
   * Prepares the undo of an executed run as a run of its own, previewed with the recorded changes
   * reversed. It then goes through the same policy, execution and verification as any run.
   */
  async undo(runId: number, actor: Actor): Promise<ActionCommandResult> {
    const at = this.deps.clock.now();
    return this.deps.uow.run(async (stores) => {
      const original = await this.lock(stores, runId);
      if (original.kind !== 'run') {
        throw new AppError('conflict', `${describeRun(original)} is itself an undo; it cannot be undone.`);
      }
      if (!EXECUTED_STATUSES.includes(original.status)) {
        throw new AppError(
          'conflict',
          `${describeRun(original)} is ${original.status.replace('_', ' ')}; only an executed action can be undone.`,
        );
      }
      const existing = await stores.actions.undoOf(runId);
      if (existing) {
        return {
          accepted: false,
          message: `${describeRun(original)} already has an undo: ${describeRun(existing)} is ${existing.status.replace('_', ' ')}.`,
          run: existing,
        };
      }
      const preview = undoPreview(original);
      const run = await stores.actions.create({
        incidentId: original.incidentId,
        sessionId: original.sessionId,
        nodeId: original.nodeId,
        actionId: original.actionId,
        kind: 'undo',
        undoOf: original.id,
        params: original.params,
        risk: original.risk,
        status: 'previewed',
        autoKey: null,
        requestedBy: actorRef(actor),
        preview,
        error: null,
        at,
      });
      await this.log(stores, run, at, {
        actor: actorRef(actor),
        event: 'previewed',
        data: { result: preview, previousState: original.previousState },
        timeline: {
          kind: 'action.previewed',
          summary: `${who(actor)} previewed ${describeRun(run)}: ${preview.summary}`,
        },
      });
      return { accepted: true, message: `Undo prepared as ${describeRun(run)}.`, run };
    });
  }

  /** Starts `auto` actions in the background, tracked like executions (see `settled`). */
  scheduleAuto(session: DiagnosisSession): void {
    this.launch(async () => {
      await this.startAuto(session);
    });
  }

  /**
   * Starts the `auto` recommendations of a conclusion that are low risk, once per session, node
   * and recommendation however often it is called (restarts, a second replica).
   */
  async startAuto(session: DiagnosisSession): Promise<ActionRun[]> {
    const conclusion = session.conclusion;
    if (!conclusion) return [];
    const started: ActionRun[] = [];
    for (const [index, recommendation] of conclusion.actions.entries()) {
      if (!recommendation.auto) continue;
      const type = this.deps.registry.find(recommendation.action);
      if (type?.risk !== 'low') {
        this.deps.logger.warn(
          { action: recommendation.action, sessionId: session.id },
          'auto is only honoured for low-risk actions; leaving it for a person',
        );
        continue;
      }
      const autoKey = `${session.id}:${conclusion.node}:${index}`;
      if (await this.deps.uow.read.actions.findByAutoKey(autoKey)) continue;
      try {
        const run = await this.preview(
          { incidentId: session.incidentId, recommendation: { sessionId: session.id, index } },
          { kind: 'system' },
          autoKey,
        );
        if (run.status === 'previewed') await this.execute(run.id, { kind: 'system' });
        started.push(run);
      } catch (err) {
        if (await this.deps.uow.read.actions.findByAutoKey(autoKey)) continue;
        this.deps.logger.warn({ err, autoKey }, 'an automatic action could not start');
      }
    }
    return started;
  }

  /**
   * At startup: starts `auto` actions a crash may have missed (for open incidents with a
   * concluded diagnosis), then takes over runs whose process died and verifications that are due.
   */
  async resume(): Promise<void> {
    const incidents = await this.deps.uow.read.incidents.list({ statuses: OPEN_STATUSES, limit: 500 });
    for (const incident of incidents) {
      if (incident.diagnosis?.status !== 'concluded') continue;
      const session = await this.deps.uow.read.diagnosis.get(incident.diagnosis.sessionId);
      if (session) await this.startAuto(session);
    }
    await this.processDue();
  }

  /** Claims and works on runs that need it: executions to resume and verifications that are due. */
  async processDue(): Promise<number> {
    if (this.processing || this.shutdown.signal.aborted) return 0;
    this.processing = true;
    try {
      const now = this.deps.clock.now();
      const due = await this.deps.uow.read.actions.claimDue(
        now,
        new Date(now.getTime() + this.leaseMs),
        CLAIM_BATCH,
      );
      for (const run of due) {
        if (run.status === 'executing') {
          await this.deps.uow.run((stores) =>
            this.log(stores, run, now, { actor: 'system', event: 'resumed' }),
          );
          this.launch(() => this.perform(run));
        } else {
          this.launch(() => this.verify(run));
        }
      }
      return due.length;
    } finally {
      this.processing = false;
    }
  }

  /** Resolves when every execution and verification started so far has finished; for tests and the demo. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /**
   * Lets running work finish for a few seconds, then aborts it. An aborted execution stays
   * `executing`; its lease runs out and it is resumed after the restart.
   */
  async stop(): Promise<void> {
    const grace = new Promise<void>((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref());
    await Promise.race([this.settled(), grace]);
    this.shutdown.abort(new Error('aisre is shutting down'));
    await this.settled();
  }

  private launch(work: () => Promise<void>): void {
    const promise = work()
      .catch((err: unknown) => this.deps.logger.error({ err }, 'action work failed'))
      .finally(() => this.inFlight.delete(promise));
    this.inFlight.add(promise);
  }

  private async source(
    incident: Incident,
    request: PreviewRequest,
  ): Promise<{
    session: DiagnosisSession | undefined;
    nodeId: string | null;
    actionId: string;
    rawParams: Record<string, unknown>;
  }> {
    if ('recommendation' in request) {
      const session = await this.deps.uow.read.diagnosis.get(request.recommendation.sessionId);
      const recommendation = session?.conclusion?.actions[request.recommendation.index];
      if (!session || session.incidentId !== incident.id || !session.conclusion || !recommendation) {
        throw new AppError(
          'not_found',
          `That recommendation is no longer part of ${incidentRef(incident)}'s diagnosis; pick the action from the menu.`,
        );
      }
      return {
        session,
        nodeId: session.conclusion.node,
        actionId: recommendation.action,
        rawParams: recommendation.params,
      };
    }
    // An action picked by hand is verified against the incident's current conclusion, if any.
    const session = await this.deps.uow.read.diagnosis.latestForIncident(incident.id);
    return {
      session,
      nodeId: session?.conclusion?.node ?? null,
      actionId: request.actionId,
      rawParams: request.params,
    };
  }

  private async prepare(request: PreviewRequest) {
    const incident = await this.deps.uow.read.incidents.get(request.incidentId);
    if (!incident) throw new AppError('not_found', `There is no incident INC-${request.incidentId}.`);
    if (!isOpen(incident.status)) {
      throw new AppError(
        'conflict',
        `${incidentRef(incident)} is ${incident.status}; actions are for open incidents.`,
      );
    }
    const { session, nodeId, actionId, rawParams } = await this.source(incident, request);
    const type = this.deps.registry.find(actionId);
    if (!type) {
      throw new AppError(
        'not_found',
        `There is no action "${actionId}". Known actions: ${this.deps.registry.list().join(', ')}.`,
      );
    }
    const values = await this.templateValuesFor(incident, session);
    const params = parseActionParams(type.id, type.params, renderActionParams(rawParams, values)) as Record<
      string,
      unknown
    >;
    return { incident, session, nodeId, type, params };
  }

  private async templateValuesFor(incident: Incident, session: DiagnosisSession | undefined) {
    const alerts = await this.deps.uow.read.alerts.listForIncident(incident.id, 200);
    return templateValues(checkIncident(incident, alerts), session?.runbook.vars ?? {});
  }

  private async dryRun(
    type: ActionType,
    params: Record<string, unknown>,
    actor: Actor,
    requests: RecordedRequest[],
  ): Promise<ActionOutcome> {
    const signal = AbortSignal.any([this.shutdown.signal, AbortSignal.timeout(this.runTimeoutMs)]);
    return type.run({
      params,
      isDryRun: true,
      signal,
      logger: this.deps.logger.child({ action: type.id, dryRun: true }),
      actor: actorRef(actor),
      checkpoint: async (key) => {
        throw new Error(`${type.id} tried to apply "${key}" during a dry run`);
      },
      recordPreviousState: async () => {},
      integration: (name) => this.deps.integrations(name, { signal, record: (r) => requests.push(r) }),
    });
  }

  private async assertMayExecute(run: ActionRun, actor: Actor): Promise<void> {
    if (actor.kind === 'slack') return this.deps.policy.assertMayExecute(actor.userId);
    if (actor.kind === 'system' && run.autoKey !== null && run.risk === 'low') return;
    throw new AppError('forbidden', 'Only a person may execute this action.');
  }

  private async lock(stores: Stores, runId: number): Promise<ActionRun> {
    const run = await stores.actions.getForUpdate(runId);
    if (!run) throw new AppError('not_found', `There is no action run A-${runId}.`);
    return run;
  }

  private async startExecuting(stores: Stores, run: ActionRun, actor: Actor, at: Date): Promise<ActionRun> {
    const updated = await stores.actions.update(run.id, {
      status: 'executing',
      executedBy: actorRef(actor),
      executedAt: at,
      leaseUntil: new Date(at.getTime() + this.leaseMs),
      updatedAt: at,
    });
    await this.log(stores, run, at, { actor: actorRef(actor), event: 'executing' });
    return updated;
  }

  private async close(
    runId: number,
    actor: Actor,
    from: ActionRun['status'][],
    to: 'rejected' | 'cancelled',
  ): Promise<ActionCommandResult> {
    const at = this.deps.clock.now();
    return this.deps.uow.run(async (stores) => {
      const run = await this.lock(stores, runId);
      if (!from.includes(run.status)) return { accepted: false, message: this.stateMessage(run), run };
      const updated = await stores.actions.update(runId, { status: to, finishedAt: at, updatedAt: at });
      await this.log(stores, run, at, {
        actor: actorRef(actor),
        event: to,
        timeline: {
          kind: to === 'rejected' ? 'action.rejected' : 'action.cancelled',
          summary: `${who(actor)} ${to} ${describeRun(run)}`,
        },
      });
      return { accepted: true, message: `${describeRun(run)} ${to}.`, run: updated };
    });
  }

  /** Executes (or resumes) a run this process holds the lease of, then records how it went. */
  private async perform(run: ActionRun): Promise<void> {
    const type = this.deps.registry.get(run.actionId);
    const signal = AbortSignal.any([this.shutdown.signal, AbortSignal.timeout(this.runTimeoutMs)]);
    const store = this.deps.uow.read.actions;
    const audits: Promise<void>[] = [];
    const renew = setInterval(
      () => {
        store
          .renewLease(run.id, new Date(this.deps.clock.now().getTime() + this.leaseMs))
          .catch((err: unknown) => this.deps.logger.warn({ err, runId: run.id }, 'could not renew a lease'));
      },
      Math.max(100, Math.floor(this.leaseMs / 3)),
    );
    const context: Omit<ActionContext<unknown>, 'isDryRun' | 'recordPreviousState'> = {
      params: run.params,
      signal,
      logger: this.deps.logger.child({ action: run.actionId, runId: run.id }),
      actor: run.executedBy ?? run.requestedBy,
      checkpoint: async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
        const stored = await store.checkpoint(run.id, key);
        if (stored) return stored.result as T;
        const result = await fn();
        return (await store.saveCheckpoint(run.id, key, result, this.deps.clock.now())) as T;
      },
      // Each request is audited as soon as it is answered, so a run that dies later still shows it.
      integration: (name) =>
        this.deps.integrations(name, {
          signal,
          record: (request) => {
            audits.push(
              store.audit({
                runId: run.id,
                incidentId: run.incidentId,
                at: this.deps.clock.now(),
                actor: run.executedBy ?? run.requestedBy,
                event: 'request',
                data: { requests: [request] },
              }),
            );
          },
        }),
    };
    try {
      let outcome: ActionOutcome;
      if (run.kind === 'undo') {
        const original = await this.get(run.undoOf ?? -1);
        outcome = await type.undo({
          ...context,
          params: original.params,
          previousState: original.previousState,
        });
      } else {
        outcome = await type.run({
          ...context,
          isDryRun: false,
          recordPreviousState: async (state) => {
            await store.update(run.id, { previousState: state, updatedAt: this.deps.clock.now() });
          },
        });
      }
      await Promise.all(audits);
      await this.finishExecution(run, outcome);
    } catch (err) {
      await Promise.allSettled(audits);
      if (this.shutdown.signal.aborted) {
        this.deps.logger.warn(
          { runId: run.id },
          'execution interrupted by shutdown; it resumes after the restart',
        );
        return;
      }
      await this.failExecution(run, err);
    } finally {
      clearInterval(renew);
    }
  }

  private async finishExecution(run: ActionRun, outcome: ActionOutcome): Promise<void> {
    const at = this.deps.clock.now();
    await this.deps.uow.run(async (stores) => {
      const current = await this.lock(stores, run.id);
      if (current.status !== 'executing') return;
      const verifyAt = new Date(at.getTime() + this.deps.settleMs);
      await stores.actions.update(run.id, {
        status: 'verifying',
        outcome,
        previousState: run.kind === 'run' ? outcome.previousState : current.previousState,
        verifyAt,
        leaseUntil: null,
        updatedAt: at,
      });
      const by = current.executedBy ?? 'system';
      const settle = Math.round(this.deps.settleMs / 1000);
      await this.log(stores, run, at, {
        actor: by,
        event: 'executed',
        data: { result: outcome, previousState: outcome.previousState },
        timeline: {
          kind: 'action.executed',
          summary: `${who(by)} executed ${describeRun(run)}: ${outcome.summary}. Recovery is checked in ${settle} s.`,
        },
      });
    });
  }

  private async failExecution(run: ActionRun, err: unknown): Promise<void> {
    const error = errorText(err);
    this.deps.logger.warn({ err, runId: run.id, action: run.actionId }, 'action failed');
    const at = this.deps.clock.now();
    await this.deps.uow.run(async (stores) => {
      const current = await this.lock(stores, run.id);
      if (current.status !== 'executing') return;
      await stores.actions.update(run.id, {
        status: 'failed',
        error,
        leaseUntil: null,
        finishedAt: at,
        updatedAt: at,
      });
      await this.log(stores, run, at, {
        actor: current.executedBy ?? 'system',
        event: 'failed',
        data: { previousState: current.previousState, error },
        timeline: { kind: 'action.failed', summary: `${describeRun(run)} failed: ${error}` },
      });
    });
  }

  /**
   * Re-runs the checks of the node that concluded the diagnosis (or of the node that decided it,
   * when the conclusion has none). Only a run whose checks all pass counts as recovered, and only
   * a recovered run (not an undo) marks the incident mitigated.
   */
  private async verify(run: ActionRun): Promise<void> {
    const incident = await this.deps.uow.read.incidents.get(run.incidentId);
    if (!incident) return;
    const { checks, vars } = await this.verificationChecks(run);
    const signal = AbortSignal.any([this.shutdown.signal, AbortSignal.timeout(this.runTimeoutMs)]);
    const alerts = await this.deps.uow.read.alerts.listForIncident(incident.id, 200);
    const results =
      checks.length === 0
        ? {}
        : await this.deps.checks.run({
            checks,
            incident: checkIncident(incident, alerts),
            vars,
            signal,
            onResult: async () => {},
          });
    if (this.shutdown.signal.aborted) return;
    const at = this.deps.clock.now();
    const verification = verificationOf(results, at);
    const recheckAt = this.recheckAt(run, verification, at);
    await this.deps.uow.run(async (stores) => {
      const current = await this.lock(stores, run.id);
      if (current.status !== 'verifying') return;
      if (recheckAt) {
        await stores.actions.update(run.id, {
          verification,
          verifyAt: recheckAt,
          leaseUntil: null,
          updatedAt: at,
        });
        // The timeline says once that recovery has not shown yet; the audit keeps every check.
        const first = current.verification === null;
        await this.log(stores, run, at, {
          actor: 'system',
          event: 'rechecking',
          data: { result: verification },
          ...(first
            ? {
                timeline: {
                  kind: 'action.rechecking',
                  summary: `${describeRun(run)}: not recovered yet (${verification.summary}); checking again until ${this.verifyDeadline(run)?.toISOString().slice(11, 16)} UTC`,
                },
              }
            : {}),
        });
        return;
      }
      await stores.actions.update(run.id, {
        status: verification.status,
        verification,
        leaseUntil: null,
        finishedAt: at,
        updatedAt: at,
      });
      await this.log(stores, run, at, {
        actor: 'system',
        event: 'verified',
        data: { result: verification },
        timeline: {
          kind: 'action.verified',
          summary: `${describeRun(run)}: ${verification.status.replace('_', ' ')} (${verification.summary})`,
        },
      });
      if (verification.status === 'recovered' && run.kind === 'run') {
        await this.markMitigated(stores, run, at);
      }
    });
  }

  /** When a run executed at `executedAt` stops being checked again. */
  private verifyDeadline(run: ActionRun): Date | null {
    if (!run.executedAt) return null;
    return new Date(run.executedAt.getTime() + this.deps.settleMs + (this.deps.verifyWindowMs ?? 0));
  }

  /** The next check of a run not recovered yet, or null when this check is the final word. */
  private recheckAt(run: ActionRun, verification: ActionVerification, at: Date): Date | null {
    if (verification.status !== 'not_recovered') return null;
    const deadline = this.verifyDeadline(run);
    const next = new Date(at.getTime() + Math.max(1000, Math.min(this.deps.settleMs, MAX_RECHECK_MS)));
    return deadline && next <= deadline ? next : null;
  }

  private async verificationChecks(
    run: ActionRun,
  ): Promise<{ checks: readonly CheckSpec[]; vars: Record<string, string | number> }> {
    if (run.sessionId === null || run.nodeId === null) return { checks: [], vars: {} };
    const session = await this.deps.uow.read.diagnosis.get(run.sessionId);
    const node = session?.runbook.nodes[run.nodeId];
    if (!session || !node) return { checks: [], vars: {} };
    if (node.checks.length > 0) return { checks: node.checks, vars: session.runbook.vars };
    const steps = await this.deps.uow.read.diagnosis.steps(session.id);
    const deciding = steps.filter((step) => step.nextNode === run.nodeId).at(-1);
    const decidingNode = deciding ? session.runbook.nodes[deciding.nodeId] : undefined;
    return { checks: decidingNode?.checks ?? [], vars: session.runbook.vars };
  }

  private async markMitigated(stores: Stores, run: ActionRun, at: Date): Promise<void> {
    const incident = await stores.incidents.getForUpdate(run.incidentId);
    if (!incident || !canTransition(incident.status, 'mitigated')) return;
    await stores.incidents.update(incident.id, {
      status: 'mitigated',
      mitigatedAt: at,
      ...(incident.acknowledgedAt === null ? { acknowledgedAt: at } : {}),
      updatedAt: at,
    });
    await stores.timeline.append(incident.id, [
      {
        at,
        actor: 'system',
        kind: 'status.changed',
        summary: `aisre marked the incident mitigated: ${describeRun(run)} recovered`,
        data: { from: incident.status, to: 'mitigated', runId: run.id },
      },
    ]);
  }

  /** A timeline entry for a run, plus a card refresh, in the caller's transaction. */
  /**
   * One step of a run: an audit entry (with the params, keys masked, unless `data` says otherwise)
   * and, for the steps people follow, a timeline entry and a card refresh. In the caller's
   * transaction, so the step and its record commit together.
   */
  private async log(
    stores: Stores,
    run: ActionRun,
    at: Date,
    step: {
      actor: string;
      event: AuditEvent;
      data?: AuditEntry['data'];
      timeline?: Pick<NewTimelineEntry, 'kind' | 'summary'>;
    },
  ): Promise<void> {
    const params = redactBody(run.params);
    await stores.actions.audit({
      runId: run.id,
      incidentId: run.incidentId,
      at,
      actor: step.actor,
      event: step.event,
      data: { params, ...step.data },
    });
    if (!step.timeline) return;
    await stores.timeline.append(run.incidentId, [
      {
        at,
        actor: step.actor,
        ...step.timeline,
        data: { runId: run.id, actionId: run.actionId, kind: run.kind, params },
      },
    ]);
    await stores.notifications.enqueue(run.incidentId, { kind: 'incident.updated' });
  }

  private stateMessage(run: ActionRun): string {
    const name = describeRun(run);
    switch (run.status) {
      case 'previewed':
        return `${name} has not been asked to execute yet.`;
      case 'awaiting_approval':
        return `${name} is already waiting for approval (asked for by ${who(run.requestedBy)}).`;
      case 'executing':
        return `${name} is already executing (${who(run.executedBy ?? 'system')}).`;
      case 'verifying':
        return `${name} has already executed; recovery is being verified.`;
      case 'failed':
        return `${name} failed: ${run.error ?? 'see the audit'}.`;
      default:
        return `${name} is already ${run.status.replace('_', ' ')}.`;
    }
  }
}
