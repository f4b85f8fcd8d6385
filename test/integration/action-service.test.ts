import { afterEach, describe, expect, it } from 'vitest';
import type { ActionRun } from '../../src/actions/action-run.js';
import { KnexDiagnosisStore } from '../../src/db/stores/diagnosis-store.js';
import { AppError } from '../../src/errors.js';
import type { Actor } from '../../src/incidents/incident.js';
import {
  type ActionStand,
  AGENT_KEY,
  openActionIncident,
  PROMPT,
  startActionStand,
} from '../support/action-support.js';
import { startTestService, type TestService } from '../support/test-service.js';

const ALICE: Actor = { kind: 'slack', userId: 'U0ALICE' };
const BOB: Actor = { kind: 'slack', userId: 'U0BOB' };
const CAROL: Actor = { kind: 'slack', userId: 'U0CAROL' };

let stand: ActionStand | undefined;
let service: TestService | undefined;

afterEach(async () => {
  await service?.dispose();
  service = undefined;
  await stand?.close();
  stand = undefined;
});

async function start(
  env: Record<string, string> = {},
  options: { autoRollback?: boolean } = {},
): Promise<{ svc: TestService; stand: ActionStand }> {
  stand = await startActionStand(options);
  service = await startTestService({ env: { ...stand.env, ...env } });
  return { svc: service, stand };
}

