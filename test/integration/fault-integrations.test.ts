import { afterEach, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/incidents/incident.js';
import {
  type ActionStand,
  AGENT_KEY,
  openActionIncident,
  PROMPT,
  startActionStand,
} from '../support/action-support.js';
import { TEST_DB_KIND } from '../support/test-database.js';
import { startTestService, type TestService } from '../support/test-service.js';

const ALICE: Actor = { kind: 'slack', userId: 'U0ALICE' };

let stand: ActionStand | undefined;
let service: TestService | undefined;

afterEach(async () => {
  await service?.dispose();
  service = undefined;
  // One test takes Langfuse down itself, so closing it again may fail.
  await stand?.close().catch(() => undefined);
  stand = undefined;
});

interface RequestJson {
  method: string;
  url: string;
  status: number | null;
  body?: unknown;
}

/** A service with the action stand, and an incident whose diagnosis recommends the actions. */
async function concluded(): Promise<{
  svc: TestService;
  stand: ActionStand;
  incidentId: number;
  sessionId: number;
}> {
  stand = await startActionStand();
  service = await startTestService({ env: stand.env });
  const incidentId = await openActionIncident(service.url);
  const started = await service.aisre.diagnosis.start(incidentId, ALICE);
  await service.aisre.diagnosis.settled(started.session!.id);
  const recommendations = await service.aisre.actions.recommendations(incidentId);
  expect(recommendations?.nodeId).toBe('prompt_bad');
  return { svc: service, stand, incidentId, sessionId: recommendations!.sessionId };
}

/** Previews the recommendation at `index` and executes it as Alice; resolves once it has finished. */
async function execute(svc: TestService, incidentId: number, sessionId: number, index: number) {
  const run = await svc.aisre.actions.preview({ incidentId, recommendation: { sessionId, index } }, ALICE);
  expect(run.status).toBe('previewed');
  return {
    run,
    finish: () => svc.aisre.actions.execute(run.id, ALICE).then(() => svc.aisre.actions.settled()),
  };
}

/** What the audit and the timeline say about a run: the events, the requests made, the failure entry. */
async function record(svc: TestService, incidentId: number, runId: number) {
  const audit = await svc.aisre.actions.audit({ runId });
  // The execution's requests: the preview's reads are on its own entry.
  const requests = audit
    .filter((entry) => entry.event === 'request')
    .flatMap((entry) => ((entry.data as { requests?: RequestJson[] }).requests ?? []) as RequestJson[]);
  const { body } = await svc.api<{ timeline: Array<{ kind: string; summary: string }> }>(
    `/api/incidents/${incidentId}`,
  );
  return {
    events: audit.map((entry) => entry.event),
    requests: requests.map((r) => `${r.method} ${new URL(r.url).pathname} ${r.status ?? 'no answer'}`),
    failed: audit.find((entry) => entry.event === 'failed')?.data as {
      error?: string;
      previousState?: unknown;
    },
    timeline: body.timeline.filter((entry) => entry.kind.startsWith('action.')),
    failure: body.timeline.find((entry) => entry.kind === 'action.failed'),
  };
}

describe(`integration endpoints failing under an action (${TEST_DB_KIND})`, () => {
  it('Langfuse refuses the label move after answering the read: failed, both requests on record, label untouched', async () => {
    const { svc, stand, incidentId, sessionId } = await concluded();
    const { run, finish } = await execute(svc, incidentId, sessionId, 0);
    stand.langfuse.failNext(500, undefined, { method: 'PATCH' });
    await finish();

    const failed = await svc.aisre.actions.get(run.id);
    expect(failed).toMatchObject({ status: 'failed', actionId: 'prompt.rollback' });
    expect(failed.error).toMatch(/^langfuse answered 500/);
    expect(stand.langfuse.labelled(PROMPT, 'production')).toBe(3);
    const { events, requests, failed: entry, timeline } = await record(svc, incidentId, run.id);
    expect(events[0]).toBe('previewed');
    expect(events.slice(1)).toEqual(['executing', ...requests.map(() => 'request'), 'failed']);
    // The read answered, the write did not: the attempt and its target are both on record.
    expect(requests.at(-1)).toBe(`PATCH /api/public/v2/prompts/${PROMPT}/versions/2 500`);
    expect(requests.slice(0, -1).every((line) => line.endsWith(' 200'))).toBe(true);
    expect(entry.error).toBe(failed.error);
    expect(timeline.at(-1)).toMatchObject({ kind: 'action.failed' });
    expect(timeline.at(-1)!.summary).toContain('langfuse answered 500');
    expect((await svc.aisre.incidents.get(incidentId)).status).not.toBe('mitigated');
  });

  it('LiteLLM fails the key update after answering the read: failed, the limit unchanged, the write on record', async () => {
    const { svc, stand, incidentId, sessionId } = await concluded();
    const { run, finish } = await execute(svc, incidentId, sessionId, 1);
    stand.litellm.failNext(500, undefined, { method: 'POST', path: '/key/update' });
    await finish();

    const failed = await svc.aisre.actions.get(run.id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/^litellm answered 500/);
    expect(stand.litellm.key(AGENT_KEY)?.rpm_limit).toBe(1000);
    const { requests, timeline } = await record(svc, incidentId, run.id);
    expect(requests.at(-1)).toBe('POST /key/update 500');
    expect(requests.slice(0, -1).every((line) => line.endsWith(' 200'))).toBe(true);
    expect(timeline.map((entry) => entry.kind)).toEqual(['action.previewed', 'action.failed']);
    expect((await svc.aisre.incidents.get(incidentId)).status).not.toBe('mitigated');
  });

  it('Langfuse unreachable: failed with the reason, the attempt recorded without an answer', async () => {
    const { svc, stand, incidentId, sessionId } = await concluded();
    const { run, finish } = await execute(svc, incidentId, sessionId, 0);
    await stand.langfuse.close();
    await finish();

    const failed = await svc.aisre.actions.get(run.id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/^langfuse/);
    const { events, requests, timeline } = await record(svc, incidentId, run.id);
    expect(events.slice(1)).toEqual(['executing', 'request', 'failed']);
    expect(requests).toEqual([`GET /api/public/v2/prompts/${PROMPT} no answer`]);
    expect(timeline.at(-1)).toMatchObject({ kind: 'action.failed' });
  });

  it('an undo refused by Langfuse: the undo fails on record, the original run and its change stay as they were', async () => {
    const { svc, stand, incidentId, sessionId } = await concluded();
    const { run, finish } = await execute(svc, incidentId, sessionId, 0);
    await finish();
    expect(stand.langfuse.labelled(PROMPT, 'production')).toBe(2);
    const undo = await svc.aisre.actions.undo(run.id, ALICE);
    stand.langfuse.failNext(503, undefined, { method: 'PATCH' });
    await svc.aisre.actions.execute(undo.run.id, ALICE);
    await svc.aisre.actions.settled();

    expect(await svc.aisre.actions.get(undo.run.id)).toMatchObject({ status: 'failed', kind: 'undo' });
    expect((await svc.aisre.actions.get(run.id)).status).not.toBe('failed');
    expect(stand.langfuse.labelled(PROMPT, 'production')).toBe(2);
    const { requests, failure } = await record(svc, incidentId, undo.run.id);
    expect(requests.at(-1)).toBe(`PATCH /api/public/v2/prompts/${PROMPT}/versions/3 503`);
    expect(failure?.summary).toContain('langfuse answered 503');
  });

  it('Langfuse moves the label but never answers: failed after the timeout, and the record says the change may have landed', async () => {
    const { svc, stand, incidentId, sessionId } = await concluded();
    const { run, finish } = await execute(svc, incidentId, sessionId, 0);
    const applied = stand.langfuse.applyNextWithoutAnswer({ method: 'PATCH' });
    // Waits out the integration client's 10 s timeout; hence this test's own, longer limit.
    await finish();
    await applied;

    const failed = await svc.aisre.actions.get(run.id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toBe(
      'langfuse did not answer in time: no answer after 10000 ms; the PATCH may have been applied',
    );
    // It was: the record shows the write without an answer and the state before it, for a person to act on.
    expect(stand.langfuse.labelled(PROMPT, 'production')).toBe(2);
    const { requests, failed: entry, failure } = await record(svc, incidentId, run.id);
    expect(requests.at(-1)).toBe(`PATCH /api/public/v2/prompts/${PROMPT}/versions/2 no answer`);
    expect(entry.previousState).toMatchObject({ fromVersion: 3, toVersion: 2 });
    expect(failure?.summary).toContain('the PATCH may have been applied');
  }, 60_000);
});
