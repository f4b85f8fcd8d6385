import { assign, fromPromise, setup } from 'xstate';
import type { CheckResult } from '../checks/check-type.js';
import { evaluateCondition } from './conditions.js';
import { type DecisionNode, isConclusion, type Runbook } from './runbook-schema.js';

/** How the tree moved from one node to the next; kept in context so the record is complete. */
export interface PathEntry {
  seq: number;
  node: string;
  via: 'start' | 'outcome' | 'otherwise' | 'answer' | 'override';
  /** The outcome or answer index on the previous node. */
  index?: number;
  by?: string;
}

/** Machine context: JSON only, so snapshots persist as they are. */
export interface DiagnosisContext {
  node: string;
  seq: number;
  results: Record<string, CheckResult>;
  path: PathEntry[];
}

export type DiagnosisEvent =
  | { type: 'ANSWER'; node: string; seq: number; answer: number; by: string }
  | { type: 'OVERRIDE'; target: string; by: string }
  /** Sent when a waiting question's recheck deadline passes: new data may decide without a person. */
  | { type: 'RECHECK' };

export interface RunChecksInput {
  node: string;
  seq: number;
}

const ROOT = 'diagnosis';

/**
 * Compiles a runbook into an XState machine. Decision nodes have three sub-states: `checking`
 * (an invoked actor runs the node's checks), `deciding` (eventless transitions guarded by the
 * outcomes, in order) and `asking` (waits for a person's ANSWER). Conclusions wait too: an
 * OVERRIDE can move any node, a conclusion included, to any other node.
 *
 * The `runChecks` actor is a placeholder to be supplied with `machine.provide`, which keeps
 * I/O out of the machine and lets tests substitute results.
 */
export function compileDiagnosisMachine(runbook: Runbook) {
  const nodeIds = Object.keys(runbook.nodes);
  const decision = (id: string) => runbook.nodes[id] as DecisionNode;

  const machine = setup({
    types: {
      context: {} as DiagnosisContext,
      events: {} as DiagnosisEvent,
    },
    actors: {
      runChecks: fromPromise<Record<string, CheckResult>, RunChecksInput>(async () => {
        throw new Error('runChecks must be provided');
      }),
    },
    guards: {
      outcomeMatches: ({ context }, params: { node: string; index: number }) => {
        const outcome = decision(params.node).outcomes[params.index];
        return outcome ? evaluateCondition(outcome.when, context.results) : false;
      },
      answerIs: ({ context, event }, params: { node: string; index: number }) =>
        event.type === 'ANSWER' &&
        event.node === params.node &&
        event.seq === context.seq &&
        event.answer === params.index,
      overrideTo: ({ event }, params: { target: string }) =>
        event.type === 'OVERRIDE' && event.target === params.target,
    },
    actions: {
      enter: assign(({ context, event }, params: { node: string; via: PathEntry['via']; index?: number }) => {
        const seq = context.seq + 1;
        const by = 'by' in event ? event.by : undefined;
        const entry: PathEntry = { seq, node: params.node, via: params.via };
        if (params.index !== undefined) entry.index = params.index;
        if (by) entry.by = by;
        return { node: params.node, seq, results: {}, path: [...context.path, entry] };
      }),
      storeResults: assign((_, params: { results: Record<string, CheckResult> }) => ({
        results: params.results,
      })),
    },
  }).createMachine({
    id: ROOT,
    context: {
      node: runbook.start,
      seq: 1,
      results: {},
      path: [{ seq: 1, node: runbook.start, via: 'start' }],
    },
    initial: runbook.start,
    on: {
      OVERRIDE: nodeIds.map((target) => ({
        guard: { type: 'overrideTo' as const, params: { target } },
        target: `#${ROOT}.${target}`,
        reenter: true,
        actions: { type: 'enter' as const, params: { node: target, via: 'override' as const } },
      })),
    },
    states: Object.fromEntries(
      nodeIds.map((id) => {
        const node = runbook.nodes[id]!;
        if (isConclusion(node)) return [id, {}];
        const goTo = (target: string, via: PathEntry['via'], index?: number) => ({
          target: `#${ROOT}.${target}`,
          actions: {
            type: 'enter' as const,
            params: index === undefined ? { node: target, via } : { node: target, via, index },
          },
        });
        return [
          id,
          {
            initial: 'checking',
            states: {
              checking: {
                invoke: {
                  src: 'runChecks',
                  input: ({ context }: { context: DiagnosisContext }) => ({ node: id, seq: context.seq }),
                  onDone: {
                    target: 'deciding',
                    actions: {
                      type: 'storeResults' as const,
                      params: ({ event }: { event: { output: Record<string, CheckResult> } }) => ({
                        results: event.output,
                      }),
                    },
                  },
                  // The engine's runner never rejects; this only guards against a broken runner.
                  onError: { target: 'deciding' },
                },
              },
              deciding: {
                always: [
                  ...node.outcomes.map((outcome, index) => ({
                    guard: { type: 'outcomeMatches' as const, params: { node: id, index } },
                    ...goTo(outcome.next, 'outcome', index),
                  })),
                  node.question || !node.otherwise ? { target: 'asking' } : goTo(node.otherwise, 'otherwise'),
                ],
              },
              asking: {
                on: {
                  ANSWER: (node.question?.answers ?? []).map((answer, index) => ({
                    guard: { type: 'answerIs' as const, params: { node: id, index } },
                    ...goTo(answer.next, 'answer', index),
                  })),
                  RECHECK: { target: 'checking' },
                },
              },
            },
          },
        ];
      }),
    ),
  });
  return machine;
}

export type DiagnosisMachine = ReturnType<typeof compileDiagnosisMachine>;

/** Where a snapshot stands: the node, and whether it is checking, deciding, asking or concluded. */
export function snapshotPhase(
  runbook: Runbook,
  value: unknown,
): { node: string; phase: 'checking' | 'deciding' | 'asking' | 'concluded' } {
  if (typeof value === 'string') return { node: value, phase: 'concluded' };
  const [node, inner] = Object.entries(value as Record<string, string>)[0] ?? [runbook.start, 'checking'];
  if (runbook.nodes[node] && isConclusion(runbook.nodes[node]!)) return { node, phase: 'concluded' };
  return { node, phase: inner as 'checking' | 'deciding' | 'asking' };
}
