import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { startDiagnosis } from '../../src/diagnosis/start-diagnosis.js';
import { AppError } from '../../src/errors.js';
import type { Actor } from '../../src/incidents/incident.js';
import { serveScenarioMetrics } from '../scenarios/scenario-runner.js';
import {
  diagnosisRecords,
  openScenarioIncident,
  postAlertBody,
  RUNBOOKS_DIR,
  scenarioNamed,
  serviceAlertBody,
  statuses,
} from '../support/diagnosis-support.js';
import { type PrometheusStandIn, startPrometheusStandIn } from '../support/prometheus-stand-in.js';
import type { IncidentDetailJson, IncidentJson, TimelineJson } from '../support/slack-flow.js';
import { TEST_DB_KIND } from '../support/test-database.js';
import { startTestService, type TestService } from '../support/test-service.js';

let standIn: PrometheusStandIn | undefined;
let service: TestService | undefined;
const tempDirs: string[] = [];

afterEach(async () => {
  await service?.dispose();
  service = undefined;
  await standIn?.close();
  standIn = undefined;
  for (const dir of tempDirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const ALICE: Actor = { kind: 'slack', userId: 'U0ALICE' };
const BOB: Actor = { kind: 'slack', userId: 'U0BOB' };
const CAROL: Actor = { kind: 'slack', userId: 'U0CAROL' };

interface DiagnosisJson {
  sessionId: number;
  runbookId: string;
  status: string;
  node: string;
  nodeTitle: string;
  conclusion: { node: string; title: string; layer: string; class: string; hypothesis: string } | null;
}

type IncidentWithDiagnosis = IncidentJson & { diagnosis: DiagnosisJson | null };

async function start(
  env: Record<string, string> = {},
): Promise<{ svc: TestService; prom: PrometheusStandIn }> {
  standIn = await startPrometheusStandIn();
  service = await startTestService({
    env: { PROMETHEUS_URL: standIn.url, AISRE_RUNBOOKS_DIR: RUNBOOKS_DIR, ...env },
  });
  return { svc: service, prom: standIn };
}

async function detail(svc: TestService, id: number) {
  const response = await svc.api<IncidentDetailJson & { incident: IncidentWithDiagnosis }>(
    `/api/incidents/${id}`,
  );
  expect(response.status).toBe(200);
  return response.body;
}

const diagnosisEntries = (timeline: readonly TimelineJson[]) =>
  timeline.filter((entry) => entry.kind.startsWith('diagnosis.'));

/** `startDiagnosis` as the Slack listeners call it: investigating, then the tree. */
function begin(svc: TestService, incidentId: number, actor: Actor = ALICE, runbookId?: string) {
  return startDiagnosis(
    { incidents: svc.aisre.incidents, diagnosis: svc.aisre.diagnosis },
    incidentId,
    actor,
    runbookId,
  );
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe(`diagnosis engine in the service (${TEST_DB_KIND})`, { timeout: 60_000 }, () => {
  it('concludes the failing layer on its own, with the evidence, for four branches of the default runbook', async () => {
    const { svc, prom } = await start();
    const cases = [
      {
        scenario: 'index-job-failing',
        service: 'svc-retrieval',
        layerNode: 'retrieval',
        conclusion: 'index_stale',
        layer: 'retrieval',
        // The triage check that picked the branch, and the one that picked the conclusion.
        triageCheck: ['retrieval_hits', 0.66],
        nodeCheck: ['index_age', 74 * 3600],
      },
      {
        scenario: 'prompt-regression',
        service: 'svc-generation',
        layerNode: 'generation',
        conclusion: 'prompt_regression',
        layer: 'generation',
        triageCheck: ['eval_pass', 0.78],
        nodeCheck: ['prompt_changes', 1],
      },
      {
        scenario: 'agent-loop',
        service: 'svc-cost',
        layerNode: 'cost',
        conclusion: 'agent_loop',
        layer: 'cost',
        triageCheck: ['token_spend', null],
        nodeCheck: ['steps_per_session', 48],
      },
      {
        scenario: 'route-config-change',
        service: 'svc-routing',
        layerNode: 'routing',
        conclusion: 'route_changed',
        layer: 'routing',
        triageCheck: ['fallbacks', 0.31],
        nodeCheck: ['route_changes', 1],
      },
    ] as const;

    const opened = [];
    for (const c of cases) {
      const { incidentId } = await openScenarioIncident(svc.url, prom, scenarioNamed(c.scenario), c.service);
      // Without AISRE_AUTO_DIAGNOSE an alert-opened incident waits for a person to start.
      expect((await detail(svc, incidentId)).incident.diagnosis).toBeNull();
      opened.push({ ...c, incidentId });
    }
    expect(new Set(opened.map((o) => o.incidentId)).size).toBe(cases.length);

    // All four at once: each session runs its own actor.
    const started = await Promise.all(opened.map((o) => begin(svc, o.incidentId)));
    for (const [index, result] of started.entries()) {
      expect(result).toMatchObject({
        accepted: true,
        message: `Diagnosing INC-${opened[index]!.incidentId} with runbook "AI incident triage".`,
      });
    }
    const settled = await Promise.all(
      started.map((result) => svc.aisre.diagnosis.settled(result.session!.id)),
    );

    for (const [index, o] of opened.entries()) {
      const session = settled[index]!;
      expect(session).toMatchObject({
        status: 'concluded',
        currentNode: o.conclusion,
        runbookId: 'ai_incident',
      });

      const { incident, timeline } = await detail(svc, o.incidentId);
      expect(incident.status).toBe('investigating');
      expect(incident.diagnosis).toMatchObject({
        sessionId: session.id,
        runbookId: 'ai_incident',
        status: 'concluded',
        node: o.conclusion,
        conclusion: { node: o.conclusion, layer: o.layer },
      });
      const entries = diagnosisEntries(timeline);
      expect(entries.map((entry) => entry.kind)).toEqual([
        'diagnosis.started',
        'diagnosis.step',
        'diagnosis.step',
        'diagnosis.concluded',
      ]);
      expect(entries[0]).toMatchObject({
        actor: 'slack:U0ALICE',
        summary:
          '<@U0ALICE> started diagnosis with runbook "AI incident triage" (ai_incident@' +
          `${session.runbookVersion})`,
        data: { sessionId: session.id, runbookId: 'ai_incident' },
      });
      expect(entries[1]).toMatchObject({
        actor: 'system',
        data: { sessionId: session.id, from: 'triage', to: o.layerNode, via: 'outcome', seq: 2 },
      });
      expect(entries[2]).toMatchObject({
        actor: 'system',
        data: { from: o.layerNode, to: o.conclusion, via: 'outcome', seq: 3 },
      });
      expect(entries[3]).toMatchObject({
        data: { sessionId: session.id, node: o.conclusion, layer: o.layer },
      });
      expect(entries[3]!.summary).toMatch(new RegExp(`^Diagnosis concluded: ${o.layer} layer\\. `));

      // The evidence behind each move is kept step by step.
      const [record] = await diagnosisRecords(svc.aisre.db.knex, o.incidentId);
      const steps = record!.steps;
      expect(steps.map((step) => [step.seq, step.nodeId, step.status, step.nextNode])).toEqual([
        [1, 'triage', 'decided', o.layerNode],
        [2, o.layerNode, 'decided', o.conclusion],
        [3, o.conclusion, 'concluded', null],
      ]);
      expect(Object.keys(steps[0]!.results).sort()).toEqual(
        [
          'eval_pass',
          'fallbacks',
          'fingerprints',
          'model_mismatch',
          'recent_changes',
          'refusals',
          'response_models',
          'retries',
          'retrieval_hits',
          'schema_errors',
          'steps_per_session',
          'token_spend',
        ].sort(),
      );
      const [triageId, triageValue] = o.triageCheck;
      const triageResult = steps[0]!.results[triageId]!;
      expect(triageResult.status).toBe('fail');
      if (triageValue !== null) expect(triageResult.value).toBeCloseTo(triageValue, 5);
      expect(triageResult.summary).not.toBe('');
      const [nodeId, nodeValue] = o.nodeCheck;
      const nodeResult = steps[1]!.results[nodeId]!;
      expect(nodeResult).toMatchObject({ status: 'fail' });
      expect(Number(nodeResult.value)).toBeCloseTo(nodeValue, 0);
      expect(steps[1]!.outcome).not.toBeNull();
      // Queries carry the incident's own service: no incident read another's metrics.
      const prometheusEvidence = Object.values(steps[0]!.results).flatMap((result) =>
        result.evidence.filter((item) => item.label === 'query').map((item) => item.value),
      );
      expect(prometheusEvidence.length).toBeGreaterThan(0);
      for (const query of prometheusEvidence) expect(query).toContain(`service="${o.service}"`);
    }

    // The generation branch was chosen because of a change recorded through POST /changes.
    const generation = opened.find((o) => o.layerNode === 'generation')!;
    const [genRecord] = await diagnosisRecords(svc.aisre.db.knex, generation.incidentId);
    expect(genRecord!.steps[1]!.results.prompt_changes!.summary).toContain('prompt v12→v13 by alice');
  });

  it('asks at triage when there is no data; of two simultaneous answers exactly one moves the tree', async () => {
    const { svc } = await start();
    // The stand-in knows no metric: every query is an empty vector.
    const incidentId = await postAlertBody(
      svc.url,
      serviceAlertBody('svc-dark', { startsAt: new Date(Date.now() - 10 * 60_000) }),
    );
    const started = await begin(svc, incidentId);
    const waiting = await svc.aisre.diagnosis.settled(started.session!.id);
    expect(waiting).toMatchObject({ status: 'waiting', currentNode: 'triage', conclusion: null });
    expect(waiting.remindAt!.getTime()).toBeGreaterThan(Date.now() + 60_000);
    let [record] = await diagnosisRecords(svc.aisre.db.knex, incidentId);
    expect(record!.steps).toHaveLength(1);
    expect(record!.steps[0]).toMatchObject({ seq: 1, nodeId: 'triage', status: 'asking', answeredBy: null });
    expect(statuses(record!.steps[0])).toMatchObject({
      refusals: 'inconclusive',
      retrieval_hits: 'inconclusive',
      eval_pass: 'inconclusive',
      token_spend: 'inconclusive',
      recent_changes: 'pass',
    });
    let { incident } = await detail(svc, incidentId);
    expect(incident.diagnosis).toMatchObject({
      status: 'waiting',
      node: 'triage',
      nodeTitle: 'Which layer failed?',
    });

    // Alice says Retrieval (0) and Bob "Not an AI-layer problem" (7), at the same moment.
    const labels = { U0ALICE: 'Retrieval', U0BOB: 'Not an AI-layer problem' } as const;
    const nextNode = { U0ALICE: 'retrieval', U0BOB: 'not_ai_layer' } as const;
    const [alice, bob] = await Promise.all([
      svc.aisre.diagnosis.answer(waiting.id, 1, 0, ALICE),
      svc.aisre.diagnosis.answer(waiting.id, 1, 7, BOB),
    ]);
    expect([alice.accepted, bob.accepted].filter(Boolean)).toHaveLength(1);
    const winner = alice.accepted ? 'U0ALICE' : 'U0BOB';
    const loser = alice.accepted ? bob : alice;
    expect(alice.accepted ? alice.message : bob.message).toBe(`You answered “${labels[winner]}”.`);
    expect(loser.message).toBe(`<@${winner}> already answered “${labels[winner]}”.`);

    const moved = await svc.aisre.diagnosis.settled(waiting.id);
    expect(moved.currentNode).toBe(nextNode[winner]);
    expect(moved.status).toBe(winner === 'U0ALICE' ? 'waiting' : 'concluded');

    // A late click once the tree has moved names the same person, and changes nothing.
    const late = await svc.aisre.diagnosis.answer(waiting.id, 1, 2, CAROL);
    expect(late).toEqual({ accepted: false, message: `<@${winner}> already answered “${labels[winner]}”.` });
    const stale = await svc.aisre.diagnosis.answer(waiting.id, 9, 0, CAROL);
    expect(stale).toEqual({
      accepted: false,
      message: 'This question is no longer open: the diagnosis has moved on.',
    });
    await svc.aisre.diagnosis.settled(waiting.id);

    [record] = await diagnosisRecords(svc.aisre.db.knex, incidentId);
    expect(record!.steps.map((step) => [step.seq, step.nodeId])).toEqual([
      [1, 'triage'],
      [2, nextNode[winner]],
    ]);
    expect(record!.steps[0]).toMatchObject({
      status: 'decided',
      answeredBy: winner,
      answer: labels[winner],
      nextNode: nextNode[winner],
      outcome: `answered “${labels[winner]}”`,
    });
    const timeline = (await detail(svc, incidentId)).timeline;
    const moves = timeline.filter((entry) => entry.kind === 'diagnosis.step');
    expect(moves).toHaveLength(1);
    expect(moves[0]).toMatchObject({
      actor: `slack:${winner}`,
      data: { from: 'triage', to: nextNode[winner], via: 'answer', seq: 2 },
    });
    expect(moves[0]!.summary).toContain(`(<@${winner}> answered “${labels[winner]}”)`);
    ({ incident } = await detail(svc, incidentId));
    expect(incident.diagnosis?.node).toBe(nextNode[winner]);
  });

  it('moves a conclusion elsewhere on an override, re-runs the node it lands on, and records it', async () => {
    const { svc, prom } = await start();
    const { incidentId } = await openScenarioIncident(
      svc.url,
      prom,
      scenarioNamed('index-job-failing'),
      'svc-override',
    );
    const started = await begin(svc, incidentId);
    const sessionId = started.session!.id;
    expect(await svc.aisre.diagnosis.settled(sessionId)).toMatchObject({ currentNode: 'index_stale' });

    // Carol disagrees: "look at generation instead". Its checks run; nothing explains it, so it asks.
    const generationQueries = () =>
      prom.queries.filter((q) => q.query.includes('gen_ai_token_type="output"')).length;
    expect(generationQueries()).toBe(0);
    const toGeneration = await svc.aisre.diagnosis.override(sessionId, 'generation', CAROL);
    expect(toGeneration).toMatchObject({
      accepted: true,
      message: 'Diagnosis moved to “Generation - prompt, model output or evals?”.',
    });
    const atGeneration = await svc.aisre.diagnosis.settled(sessionId);
    expect(atGeneration).toMatchObject({ status: 'waiting', currentNode: 'generation', conclusion: null });
    expect(generationQueries()).toBeGreaterThan(0);
    let { incident, timeline } = await detail(svc, incidentId);
    expect(incident.diagnosis).toMatchObject({ status: 'waiting', node: 'generation', conclusion: null });
    const overridden = timeline.filter((entry) => entry.kind === 'diagnosis.overridden');
    expect(overridden).toHaveLength(1);
    expect(overridden[0]).toMatchObject({
      actor: 'slack:U0CAROL',
      summary: 'Diagnosis: Index stale → Generation - prompt, model output or evals? (<@U0CAROL> overridden)',
      data: { sessionId, from: 'index_stale', to: 'generation', via: 'override', seq: 4 },
    });

    // Back to retrieval, a node already run: its checks run again and conclude the same again.
    const retrievalQueries = () =>
      prom.queries.filter((q) => q.query.includes('rag_index_last_success_timestamp_seconds')).length;
    const before = retrievalQueries();
    await svc.aisre.diagnosis.override(sessionId, 'retrieval', BOB);
    const again = await svc.aisre.diagnosis.settled(sessionId);
    expect(again).toMatchObject({ status: 'concluded', currentNode: 'index_stale' });
    expect(retrievalQueries()).toBeGreaterThan(before);

    const [record] = await diagnosisRecords(svc.aisre.db.knex, incidentId);
    expect(record!.steps.map((step) => [step.seq, step.nodeId, step.status, step.nextNode])).toEqual([
      [1, 'triage', 'decided', 'retrieval'],
      [2, 'retrieval', 'decided', 'index_stale'],
      [3, 'index_stale', 'overridden', 'generation'],
      [4, 'generation', 'overridden', 'retrieval'],
      [5, 'retrieval', 'decided', 'index_stale'],
      [6, 'index_stale', 'concluded', null],
    ]);
    expect(record!.steps[2]).toMatchObject({ outcome: 'overridden', answeredBy: 'U0CAROL' });
    expect(statuses(record!.steps[3])).toEqual({
      prompt_changes: 'pass',
      output_length: 'pass',
      eval_drop: 'pass',
    });
    expect(statuses(record!.steps[4])).toMatchObject({ index_age: 'fail' });

    ({ incident, timeline } = await detail(svc, incidentId));
    expect(diagnosisEntries(timeline).map((entry) => [entry.kind, entry.actor])).toEqual([
      ['diagnosis.started', 'slack:U0ALICE'],
      ['diagnosis.step', 'system'],
      ['diagnosis.step', 'system'],
      ['diagnosis.concluded', 'system'],
      ['diagnosis.overridden', 'slack:U0CAROL'],
      ['diagnosis.overridden', 'slack:U0BOB'],
      ['diagnosis.step', 'system'],
      ['diagnosis.concluded', 'system'],
    ]);
    expect(incident.diagnosis).toMatchObject({ status: 'concluded', conclusion: { node: 'index_stale' } });

    // A node the runbook does not have is refused, and nothing moves.
    const unknown = await rejection(svc.aisre.diagnosis.override(sessionId, 'no_such_node', CAROL));
    expect(unknown).toMatchObject({
      code: 'validation_failed',
      message: 'The runbook has no node "no_such_node".',
    });
    expect((await svc.aisre.diagnosis.settled(sessionId)).currentNode).toBe('index_stale');
  });

  it('overrides a conclusion reached before a restart without concluding it twice', async () => {
    const { svc, prom } = await start();
    const { incidentId } = await openScenarioIncident(
      svc.url,
      prom,
      scenarioNamed('agent-loop'),
      'svc-restart',
    );
    const sessionId = (await begin(svc, incidentId)).session!.id;
    expect(await svc.aisre.diagnosis.settled(sessionId)).toMatchObject({ currentNode: 'agent_loop' });

    // A new process on the same database: concluded sessions are not resumed, only loaded on demand.
    service = await svc.restart();
    const restarted = service;
    await restarted.aisre.diagnosis.override(sessionId, 'not_ai_layer', BOB);
    const moved = await restarted.aisre.diagnosis.settled(sessionId);
    expect(moved).toMatchObject({ status: 'concluded', currentNode: 'not_ai_layer' });
    // Give any stray transition time to land before reading the record.
    await delay(200);
    await restarted.aisre.diagnosis.settled(sessionId);

    const { incident, timeline } = await detail(restarted, incidentId);
    expect(diagnosisEntries(timeline).map((entry) => [entry.kind, entry.data.node ?? entry.data.to])).toEqual(
      [
        ['diagnosis.started', undefined],
        ['diagnosis.step', 'cost'],
        ['diagnosis.step', 'agent_loop'],
        ['diagnosis.concluded', 'agent_loop'],
        ['diagnosis.overridden', 'not_ai_layer'],
        ['diagnosis.concluded', 'not_ai_layer'],
      ],
    );
    expect(incident.diagnosis).toMatchObject({ status: 'concluded', conclusion: { node: 'not_ai_layer' } });
    const [record] = await diagnosisRecords(restarted.aisre.db.knex, incidentId);
    expect(record!.steps.map((step) => [step.seq, step.nodeId, step.status])).toEqual([
      [1, 'triage', 'decided'],
      [2, 'cost', 'decided'],
      [3, 'agent_loop', 'overridden'],
      [4, 'not_ai_layer', 'concluded'],
    ]);
  });

  it('delivers an answer that was claimed just before the process stopped, once it is back', async () => {
    const { svc, prom } = await start();
    const incidentId = await postAlertBody(
      svc.url,
      serviceAlertBody('svc-claimed', { startsAt: new Date(Date.now() - 10 * 60_000) }),
    );
    const sessionId = (await begin(svc, incidentId)).session!.id;
    expect(await svc.aisre.diagnosis.settled(sessionId)).toMatchObject({
      status: 'waiting',
      currentNode: 'triage',
    });

    // The claim committed (as `answer` writes it), then the process went away before the machine heard.
    await svc.stop();
    const db = await openDatabase(svc.database.config);
    try {
      await db
        .knex('diagnosis_steps')
        .where({ session_id: sessionId, seq: 1 })
        .update({ answered_by: 'U0BOB', answer: 'Not an AI-layer problem' });
    } finally {
      await db.close();
    }
    service = await startTestService({
      database: svc.database,
      env: { PROMETHEUS_URL: prom.url, AISRE_RUNBOOKS_DIR: RUNBOOKS_DIR },
    });
    const restarted = service;
    // The replay is sent once the resumed session has read its step; wait for its effect.
    const deadline = Date.now() + 10_000;
    while ((await detail(restarted, incidentId)).incident.diagnosis?.status !== 'concluded') {
      if (Date.now() > deadline) throw new Error('the claimed answer was never delivered');
      await delay(50);
    }
    const concluded = await restarted.aisre.diagnosis.settled(sessionId);
    expect(concluded).toMatchObject({ status: 'concluded', currentNode: 'not_ai_layer' });
    const [record] = await diagnosisRecords(restarted.aisre.db.knex, incidentId);
    expect(record!.steps.map((step) => [step.seq, step.nodeId, step.status, step.answeredBy])).toEqual([
      [1, 'triage', 'decided', 'U0BOB'],
      [2, 'not_ai_layer', 'concluded', null],
    ]);
    const moves = (await detail(restarted, incidentId)).timeline.filter((e) => e.kind === 'diagnosis.step');
    expect(moves).toEqual([
      expect.objectContaining({ actor: 'slack:U0BOB', data: expect.objectContaining({ via: 'answer' }) }),
    ]);
  });

  it('re-runs a waiting question’s checks after the recheck deadline and moves on without a person', async () => {
    const { svc, prom } = await start({ AISRE_DIAGNOSIS_RECHECK: '1s' });
    const startedAt = new Date(Date.now() - 15 * 60_000);
    // No metrics yet (an exporter still starting, say): the tree asks at triage.
    const incidentId = await postAlertBody(svc.url, serviceAlertBody('svc-late', { startsAt: startedAt }));
    const sessionId = (await begin(svc, incidentId)).session!.id;
    const waiting = await svc.aisre.diagnosis.settled(sessionId);
    expect(waiting).toMatchObject({ status: 'waiting', currentNode: 'triage' });
    const remindAt = waiting.remindAt!;
    expect(remindAt.getTime() - waiting.updatedAt.getTime()).toBe(1000);

    // Before the deadline nothing is due.
    if (Date.now() < remindAt.getTime() - 100) {
      expect(await svc.aisre.diagnosis.recheckDue()).toBe(0);
    }
    // The metrics arrive; after the deadline the node's checks run again and now decide.
    serveScenarioMetrics(prom, scenarioNamed('index-job-failing'), {
      service: 'svc-late',
      cutoff: startedAt,
    });
    await delay(Math.max(0, remindAt.getTime() - Date.now() + 50));
    // The service's own timer (every 5 s) may get there first; either way the session moves once.
    expect(await svc.aisre.diagnosis.recheckDue()).toBeLessThanOrEqual(1);
    const concluded = await svc.aisre.diagnosis.settled(sessionId);
    expect(concluded).toMatchObject({ status: 'concluded', currentNode: 'index_stale', remindAt: null });

    const [record] = await diagnosisRecords(svc.aisre.db.knex, incidentId);
    expect(record!.steps.map((step) => [step.seq, step.nodeId, step.status, step.answeredBy])).toEqual([
      [1, 'triage', 'decided', null],
      [2, 'retrieval', 'decided', null],
      [3, 'index_stale', 'concluded', null],
    ]);
    expect(statuses(record!.steps[0])).toMatchObject({ retrieval_hits: 'fail', eval_pass: 'pass' });
    const { timeline } = await detail(svc, incidentId);
    expect(diagnosisEntries(timeline).map((entry) => [entry.kind, entry.actor])).toEqual([
      ['diagnosis.started', 'slack:U0ALICE'],
      ['diagnosis.step', 'system'],
      ['diagnosis.step', 'system'],
      ['diagnosis.concluded', 'system'],
    ]);
    expect(await svc.aisre.diagnosis.recheckDue()).toBe(0);
  });

  it('starts one diagnosis at a time, never on a closed incident, and names the runbooks it knows', async () => {
    // The shipped runbook plus a small one that no alert selects on its own.
    const runbooks = await mkdtemp(path.join(tmpdir(), 'aisre-runbooks-'));
    tempDirs.push(runbooks);
    await writeFile(
      path.join(runbooks, 'ai-incident.yaml'),
      await readFile(path.join(RUNBOOKS_DIR, 'ai-incident.yaml'), 'utf8'),
    );
    await writeFile(
      path.join(runbooks, 'quick-check.yaml'),
      [
        'id: quick_check',
        'title: Quick check',
        'match: { alertname: NeverFires }',
        'start: look',
        'nodes:',
        '  look:',
        '    title: Look at the eval pass rate',
        '    checks:',
        '      - id: eval_pass',
        '        type: prometheus',
        '        params:',
        '          query: avg(llm_eval_pass_ratio{service="{{incident.service}}"})',
        '          healthy: { op: ">=", value: 0.9 }',
        '    outcomes:',
        '      - { when: { check: eval_pass, status: fail }, next: evals_low, reason: evals fail }',
        '    otherwise: nothing_found',
        '  evals_low:',
        '    title: Evals low',
        '    conclusion: { layer: generation, class: model_behaviour, hypothesis: Answers fail evals. }',
        '  nothing_found:',
        '    title: Nothing found',
        '    conclusion: { layer: unknown, class: infrastructure, hypothesis: No check found a cause. }',
        '',
      ].join('\n'),
    );
    const { svc } = await start({ AISRE_RUNBOOKS_DIR: runbooks });
    const incidentId = await postAlertBody(
      svc.url,
      serviceAlertBody('svc-rules', { startsAt: new Date(Date.now() - 5 * 60_000) }),
    );

    const unknown = await rejection(begin(svc, incidentId, ALICE, 'no_such_runbook'));
    expect(unknown).toMatchObject({
      code: 'not_found',
      message: 'There is no runbook "no_such_runbook". Known runbooks: ai_incident, quick_check.',
    });
    expect((await detail(svc, incidentId)).incident.diagnosis).toBeNull();

    // No data: the default runbook waits at triage, so the session stays live.
    const first = await begin(svc, incidentId);
    expect(first.accepted).toBe(true);
    const second = await begin(svc, incidentId, BOB, 'quick_check');
    expect(second).toMatchObject({
      accepted: false,
      message: `INC-${incidentId} is already being diagnosed with runbook "ai_incident".`,
      session: { id: first.session!.id },
    });
    await svc.aisre.diagnosis.settled(first.session!.id);
    const third = await svc.aisre.diagnosis.start(incidentId, CAROL);
    expect(third).toMatchObject({ accepted: false, session: { id: first.session!.id } });
    expect(await diagnosisRecords(svc.aisre.db.knex, incidentId)).toHaveLength(1);
    expect(
      diagnosisEntries((await detail(svc, incidentId)).timeline).filter(
        (e) => e.kind === 'diagnosis.started',
      ),
    ).toHaveLength(1);

    // Resolved incidents are not diagnosed, whatever the runbook.
    const other = await postAlertBody(
      svc.url,
      serviceAlertBody('svc-closed', { startsAt: new Date(Date.now() - 5 * 60_000) }),
    );
    await svc.aisre.incidents.resolve(other, ALICE);
    const closed = await rejection(begin(svc, other, ALICE, 'quick_check'));
    expect(closed).toMatchObject({
      code: 'conflict',
      message: `INC-${other} is resolved; there is nothing to diagnose.`,
    });
    expect(await diagnosisRecords(svc.aisre.db.knex, other)).toEqual([]);
    const missing = await rejection(svc.aisre.diagnosis.start(99_999, ALICE));
    expect(missing).toMatchObject({ code: 'not_found', message: 'There is no incident INC-99999.' });

    // A named runbook runs even where its labels would not select it.
    const named = await postAlertBody(
      svc.url,
      serviceAlertBody('svc-named', { startsAt: new Date(Date.now() - 5 * 60_000) }),
    );
    const quick = await begin(svc, named, ALICE, 'quick_check');
    expect(quick).toMatchObject({
      accepted: true,
      message: `Diagnosing INC-${named} with runbook "Quick check".`,
    });
    expect(await svc.aisre.diagnosis.settled(quick.session!.id)).toMatchObject({
      runbookId: 'quick_check',
      status: 'concluded',
      currentNode: 'nothing_found',
    });
    // Once concluded, a new diagnosis may start: a second look, in a new session.
    const rerun = await begin(svc, named, BOB);
    expect(rerun.accepted).toBe(true);
    expect(rerun.session!.id).not.toBe(quick.session!.id);
    await svc.aisre.diagnosis.settled(rerun.session!.id);
    expect((await diagnosisRecords(svc.aisre.db.knex, named)).map((r) => r.session.runbookId)).toEqual([
      'quick_check',
      'ai_incident',
    ]);

    // The older session's override menu is still in Slack; after a restart it must not come back.
    service = await svc.restart();
    const restarted = service;
    const replaced = await rejection(
      restarted.aisre.diagnosis.override(quick.session!.id, 'evals_low', CAROL),
    );
    expect(replaced).toMatchObject({
      code: 'conflict',
      message: 'This diagnosis has been replaced by a newer one.',
    });
    await delay(100);
    expect((await detail(restarted, named)).incident.diagnosis).toMatchObject({
      sessionId: rerun.session!.id,
      runbookId: 'ai_incident',
      status: 'waiting',
    });
  });

  it('starts on its own for alert-opened incidents with AISRE_AUTO_DIAGNOSE=true', async () => {
    const { svc, prom } = await start({ AISRE_AUTO_DIAGNOSE: 'true' });
    const { incidentId, startedAt } = await openScenarioIncident(
      svc.url,
      prom,
      scenarioNamed('route-config-change'),
      'svc-auto',
    );
    const deadline = Date.now() + 10_000;
    let incident = (await detail(svc, incidentId)).incident;
    while (!incident.diagnosis && Date.now() < deadline) {
      await delay(50);
      incident = (await detail(svc, incidentId)).incident;
    }
    expect(incident.diagnosis).not.toBeNull();
    const session = await svc.aisre.diagnosis.settled(incident.diagnosis!.sessionId);
    expect(session).toMatchObject({ status: 'concluded', currentNode: 'route_changed', startedBy: 'system' });
    const { incident: after, timeline } = await detail(svc, incidentId);
    // The automatic start does not make anyone a responder or move the incident on.
    expect(after).toMatchObject({ status: 'triggered', commanderId: null, responderIds: [] });
    expect(after.diagnosis).toMatchObject({ status: 'concluded', conclusion: { layer: 'routing' } });
    expect(diagnosisEntries(timeline)[0]).toMatchObject({
      kind: 'diagnosis.started',
      actor: 'system',
      summary: expect.stringMatching(
        /^aisre automatically started diagnosis with runbook "AI incident triage"/,
      ),
    });

    // Another alert joining the same incident starts nothing more.
    const joined = await postAlertBody(
      svc.url,
      serviceAlertBody('svc-auto', { startsAt: startedAt, fingerprint: 'beef0000beef0001' }),
    );
    expect(joined).toBe(incidentId);
    // Incidents declared by people are diagnosed when someone asks, not automatically.
    const declared = await svc.aisre.incidents.declare(
      { title: 'Answers look odd', severity: 'SEV3', service: 'svc-auto', description: null },
      ALICE,
    );
    await delay(300);
    expect(await diagnosisRecords(svc.aisre.db.knex, incidentId)).toHaveLength(1);
    expect(await diagnosisRecords(svc.aisre.db.knex, declared.id)).toEqual([]);
    expect((await detail(svc, declared.id)).incident.diagnosis).toBeNull();
  });
});
