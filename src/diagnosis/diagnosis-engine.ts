import { type Actor, createActor, fromPromise } from 'xstate';
import type { CheckIncident, CheckResult } from '../checks/check-type.js';
import { AppError, retryWhileUnavailable } from '../errors.js';
import {
  type AlertOccurrence,
  actorRef,
  type Incident,
  type Actor as IncidentActor,
  incidentRef,
  isOpen,
  type NewTimelineEntry,
} from '../incidents/incident.js';
import type { Clock, Stores, UnitOfWork } from '../incidents/ports.js';
import type { Logger } from '../logger.js';
import { checkIncident, commonLabels } from './check-incident.js';
import type { DiagnosisConclusion, DiagnosisSession, IncidentDiagnosis } from './diagnosis.js';
import {
  compileDiagnosisMachine,
  type DiagnosisMachine,
  type PathEntry,
  type RunChecksInput,
  snapshotPhase,
} from './diagnosis-machine.js';
import type { RunbookLibrary, RunbookSelector } from './runbook-library.js';
import { type CheckSpec, type DecisionNode, isConclusion, type Runbook } from './runbook-schema.js';

/** Runs a node's checks in parallel, reporting each result as it lands. Never rejects. */
export interface CheckRunner {
  run(input: {
    checks: readonly CheckSpec[];
    incident: CheckIncident;
    vars: Record<string, string | number>;
    signal: AbortSignal;
    onResult: (checkId: string, result: CheckResult) => Promise<void>;
  }): Promise<Record<string, CheckResult>>;
}

export interface DiagnosisEngineDeps {
  uow: UnitOfWork;
  runbooks: RunbookLibrary;
  checks: CheckRunner;
  clock: Clock;
  logger: Logger;
  /** How long a question waits before the node's checks run again on their own. */
  recheckAfterMs: number;
  /** Called once a session reaches a conclusion it was not at before (e.g. to start `auto` actions). */
  onConcluded?: (session: DiagnosisSession) => void;
  /** This process, among the replicas sharing the database: it runs the sessions it holds a lease on. */
  owner: string;
  /** How long a lease lasts unless renewed: how soon another replica takes over from one that died. */
  leaseMs: number;
}

/** Sessions taken over from dead replicas at once, at most. */
const TAKEOVER_BATCH = 50;

interface LiveSession {
  actor: Actor<DiagnosisMachine>;
  runbook: Runbook;
  persistedPath: number;
  queue: Promise<void>;
}

/** The outcome of a responder's command; `accepted` is false when someone else was first. */
export interface DiagnosisCommandResult {
  accepted: boolean;
  message: string;
  session?: DiagnosisSession;
}

function who(actor: IncidentActor): string {
  if (actor.kind === 'slack') return `<@${actor.userId}>`;
  return actor.kind === 'system' ? 'aisre automatically' : actorRef(actor);
}

/**
 * Runs diagnosis sessions: one XState actor per live session, compiled from the session's own
 * copy of its runbook. Every transition is persisted (snapshot, steps, timeline, incident summary)
 * in one transaction, so a restarted process resumes each session where it was. Answers are
 * claimed in the database first, so when two responders click at once only one moves the tree.
 */
export class DiagnosisEngine {
  private readonly live = new Map<number, LiveSession>();
  private readonly settledWaiters = new Map<number, Array<() => void>>();
  private readonly stopping = new AbortController();
  private stopped = false;

  constructor(private readonly deps: DiagnosisEngineDeps) {}