/** Opens an incident and walks the diagnosis to its conclusion (the evals fail). */
async function concluded(svc: TestService, labels: Record<string, string> = {}) {
  const incidentId = await openActionIncident(svc.url, labels);
  const started = await svc.aisre.diagnosis.start(incidentId, ALICE);
  await svc.aisre.diagnosis.settled(started.session!.id);
  const recommendations = await svc.aisre.actions.recommendations(incidentId);
  expect(recommendations?.nodeId).toBe('prompt_bad');
  return { incidentId, sessionId: recommendations!.sessionId, recommendations: recommendations! };
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

/** Runs due verifications and waits for them. */
async function verifyNow(svc: TestService): Promise<void> {
  await svc.aisre.actions.processDue();
  await svc.aisre.actions.settled();
}

const events = async (svc: TestService, runId: number) =>
  (await svc.aisre.actions.audit({ runId })).map((entry) => entry.event);

describe('runbook actions', () => {
  it('previews, executes once under concurrent clicks, verifies recovery, mitigates, and undoes', async () => {
    const { svc, stand } = await start();
    const { incidentId, sessionId, recommendations } = await concluded(svc);
    expect(recommendations.items.map((item) => [item.actionId, item.params, item.error])).toEqual([
      ['prompt.rollback', { prompt: PROMPT, label: 'production' }, null],
      ['gateway.rate_limit', { key: AGENT_KEY, rpm_limit: 60 }, null],
      ['http.webhook', { webhook: 'reindex', body: { service: 'svc-actions', label: PROMPT } }, null],
    ]);

    const run = await svc.aisre.actions.preview(
      { incidentId, recommendation: { sessionId, index: 0 } },
      ALICE,
    );
    expect(run).toMatchObject({ status: 'previewed', risk: 'low', nodeId: 'prompt_bad' });
    expect(run.preview?.changes).toEqual([{ target: `prompt "${PROMPT}" production label`, from: 3, to: 2 }]);
    expect(stand.langfuse.labelled(PROMPT, 'production')).toBe(3);

    const clicks = await Promise.all([
      svc.aisre.actions.execute(run.id, ALICE),
      svc.aisre.actions.execute(run.id, BOB),
      svc.aisre.actions.execute(run.id, ALICE),
    ]);
    expect(clicks.filter((click) => click.accepted)).toHaveLength(1);
    await svc.aisre.actions.settled();
    expect(stand.langfuse.labelled(PROMPT, 'production')).toBe(2);
    expect(stand.langfuse.requests.filter((request) => request.method === 'PATCH')).toHaveLength(1);
    const executed = await svc.aisre.actions.get(run.id);
    expect(executed).toMatchObject({
      status: 'verifying',
      previousState: { prompt: PROMPT, label: 'production', fromVersion: 3, toVersion: 2 },
    });

    stand.evalsHealthy(true);
    await verifyNow(svc);
    const verified = await svc.aisre.actions.get(run.id);
    expect(verified.status).toBe('recovered');
    expect(verified.verification).toMatchObject({ status: 'recovered', summary: '1 of 1 checks pass' });
    const incident = await svc.aisre.incidents.get(incidentId);
    expect(incident.status).toBe('mitigated');
    expect(await events(svc, run.id)).toEqual([
      'previewed',
      'executing',
      'request',
      'request',
      'request',
      'executed',
      'verified',
    ]);

    // Undo is a run of its own: previewed, executed and verified, with the change reversed.
    const undo = await svc.aisre.actions.undo(run.id, BOB);
    expect(undo.run).toMatchObject({ kind: 'undo', undoOf: run.id, status: 'previewed' });
    expect(undo.run.preview?.changes).toEqual([
      { target: `prompt "${PROMPT}" production label`, from: 2, to: 3 },
    ]);
    const again = await svc.aisre.actions.undo(run.id, CAROL);
    expect(again).toMatchObject({ accepted: false, run: { id: undo.run.id } });
    expect((await svc.aisre.actions.execute(undo.run.id, BOB)).accepted).toBe(true);
    await svc.aisre.actions.settled();
    expect(stand.langfuse.labelled(PROMPT, 'production')).toBe(3);
    await verifyNow(svc);
    expect((await svc.aisre.actions.get(undo.run.id)).status).toBe('recovered');
    expect((await svc.aisre.incidents.get(incidentId)).status).toBe('mitigated');

    const timeline = await svc.aisre.incidents.timeline(incidentId);
    expect(timeline.filter((entry) => entry.kind.startsWith('action.')).map((entry) => entry.kind)).toEqual([
      'action.previewed',
      'action.executed',
      'action.verified',
      'action.previewed',
      'action.executed',
      'action.verified',
    ]);
    expect(timeline.find((entry) => entry.kind === 'status.changed')?.summary).toBe(
      `aisre marked the incident mitigated: prompt.rollback (A-${run.id}) recovered`,
    );
  });

  it('holds a high-risk action for a second person, and lets only one approval execute it', async () => {
    const { svc, stand } = await start();
    const { incidentId, sessionId } = await concluded(svc);
    const run = await svc.aisre.actions.preview(
      { incidentId, recommendation: { sessionId, index: 2 } },
      ALICE,
    );
    expect(run).toMatchObject({ status: 'previewed', risk: 'high' });
    expect(stand.webhook.deliveries).toHaveLength(0);

    const requested = await svc.aisre.actions.execute(run.id, ALICE);
    expect(requested).toMatchObject({ accepted: true, run: { status: 'awaiting_approval' } });
    expect(stand.webhook.deliveries).toHaveLength(0);

    const self = await rejection(svc.aisre.actions.approve(run.id, ALICE));
    expect(self.code).toBe('forbidden');
    expect(self.userMessage).toContain('someone else has to approve it');

    const approvals = await Promise.all([
      svc.aisre.actions.approve(run.id, BOB),
      svc.aisre.actions.approve(run.id, CAROL),
    ]);
    expect(approvals.filter((approval) => approval.accepted)).toHaveLength(1);
    await svc.aisre.actions.settled();
    expect(stand.webhook.deliveries).toHaveLength(1);
    const delivery = stand.webhook.deliveries[0]!;
    expect(delivery.verification.valid).toBe(true);
    expect(delivery.body).toEqual({ service: 'svc-actions', label: PROMPT });
    const executed = await svc.aisre.actions.get(run.id);
    expect(executed).toMatchObject({ status: 'verifying', requestedBy: 'slack:U0ALICE' });
    expect(executed.approvedBy).toMatch(/^slack:U0(BOB|CAROL)$/);

    // Another request for the same action is turned down by an approver.
    const second = await svc.aisre.actions.preview(
      { incidentId, recommendation: { sessionId, index: 2 } },
      BOB,
    );
    await svc.aisre.actions.execute(second.id, BOB);
    const rejected = await svc.aisre.actions.reject(second.id, CAROL);
    expect(rejected).toMatchObject({ accepted: true, run: { status: 'rejected' } });
    expect((await svc.aisre.actions.approve(second.id, ALICE)).accepted).toBe(false);
    expect(stand.webhook.deliveries).toHaveLength(1);
  });

  it('refuses people outside the configured executors and approvers, and changes nothing', async () => {
    const { svc, stand } = await start({
      AISRE_ACTION_EXECUTORS: 'U0ALICE',
      AISRE_ACTION_APPROVERS: 'U0CAROL',
    });
    const { incidentId, sessionId } = await concluded(svc);
    const low = await svc.aisre.actions.preview({ incidentId, recommendation: { sessionId, index: 0 } }, BOB);
    const refused = await rejection(svc.aisre.actions.execute(low.id, BOB));
    expect(refused.code).toBe('forbidden');
    expect(refused.userMessage).toBe('You are not allowed to execute actions. Ask someone in <@U0ALICE>.');
    expect((await svc.aisre.actions.get(low.id)).status).toBe('previewed');
    expect(await events(svc, low.id)).toEqual(['previewed']);

    const high = await svc.aisre.actions.preview(
      { incidentId, recommendation: { sessionId, index: 2 } },
      ALICE,
    );
    await svc.aisre.actions.execute(high.id, ALICE);
    const notApprover = await rejection(svc.aisre.actions.approve(high.id, BOB));
    expect(notApprover.userMessage).toBe(
      'You are not allowed to approve actions. Ask someone in <@U0CAROL>.',
    );
    expect((await svc.aisre.actions.get(high.id)).status).toBe('awaiting_approval');
    expect(stand.langfuse.labelled(PROMPT, 'production')).toBe(3);
    expect(stand.webhook.deliveries).toHaveLength(0);
    expect((await svc.aisre.actions.approve(high.id, CAROL)).accepted).toBe(true);
  });

  it('reports a failing integration as a failed run with its request on record, and never mitigates', async () => {
    const { svc, stand } = await start();
    const { incidentId, sessionId } = await concluded(svc);
    const run = await svc.aisre.actions.preview(
      { incidentId, recommendation: { sessionId, index: 1 } },
      ALICE,
    );
    expect(run.preview?.changes).toEqual([{ target: 'key sk-…0001 rpm_limit', from: 1000, to: 60 }]);
    stand.litellm.failNext(503);
    await svc.aisre.actions.execute(run.id, ALICE);
    await svc.aisre.actions.settled();
    const failed = await svc.aisre.actions.get(run.id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/^litellm answered 503/);
    expect(stand.litellm.key(AGENT_KEY)?.rpm_limit).toBe(1000);
    const audit = await svc.aisre.actions.audit({ runId: run.id });
    expect(audit.map((entry) => entry.event)).toEqual(['previewed', 'executing', 'request', 'failed']);
    expect(audit[2]?.data.requests?.[0]).toMatchObject({ method: 'GET', status: 503 });
    expect(JSON.stringify(audit)).not.toContain(AGENT_KEY);
    expect(JSON.stringify(audit)).not.toContain(stand.litellm.masterKey);
    stand.evalsHealthy(true);
    await verifyNow(svc);
    expect((await svc.aisre.incidents.get(incidentId)).status).not.toBe('mitigated');
    expect((await rejection(svc.aisre.actions.undo(run.id, ALICE))).code).toBe('conflict');
  });

  it('says "not recovered" when the checks still fail, and leaves the incident unmitigated', async () => {
    const { svc, stand } = await start();
    const { incidentId, sessionId } = await concluded(svc);
    const run = await svc.aisre.actions.preview(
      { incidentId, recommendation: { sessionId, index: 1 } },
      ALICE,
    );
    await svc.aisre.actions.execute(run.id, ALICE);
    await svc.aisre.actions.settled();
    expect(stand.litellm.key(AGENT_KEY)?.rpm_limit).toBe(60);
    expect(stand.litellm.changedBy().at(-1)).toEqual({ path: '/key/update', changedBy: 'slack:U0ALICE' });
    await verifyNow(svc);
    expect(await svc.aisre.actions.get(run.id)).toMatchObject({
      status: 'not_recovered',
      verification: { summary: '0 of 1 checks pass' },
    });
    expect((await svc.aisre.incidents.get(incidentId)).status).not.toBe('mitigated');

    const undo = await svc.aisre.actions.undo(run.id, ALICE);
    await svc.aisre.actions.execute(undo.run.id, ALICE);
    await svc.aisre.actions.settled();
    expect(stand.litellm.key(AGENT_KEY)?.rpm_limit).toBe(1000);
  });

  it('checks again while recovery has not shown, and calls it recovered once it does', async () => {
    const { svc, stand } = await start({ AISRE_ACTION_VERIFY_WINDOW: '1m' });
    const { incidentId, sessionId } = await concluded(svc);
    const run = await svc.aisre.actions.preview(
      { incidentId, recommendation: { sessionId, index: 0 } },
      ALICE,
    );
    await svc.aisre.actions.execute(run.id, ALICE);
    await svc.aisre.actions.settled();
    await verifyNow(svc);
    const waiting = await svc.aisre.actions.get(run.id);
    expect(waiting).toMatchObject({ status: 'verifying', verification: { status: 'not_recovered' } });
    expect(waiting.verifyAt!.getTime()).toBeGreaterThan(Date.now());
    expect((await svc.aisre.incidents.get(incidentId)).status).not.toBe('mitigated');
    // Not due yet: nothing runs early.
    await verifyNow(svc);
    expect(await events(svc, run.id)).toEqual(expect.arrayContaining(['rechecking']));
    expect((await events(svc, run.id)).filter((event) => event === 'rechecking')).toHaveLength(1);

    stand.evalsHealthy(true);
    await new Promise((resolve) => setTimeout(resolve, waiting.verifyAt!.getTime() - Date.now() + 50));
    await verifyNow(svc);
    expect(await svc.aisre.actions.get(run.id)).toMatchObject({
      status: 'recovered',
      verification: { summary: '1 of 1 checks pass' },
    });
    expect((await svc.aisre.incidents.get(incidentId)).status).toBe('mitigated');
    const timeline = (await svc.aisre.incidents.timeline(incidentId)).map((entry) => entry.kind);
    expect(timeline.filter((kind) => kind === 'action.rechecking')).toHaveLength(1);
    expect(timeline).toContain('action.verified');
  });

  it('runs a low-risk action marked auto without a click, once', async () => {
    const { svc, stand } = await start({}, { autoRollback: true });
    const { incidentId } = await concluded(svc);
    await svc.aisre.actions.settled();
    const runs = await svc.aisre.actions.runs(incidentId);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      actionId: 'prompt.rollback',
      requestedBy: 'system',
      executedBy: 'system',
    });
    expect(stand.langfuse.labelled(PROMPT, 'production')).toBe(2);
    const session = await new KnexDiagnosisStore(svc.aisre.db.knex).latestForIncident(incidentId);
    await svc.aisre.actions.startAuto(session!);
    expect(await svc.aisre.actions.runs(incidentId)).toHaveLength(1);
  });

  it('refuses parameters filled from hostile or missing labels, and stores nothing', async () => {
    const { svc } = await start();
    const { incidentId, sessionId, recommendations } = await concluded(svc, {
      prompt: 'rag-answer\n<!channel>',
      litellm_key: '',
    });
    expect(recommendations.items[0]?.error).toContain(
      'prompt: the substituted value contains control characters',
    );
    expect(recommendations.items[1]?.error).toContain('key: the template');
    const refused = await rejection(
      svc.aisre.actions.preview({ incidentId, recommendation: { sessionId, index: 0 } }, ALICE),
    );
    expect(refused.code).toBe('validation_failed');
    const byHand = await rejection(
      svc.aisre.actions.preview(
        { incidentId, actionId: 'gateway.rate_limit', params: { rpm_limit: -1 } },
        ALICE,
      ),
    );
    expect(byHand.userMessage).toContain('Invalid parameters for gateway.rate_limit');
    expect(await svc.aisre.actions.runs(incidentId)).toEqual([]);
  });

  it('resumes an execution whose process died, without repeating the effects it completed', async () => {
    const { svc, stand } = await start({}, {});
    const { incidentId, sessionId } = await concluded(svc);
    const run = await svc.aisre.actions.preview(
      { incidentId, recommendation: { sessionId, index: 0 } },
      ALICE,
    );
    // As if a process claimed the run, moved the label, and died before recording the outcome.
    const knex = svc.aisre.db.knex;
    await knex('action_runs')
      .where({ id: run.id })
      .update({
        status: 'executing',
        executed_by: 'slack:U0ALICE',
        lease_until: new Date(Date.now() - 1000),
      });
    await knex('action_checkpoints').insert([
      {
        run_id: run.id,
        key: 'before',
        result: JSON.stringify({ prompt: PROMPT, label: 'production', fromVersion: 3, toVersion: 2 }),
        at: new Date(),
      },
    ]);
    stand.langfuse.seedPrompt(PROMPT, ['v1 text', 'v2 text', 'v3 broken text'], { production: 2 });
    await knex('action_checkpoints').insert({
      run_id: run.id,
      key: 'patch-label',
      result: JSON.stringify({ version: 2, labels: ['production'] }),
      at: new Date(),
    });
    const before = stand.langfuse.requests.length;
    expect(await svc.aisre.actions.processDue()).toBe(1);
    await svc.aisre.actions.settled();
    expect(stand.langfuse.requests.length).toBe(before);
    const resumed: ActionRun = await svc.aisre.actions.get(run.id);
    expect(resumed).toMatchObject({ status: 'verifying', previousState: { fromVersion: 3, toVersion: 2 } });
    expect(await events(svc, run.id)).toEqual(['previewed', 'resumed', 'executed']);
  });

  describe('every built-in action from the menu: preview, execute, verify, undo', () => {
    interface Case {
      actionId: string;
      params: Record<string, unknown>;
      /** The integration's state that the action changes and undo restores. */
      state(stand: ActionStand): unknown;
      before: unknown;
      after: unknown;
    }
    const cases: Case[] = [
      {
        actionId: 'prompt.rollback',
        params: { prompt: PROMPT, to_version: 1 },
        state: (s) => s.langfuse.labelled(PROMPT, 'production'),
        before: 3,
        after: 1,
      },
      {
        actionId: 'gateway.rate_limit',
        params: { key: AGENT_KEY, tpm_limit: 5000 },
        state: (s) => s.litellm.key(AGENT_KEY)?.tpm_limit ?? null,
        before: null,
        after: 5000,
      },
      {
        actionId: 'gateway.budget_cap',
        params: { team_id: 'team-agents', max_budget: 25 },
        state: (s) => s.litellm.team('team-agents')?.max_budget ?? null,
        before: 100,
        after: 25,
      },
      {
        actionId: 'gateway.fallback',
        params: { model: 'chat-main', fallback_models: ['chat-mini'] },
        state: (s) => s.litellm.fallbacks('chat-main') ?? null,
        before: null,
        after: ['chat-mini'],
      },
      {
        actionId: 'gateway.route',
        params: { model_id: 'dep-main', upstream_model: 'openai/gpt-4.1-mini' },
        state: (s) => s.litellm.deployment('dep-main')?.litellm_params.model,
        before: 'openai/gpt-4.1',
        after: 'openai/gpt-4.1-mini',
      },
      {
        actionId: 'gateway.block',
        params: { key: AGENT_KEY },
        state: (s) => Boolean(s.litellm.key(AGENT_KEY)?.blocked),
        before: false,
        after: true,
      },
      {
        actionId: 'http.webhook',
        params: { webhook: 'reindex', body: { service: '{{incident.service}}', mode: 'cache_only' } },
        state: (s) =>
          s.webhook.deliveries.map((delivery) => (delivery.body as { undo?: boolean }).undo ?? false),
        before: [],
        after: [false],
      },
    ];

    it.each(cases)('$actionId', async (testCase) => {
      const { svc, stand } = await start();
      stand.litellm.seedTeam('team-agents', { max_budget: 100 });
      stand.litellm.seedDeployment({
        model_id: 'dep-main',
        model_name: 'chat-main',
        model: 'openai/gpt-4.1',
      });
      stand.litellm.seedDeployment({
        model_id: 'dep-mini',
        model_name: 'chat-mini',
        model: 'openai/gpt-4.1-mini',
      });
      const { incidentId } = await concluded(svc);
      expect(testCase.state(stand)).toEqual(testCase.before);

      const run = await svc.aisre.actions.preview(
        { incidentId, actionId: testCase.actionId, params: testCase.params },
        ALICE,
      );
      expect(run.status).toBe('previewed');
      expect(run.preview?.changes.length).toBeGreaterThan(0);
      expect(testCase.state(stand)).toEqual(testCase.before);

      const executed = await svc.aisre.actions.execute(run.id, ALICE);
      if (executed.run.status === 'awaiting_approval') await svc.aisre.actions.approve(run.id, BOB);
      await svc.aisre.actions.settled();
      expect(await svc.aisre.actions.get(run.id)).toMatchObject({ status: 'verifying', error: null });
      expect(testCase.state(stand)).toEqual(testCase.after);
      stand.evalsHealthy(true);
      await verifyNow(svc);
      expect((await svc.aisre.actions.get(run.id)).status).toBe('recovered');

      const undo = await svc.aisre.actions.undo(run.id, CAROL);
      const undone = await svc.aisre.actions.execute(undo.run.id, CAROL);
      if (undone.run.status === 'awaiting_approval') await svc.aisre.actions.approve(undo.run.id, ALICE);
      await svc.aisre.actions.settled();
      await verifyNow(svc);
      expect((await svc.aisre.actions.get(undo.run.id)).status).toBe('recovered');
      if (testCase.actionId === 'http.webhook') {
        expect(testCase.state(stand)).toEqual([false, true]);
      } else {
        expect(testCase.state(stand)).toEqual(testCase.before);
      }
      const audit = await svc.aisre.actions.audit({ incidentId });
      expect(audit.filter((entry) => entry.event === 'executed').map((entry) => entry.runId)).toEqual([
        run.id,
        undo.run.id,
      ]);
    });
  });
});
