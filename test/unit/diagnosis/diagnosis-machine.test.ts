import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, waitFor } from 'xstate';
import type { CheckResult } from '../../../src/checks/check-type.js';
import {
  compileDiagnosisMachine,
  type RunChecksInput,
  snapshotPhase,
} from '../../../src/diagnosis/diagnosis-machine.js';
import type { Runbook } from '../../../src/diagnosis/runbook-schema.js';

const result = (status: CheckResult['status'], value: number | null = null): CheckResult => ({
  status,
  value,
  summary: status,
  evidence: [],
  links: [],
});

const conclusion = (layer: 'retrieval' | 'generation' | 'unknown') => ({
  title: layer,
  checks: [],
  conclusion: { layer, hypothesis: `${layer} broke`, class: 'data' as const, actions: [] },
});

const runbook: Runbook = {
  id: 'test',
  title: 'Test',
  match: {},
  priority: 0,
  vars: {},
  start: 'triage',
  nodes: {
    triage: {
      title: 'Which layer?',
      checks: [
        { id: 'hits', type: 'fake', params: {} },
        { id: 'evals', type: 'fake', params: {} },
      ],
      outcomes: [
        { when: { check: 'hits', status: 'fail' }, next: 'retrieval' },
        { when: { check: 'evals', value: { op: '<', value: 0.9 } }, next: 'generation' },
      ],
      question: {
        text: 'Which layer looks broken?',
        answers: [
          { label: 'Retrieval', next: 'retrieval' },
          { label: 'Generation', next: 'generation' },
        ],
      },
    },
    retrieval: conclusion('retrieval'),
    generation: conclusion('generation'),
  },
};

function start(results: Record<string, Record<string, CheckResult>>) {
  const calls: RunChecksInput[] = [];
  const machine = compileDiagnosisMachine(runbook).provide({
    actors: {
      runChecks: fromPromise(async ({ input }: { input: RunChecksInput }) => {
        calls.push(input);
        return results[input.node] ?? {};
      }),
    },
  });
  const actor = createActor(machine).start();
  return { actor, calls, machine };
}

describe('compileDiagnosisMachine', () => {
  it('follows the first outcome whose condition holds', async () => {
    const { actor } = start({ triage: { hits: result('pass'), evals: result('fail', 0.71) } });
    const done = await waitFor(actor, (s) => snapshotPhase(runbook, s.value).phase === 'concluded');
    expect(snapshotPhase(runbook, done.value).node).toBe('generation');
    expect(done.context.path.map((p) => [p.node, p.via, p.index])).toEqual([
      ['triage', 'start', undefined],
      ['generation', 'outcome', 1],
    ]);
  });

  it('asks a person when no outcome decides, and takes the answer', async () => {
    const { actor } = start({ triage: { hits: result('inconclusive'), evals: result('error') } });
    const asking = await waitFor(actor, (s) => snapshotPhase(runbook, s.value).phase === 'asking');
    actor.send({ type: 'ANSWER', node: 'triage', seq: asking.context.seq, answer: 0, by: 'U1' });
    const snapshot = actor.getSnapshot();
    expect(snapshotPhase(runbook, snapshot.value)).toEqual({ node: 'retrieval', phase: 'concluded' });
    expect(snapshot.context.path.at(-1)).toMatchObject({ via: 'answer', by: 'U1', index: 0 });
  });

  it('ignores an answer for another step', async () => {
    const { actor } = start({ triage: {} });
    const asking = await waitFor(actor, (s) => snapshotPhase(runbook, s.value).phase === 'asking');
    actor.send({ type: 'ANSWER', node: 'triage', seq: asking.context.seq + 1, answer: 0, by: 'U1' });
    expect(snapshotPhase(runbook, actor.getSnapshot().value).phase).toBe('asking');
  });

  it('lets a responder override a conclusion, and re-runs checks of the node it goes to', async () => {
    const { actor, calls } = start({ triage: { hits: result('fail') } });
    await waitFor(actor, (s) => snapshotPhase(runbook, s.value).phase === 'concluded');
    actor.send({ type: 'OVERRIDE', target: 'triage', by: 'U2' });
    await waitFor(actor, (s) => s.context.path.length === 4);
    expect(calls.map((c) => c.seq)).toEqual([1, 3]);
    expect(actor.getSnapshot().context.path.at(2)).toMatchObject({
      node: 'triage',
      via: 'override',
      by: 'U2',
    });
  });

  it('resumes from a persisted snapshot, re-running the checks that were in flight', async () => {
    let release: (value: Record<string, CheckResult>) => void = () => {};
    const slow = compileDiagnosisMachine(runbook).provide({
      actors: {
        runChecks: fromPromise(() => new Promise<Record<string, CheckResult>>((r) => (release = r))),
      },
    });
    const first = createActor(slow).start();
    const persisted = JSON.parse(JSON.stringify(first.getPersistedSnapshot()));
    first.stop();
    release({});

    const { machine, calls } = start({ triage: { hits: result('fail') } });
    const resumed = createActor(machine, { snapshot: persisted }).start();
    const done = await waitFor(resumed, (s) => snapshotPhase(runbook, s.value).phase === 'concluded');
    expect(snapshotPhase(runbook, done.value).node).toBe('retrieval');
    expect(calls.some((c) => c.node === 'triage' && c.seq === 1)).toBe(true);
  });
});

describe('RECHECK', () => {
  it('runs a waiting node’s checks again and moves on if they now decide', async () => {
    let answers: Record<string, CheckResult> = {};
    const machine = compileDiagnosisMachine(runbook).provide({
      actors: { runChecks: fromPromise(async () => answers) },
    });
    const actor = createActor(machine).start();
    await waitFor(actor, (s) => snapshotPhase(runbook, s.value).phase === 'asking');
    answers = { hits: result('fail') };
    actor.send({ type: 'RECHECK' });
    const done = await waitFor(actor, (s) => snapshotPhase(runbook, s.value).phase === 'concluded');
    expect(snapshotPhase(runbook, done.value).node).toBe('retrieval');
    expect(done.context.path.at(-1)?.seq).toBe(2);
  });
});