  /** Starts a diagnosis with the named runbook, or the one whose labels match the incident. */
  async start(incidentId: number, actor: IncidentActor, runbookId?: string): Promise<DiagnosisCommandResult> {
    const incident = await this.deps.uow.read.incidents.get(incidentId);
    if (!incident) throw new AppError('not_found', `There is no incident INC-${incidentId}.`);
    if (!isOpen(incident.status)) {
      throw new AppError(
        'conflict',
        `${incidentRef(incident)} is ${incident.status}; there is nothing to diagnose.`,
      );
    }
    const alerts = await this.deps.uow.read.alerts.listForIncident(incidentId, 200);
    const known = this.deps.runbooks
      .list()
      .map((loaded) => loaded.runbook.id)
      .join(', ');
    const loaded = runbookId
      ? this.deps.runbooks.get(runbookId)
      : this.deps.runbooks.select(selectorFor(incident, alerts));
    if (!loaded) {
      throw new AppError(
        'not_found',
        runbookId
          ? `There is no runbook "${runbookId}". Known runbooks: ${known || 'none'}.`
          : `No runbook matches ${incidentRef(incident)}. Name one: \`/aisre diagnose <runbook>\` (known: ${known || 'none'}).`,
      );
    }
    const { runbook } = loaded;
    const at = this.deps.clock.now();
    const outcome = await this.deps.uow.run(
      async (stores) => {
        const latest = await stores.diagnosis.latestForIncident(incidentId);
        if (latest && (latest.status === 'running' || latest.status === 'waiting')) {
          return { session: latest, started: false };
        }
        const session = await stores.diagnosis.create({
          incidentId,
          runbookId: runbook.id,
          runbookVersion: loaded.version,
          runbook,
          currentNode: runbook.start,
          snapshot: {},
          startedBy: actorRef(actor),
          at,
          owner: this.deps.owner,
          leaseUntil: this.leaseUntil(),
        });
        await stores.diagnosis.ensureStep(session.id, 1, runbook.start, at, 'checking');
        await stores.incidents.update(incidentId, { updatedAt: at, diagnosis: summaryOf(session) });
        await stores.timeline.append(incidentId, [
          {
            at,
            actor: actorRef(actor),
            kind: 'diagnosis.started',
            summary: `${who(actor)} started diagnosis with runbook "${runbook.title}" (${runbook.id}@${loaded.version})`,
            data: { sessionId: session.id, runbookId: runbook.id, runbookVersion: loaded.version },
          },
        ]);
        await stores.notifications.enqueue(incidentId, { kind: 'incident.updated' });
        return { session, started: true };
      },
      { lockKeys: [`diagnosis:${incidentId}`] },
    );
    if (!outcome.started) {
      return {
        accepted: false,
        session: outcome.session,
        message: `${incidentRef(incident)} is already being diagnosed with runbook "${outcome.session.runbookId}".`,
      };
    }
    this.launch(outcome.session);
    return {
      accepted: true,
      session: outcome.session,
      message: `Diagnosing ${incidentRef(incident)} with runbook "${runbook.title}".`,
    };
  }

  /** A responder's answer to a node's question. The first answer wins; later ones are told who. */
  async answer(
    sessionId: number,
    seq: number,
    answerIndex: number,
    actor: IncidentActor,
  ): Promise<DiagnosisCommandResult> {
    const claim = await this.deps.uow.run(async (stores) => {
      const session = await stores.diagnosis.getForUpdate(sessionId);
      if (!session) throw new AppError('not_found', 'That diagnosis no longer exists.');
      const step = await stores.diagnosis.stepForUpdate(sessionId, seq);
      const node = step ? session.runbook.nodes[step.nodeId] : undefined;
      if (step?.answeredBy) {
        return {
          accepted: false,
          message: `<@${step.answeredBy}> already answered “${step.answer}”.`,
        } as const;
      }
      if (!step || !node || isConclusion(node) || step.status !== 'asking' || session.status !== 'waiting') {
        return {
          accepted: false,
          message: 'This question is no longer open: the diagnosis has moved on.',
        } as const;
      }
      const answer = node.question?.answers[answerIndex];
      if (!answer) throw new AppError('validation_failed', 'That answer is not one of the options.');
      await stores.diagnosis.updateStep(sessionId, seq, {
        answeredBy: actor.kind === 'slack' ? actor.userId : actorRef(actor),
        answer: answer.label,
      });
      return { accepted: true, message: `You answered “${answer.label}”.`, nodeId: step.nodeId } as const;
    });
    if (claim.accepted) {
      const live = await this.ensureLive(sessionId);
      live?.actor.send({ type: 'ANSWER', node: claim.nodeId, seq, answer: answerIndex, by: actorId(actor) });
    }
    return { accepted: claim.accepted, message: claim.message };
  }

  /** "Not this, go to X": moves a session, concluded or not, to another node, on the record. */
  async override(sessionId: number, target: string, actor: IncidentActor): Promise<DiagnosisCommandResult> {
    // A session that is not live here (concluded before a restart) is loaded before it is marked
    // running: its first persist must see it as it was, or it records the old conclusion again.
    // Only the incident's latest session: loading an older one would write its summary over it.
    const stored = await this.deps.uow.read.diagnosis.get(sessionId);
    const latest = stored
      ? await this.deps.uow.read.diagnosis.latestForIncident(stored.incidentId)
      : undefined;
    if (stored && latest?.id === stored.id && stored.status !== 'stopped' && stored.runbook.nodes[target]) {
      await (await this.ensureLive(sessionId))?.queue;
    }
    const session = await this.deps.uow.run(async (stores) => {
      const current = await stores.diagnosis.getForUpdate(sessionId);
      if (!current) throw new AppError('not_found', 'That diagnosis no longer exists.');
      if (!current.runbook.nodes[target])
        throw new AppError('validation_failed', `The runbook has no node "${target}".`);
      const latest = await stores.diagnosis.latestForIncident(current.incidentId);
      if (current.status === 'stopped' || latest?.id !== current.id) {
        throw new AppError('conflict', 'This diagnosis has been replaced by a newer one.');
      }
      return stores.diagnosis.update(sessionId, { status: 'running', updatedAt: this.deps.clock.now() });
    });
    const live = await this.ensureLive(sessionId);
    live?.actor.send({ type: 'OVERRIDE', target, by: actorId(actor) });
    const title = session.runbook.nodes[target]?.title ?? target;
    return { accepted: true, session, message: `Diagnosis moved to “${title}”.` };
  }

  /**
   * Resumes every live session after a start; in-flight checks run again (they are read-only).
   * It takes them all, leases or not: a restarted process cannot tell its own sessions, whose
   * process just died, from a live replica's, and a replica that loses a session this way stops
   * running it at its next write (see `persist`).
   */
  async resumeAll(): Promise<number> {
    const sessions = await this.deps.uow.read.diagnosis.listByStatus(['running', 'waiting']);
    for (const session of sessions) await this.take(session.id);
    return sessions.length;
  }

  /**
   * Renews the leases of the sessions this process runs, stops those another replica has taken,
   * and takes over the sessions of replicas that died. Called on a timer by the root, well
   * within the lease.
   */
  async maintainLeases(): Promise<number> {
    if (this.stopped) return 0;
    // Only actors that were here before the renewal: one launched meanwhile holds a fresh lease.
    const before = new Map(this.live);
    const held = new Set(await this.deps.uow.read.diagnosis.renewLeases(this.deps.owner, this.leaseUntil()));
    for (const [id, live] of before) if (!held.has(id) && this.live.get(id) === live) this.drop(id);
    const orphans = await this.deps.uow.read.diagnosis.claimExpired(
      this.deps.owner,
      this.deps.clock.now(),
      this.leaseUntil(),
      TAKEOVER_BATCH,
    );
    for (const session of orphans) {
      this.drop(session.id);
      this.launch(session);
    }
    if (orphans.length > 0) {
      this.deps.logger.info({ sessions: orphans.map((s) => s.id) }, 'took over diagnosis sessions');
    }
    return orphans.length;
  }

  /** Sends RECHECK to waiting sessions whose deadline passed. Called on a timer by the root. */
  async recheckDue(): Promise<number> {
    const due = await this.deps.uow.read.diagnosis.dueReminders(this.deps.clock.now());
    let sent = 0;
    for (const session of due) {
      // Every replica sees the same due reminders: the one that clears the deadline rechecks.
      const claimed = await this.deps.uow.run(async (stores) => {
        const current = await stores.diagnosis.getForUpdate(session.id);
        const now = this.deps.clock.now();
        if (current?.status !== 'waiting' || !current.remindAt || current.remindAt > now) return false;
        await stores.diagnosis.update(session.id, { remindAt: null, updatedAt: now });
        return true;
      });
      if (!claimed) continue;
      const live = await this.ensureLive(session.id);
      live?.actor.send({ type: 'RECHECK' });
      sent += 1;
    }
    return sent;
  }

  /** Resolves once the session is concluded or waiting for a person; for tests, the demo and benchmarks. */
  async settled(sessionId: number, timeoutMs = 30_000): Promise<DiagnosisSession> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const live = this.live.get(sessionId);
      if (live) await live.queue;
      const session = await this.deps.uow.read.diagnosis.get(sessionId);
      if (!session) throw new AppError('not_found', 'That diagnosis no longer exists.');
      const phase = live ? snapshotPhase(live.runbook, live.actor.getSnapshot().value).phase : undefined;
      if (session.status !== 'running' && (!live || phase === 'asking' || phase === 'concluded'))
        return session;
      if (Date.now() > deadline)
        throw new Error(`diagnosis ${sessionId} did not settle within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const waiters = this.settledWaiters.get(sessionId) ?? [];
        waiters.push(resolve);
        this.settledWaiters.set(sessionId, waiters);
        setTimeout(resolve, 100).unref();
      });
    }
  }

  /** Stops every actor (their state is already persisted) and waits for pending writes. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    const sessions = [...this.live.values()];
    for (const live of sessions) live.actor.stop();
    await Promise.allSettled(sessions.map((live) => live.queue));
    this.live.clear();
  }

  /** The session's actor in this process, which takes the session over to deliver a person's command. */
  private ensureLive(sessionId: number): Promise<LiveSession | undefined> {
    return this.take(sessionId);
  }

  /**
   * Takes the session's lease and runs it here. An actor this process already has is kept only if
   * the lease was still its own: otherwise another replica moved the session on since, and the
   * stored state is the one to continue from.
   */
  private async take(sessionId: number): Promise<LiveSession | undefined> {
    if (this.stopped) return undefined;
    const claimed = await this.deps.uow.read.diagnosis.claim(sessionId, this.deps.owner, this.leaseUntil());
    if (!claimed) return undefined;
    const existing = this.live.get(sessionId);
    if (existing && claimed.previousOwner === this.deps.owner) return existing;
    this.drop(sessionId);
    return this.launch(claimed.session);
  }

  /** Stops running a session here (its state is in the database), e.g. once another replica holds it. */
  private drop(sessionId: number): void {
    const live = this.live.get(sessionId);
    if (!live) return;
    this.live.delete(sessionId);
    live.actor.stop();
  }

  private leaseUntil(): Date {
    return new Date(this.deps.clock.now().getTime() + this.deps.leaseMs);
  }

  private launch(session: DiagnosisSession): LiveSession | undefined {
    if (this.stopped) return undefined;
    const existing = this.live.get(session.id);
    if (existing) return existing;
    const { runbook } = session;
    const machine = compileDiagnosisMachine(runbook).provide({
      actors: {
        runChecks: fromPromise<Record<string, CheckResult>, RunChecksInput>(({ input, signal }) =>
          this.runNodeChecks(session, input, signal),
        ),
      },
    });
    const persisted = session.snapshot as { context?: { path?: PathEntry[] } } | null;
    const hasSnapshot = Boolean(persisted?.context?.path);
    const actor = createActor(machine, hasSnapshot ? { snapshot: persisted as never } : {});
    const live: LiveSession = {
      actor,
      runbook,
      persistedPath: hasSnapshot ? persisted!.context!.path!.length : 1,
      queue: Promise.resolve(),
    };
    this.live.set(session.id, live);
    const log = this.deps.logger.child({ incidentId: session.incidentId, diagnosisSessionId: session.id });
    const persist = () => {
      live.queue = live.queue
        // While the database restarts the machine moves on in memory; the transitions it made
        // are written once it is back, or the session would stay `running` until a restart.
        .then(() => this.untilStored(() => this.persist(session.id, live), this.stopping.signal))
        .catch((err: unknown) => log.error({ err }, 'could not persist a diagnosis transition'));
    };
    actor.subscribe({ next: persist, error: (err) => log.error({ err }, 'diagnosis actor failed') });
    actor.start();
    persist();
    void this.replayClaimedAnswer(session, live);
    return live;
  }

  /** An answer claimed just before a crash never reached the machine; deliver it now. */
  private async replayClaimedAnswer(session: DiagnosisSession, live: LiveSession): Promise<void> {
    const snapshot = live.actor.getSnapshot();
    const { phase, node } = snapshotPhase(live.runbook, snapshot.value);
    if (phase !== 'asking') return;
    const step = await this.deps.uow.read.diagnosis.step(session.id, snapshot.context.seq);
    const question = (live.runbook.nodes[node] as DecisionNode).question;
    const index = question?.answers.findIndex((answer) => answer.label === step?.answer) ?? -1;
    if (step?.answeredBy && index >= 0) {
      live.actor.send({ type: 'ANSWER', node, seq: step.seq, answer: index, by: step.answeredBy });
    }
  }

  private async runNodeChecks(
    session: DiagnosisSession,
    input: RunChecksInput,
    signal: AbortSignal,
  ): Promise<Record<string, CheckResult>> {
    const node = session.runbook.nodes[input.node];
    if (!node || node.checks.length === 0) return {};
    // A database blip here would end the node with no results at all and ask a person for nothing.
    const stored = <T>(work: () => Promise<T>) => this.untilStored(work, signal);
    const incident = await stored(() => this.deps.uow.read.incidents.get(session.incidentId));
    const alerts = await stored(() => this.deps.uow.read.alerts.listForIncident(session.incidentId, 200));
    if (!incident) return {};
    await stored(() =>
      this.deps.uow.run(async (stores) => {
        // The session row first, as every diagnosis write takes it: the step's foreign key share-locks
        // it, and inserting the step before that deadlocks with a persist holding the session row
        // and inserting the same step (PostgreSQL).
        await stores.diagnosis.getForUpdate(session.id);
        await stores.diagnosis.ensureStep(
          session.id,
          input.seq,
          input.node,
          this.deps.clock.now(),
          'checking',
        );
      }),
    );
    return this.deps.checks.run({
      checks: node.checks,
      incident: checkIncident(incident, alerts),
      vars: session.runbook.vars,
      signal,
      onResult: async (checkId, result) => {
        await stored(() =>
          this.deps.uow.run(async (stores) => {
            await stores.diagnosis.recordResult(session.id, input.seq, checkId, result);
            await stores.notifications.enqueue(session.incidentId, { kind: 'incident.updated' });
          }),
        );
      },
    });
  }

  /** Retries `work` for as long as the database is unreachable and `signal` has not aborted. */
  private untilStored<T>(work: () => Promise<T>, signal: AbortSignal): Promise<T> {
    return retryWhileUnavailable(work, { signal, giveUpAfterMs: Number.POSITIVE_INFINITY });
  }

  /** Writes what a new snapshot means: steps left and entered, the timeline, the incident summary. */
  private async persist(sessionId: number, live: LiveSession): Promise<void> {
    const { runbook } = live;
    // The state and its persisted form are read together, now: the steps and timeline written
    // below then describe exactly the snapshot stored with them, even if the actor moved on since
    // this write was queued. A crash can then lose a transition but never half-record one.
    const snapshot = live.actor.getSnapshot();
    const persisted = live.actor.getPersistedSnapshot();
    const { node, phase } = snapshotPhase(runbook, snapshot.value);
    const path = snapshot.context.path;
    const fresh = path.slice(live.persistedPath);
    const at = this.deps.clock.now();
    let taken = false;
    const concluded = await this.deps.uow.run(async (stores) => {
      const session = await stores.diagnosis.getForUpdate(sessionId);
      if (!session || session.status === 'stopped') return undefined;
      // Another replica took the session over: its actor carries on from the stored state.
      taken = (await stores.diagnosis.owner(sessionId)) !== this.deps.owner;
      if (taken) return undefined;
      const entries: NewTimelineEntry[] = [];
      for (const entry of fresh) {
        const previous = path[path.indexOf(entry) - 1];
        if (previous) await this.recordMove(stores, session, previous, entry, entries, at);
        const target = runbook.nodes[entry.node]!;
        await stores.diagnosis.ensureStep(
          sessionId,
          entry.seq,
          entry.node,
          at,
          isConclusion(target) ? 'concluded' : 'checking',
        );
      }
      let conclusion: DiagnosisConclusion | null = null;
      let status: DiagnosisSession['status'] = 'running';
      let remindAt: Date | null = null;
      if (phase === 'concluded') {
        const target = runbook.nodes[node]!;
        if (isConclusion(target)) {
          conclusion = { node, title: target.title, ...target.conclusion };
          status = 'concluded';
          if (session.status !== 'concluded' || session.conclusion?.node !== node) {
            entries.push({
              at,
              actor: 'system',
              kind: 'diagnosis.concluded',
              summary: `Diagnosis concluded: ${conclusion.layer} layer. ${conclusion.hypothesis} (${conclusion.class.replace('_', ' ')})`,
              data: {
                sessionId,
                node,
                layer: conclusion.layer,
                class: conclusion.class,
                actions: conclusion.actions,
              },
            });
          }
        }
      } else if (phase === 'asking') {
        status = 'waiting';
        remindAt =
          session.status === 'waiting' && session.remindAt
            ? session.remindAt
            : new Date(at.getTime() + this.deps.recheckAfterMs);
        const step = await stores.diagnosis.step(sessionId, snapshot.context.seq);
        if (step?.status === 'checking')
          await stores.diagnosis.updateStep(sessionId, snapshot.context.seq, { status: 'asking' });
      }
      const updated = await stores.diagnosis.update(sessionId, {
        status,
        currentNode: node,
        snapshot: persisted,
        conclusion,
        concludedAt: status === 'concluded' ? (session.concludedAt ?? at) : null,
        remindAt,
        updatedAt: at,
      });
      await stores.incidents.update(session.incidentId, { updatedAt: at, diagnosis: summaryOf(updated) });
      await stores.timeline.append(session.incidentId, entries);
      await stores.notifications.enqueue(session.incidentId, { kind: 'incident.updated' });
      return entries.some((entry) => entry.kind === 'diagnosis.concluded') ? updated : undefined;
    });
    if (taken) {
      if (this.live.get(sessionId) === live) this.drop(sessionId);
      return;
    }
    live.persistedPath = path.length;
    if (concluded) this.deps.onConcluded?.(concluded);
    if (phase === 'asking' || phase === 'concluded') {
      for (const resolve of this.settledWaiters.get(sessionId) ?? []) resolve();
      this.settledWaiters.delete(sessionId);
    }
  }

  private async recordMove(
    stores: Stores,
    session: DiagnosisSession,
    from: PathEntry,
    to: PathEntry,
    entries: NewTimelineEntry[],
    at: Date,
  ): Promise<void> {
    const { runbook } = session;
    const fromNode = runbook.nodes[from.node]!;
    const toTitle = runbook.nodes[to.node]?.title ?? to.node;
    // The step keeps plain words (Slack renders who from `answeredBy`); the timeline names the person.
    let reason: string;
    if (to.via === 'override') reason = 'overridden';
    else if (to.via === 'answer') {
      const label = (fromNode as DecisionNode).question?.answers[to.index ?? -1]?.label ?? 'an answer';
      reason = `answered “${label}”`;
    } else if (to.via === 'otherwise') reason = 'no outcome matched';
    else {
      const outcome = (fromNode as DecisionNode).outcomes[to.index ?? -1];
      reason = outcome?.reason ?? `outcome ${(to.index ?? 0) + 1} matched`;
    }
    await stores.diagnosis.updateStep(session.id, from.seq, {
      status: to.via === 'override' ? 'overridden' : 'decided',
      outcome: reason,
      nextNode: to.node,
      finishedAt: at,
      ...(to.by ? { answeredBy: to.by } : {}),
    });
    entries.push({
      at,
      actor: to.by ? `slack:${to.by}` : 'system',
      kind: to.via === 'override' ? 'diagnosis.overridden' : 'diagnosis.step',
      summary: `Diagnosis: ${fromNode.title} → ${toTitle} (${to.by ? `<@${to.by}> ${reason}` : reason})`,
      data: { sessionId: session.id, from: from.node, to: to.node, via: to.via, seq: to.seq },
    });
  }
}

function actorId(actor: IncidentActor): string {
  return actor.kind === 'slack' ? actor.userId : actorRef(actor);
}

function summaryOf(session: DiagnosisSession): IncidentDiagnosis {
  return {
    sessionId: session.id,
    runbookId: session.runbookId,
    status: session.status,
    node: session.currentNode,
    nodeTitle: session.runbook.nodes[session.currentNode]?.title ?? session.currentNode,
    conclusion: session.conclusion,
  };
}

function selectorFor(incident: Incident, alerts: readonly AlertOccurrence[]): RunbookSelector {
  const labels = { ...commonLabels(alerts), ...incident.groupLabels };
  return {
    alertname: labels.alertname ?? alerts[0]?.alertname,
    layer: incident.layerHint ?? labels.layer,
    service: incident.service ?? labels.service,
  };
}
