import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ActionCatalog } from '../../../src/actions/action-catalog.js';
import { createCheckRegistry } from '../../../src/checks/built-in-checks.js';
import { loadRunbooks } from '../../../src/diagnosis/runbook-loader.js';
import { runbookToMermaid } from '../../../src/diagnosis/runbook-mermaid.js';
import { isConclusion, type Runbook } from '../../../src/diagnosis/runbook-schema.js';

const RUNBOOK_DIR = fileURLToPath(new URL('../../../runbooks/', import.meta.url));

async function defaultRunbook(): Promise<Runbook> {
  const loaded = await loadRunbooks(RUNBOOK_DIR, {
    checks: createCheckRegistry(),
    actions: new ActionCatalog(),
  });
  return loaded.find((candidate) => candidate.runbook.id === 'ai_incident')!.runbook;
}

/** Edges as `from -->|label| to` lines: [from, arrow, to]. */
function edgesOf(chart: string): Array<[string, string, string]> {
  return chart
    .split('\n')
    .map((line) => /^ {2}(\w+) (-->|-\.->)\|".*?"\| (\w+)$/.exec(line))
    .filter((match) => match !== null)
    .map((match) => [match[1]!, match[2]!, match[3]!]);
}

describe('runbookToMermaid', () => {
  it('draws every node of the default runbook, conclusions rounded, and every edge', async () => {
    const runbook = await defaultRunbook();
    const chart = runbookToMermaid(runbook);
    const lines = chart.split('\n');
    expect(lines[0]).toBe('flowchart TD');
    expect(chart.endsWith('\n')).toBe(true);

    for (const [id, node] of Object.entries(runbook.nodes)) {
      const shape = isConclusion(node) ? `  ${id}(["` : `  ${id}["`;
      expect(
        lines.filter((line) => line.startsWith(shape)),
        id,
      ).toHaveLength(1);
    }

    const expected: Array<[string, string, string]> = [];
    for (const [id, node] of Object.entries(runbook.nodes)) {
      if (isConclusion(node)) continue;
      for (const outcome of node.outcomes) expected.push([id, '-->', outcome.next]);
      if (node.otherwise) expected.push([id, '-->', node.otherwise]);
      for (const answer of node.question?.answers ?? []) expected.push([id, '-.->', answer.next]);
    }
    expect(edgesOf(chart)).toEqual(expected);
    expect(lines).toContain(`  style ${runbook.start} stroke-width:3px`);
  });

  it('labels decision nodes with their checks and conclusions with their layer', async () => {
    const runbook = await defaultRunbook();
    const chart = runbookToMermaid(runbook);
    expect(chart).toContain('  index_stale(["Index stale · retrieval"])');
    expect(chart).toMatch(
      / {2}cost\["Cost runaway or agent loop\?<br\/><small>Agent steps per session \(p95\), /,
    );
    expect(chart).toContain('  safety -->|"otherwise"| refusals_up');
  });

  it('escapes quotes and newlines so no label breaks out of its quotes', () => {
    const runbook: Runbook = {
      id: 'quotes',
      title: 'Quotes',
      match: {},
      priority: 0,
      vars: {},
      start: 'ask',
      nodes: {
        ask: {
          title: 'Is the "primary" model\nup?',
          checks: [{ id: 'probe', title: 'Probe "gpt-4o"', type: 'http', params: {} }],
          outcomes: [
            { when: { check: 'probe', status: 'fail' }, next: 'down', reason: 'the "primary" fails' },
          ],
          question: { text: 'Which?', answers: [{ label: 'Say "down"', next: 'down' }] },
        },
        bare: {
          title: 'No checks',
          checks: [],
          outcomes: [{ when: { check: 'x', status: 'fail' }, next: 'down' }],
          otherwise: 'down',
        },
        down: {
          title: 'Model "down"',
          checks: [],
          conclusion: { layer: 'routing', class: 'infrastructure', hypothesis: 'h', actions: [] },
        },
      },
    };
    const chart = runbookToMermaid(runbook);
    expect(chart).toBe(
      [
        'flowchart TD',
        '  ask["Is the #quot;primary#quot; model up?<br/><small>Probe #quot;gpt-4o#quot;</small>"]',
        '  bare["No checks"]',
        '  down(["Model #quot;down#quot; · routing"])',
        '  ask -->|"the #quot;primary#quot; fails"| down',
        '  ask -.->|"Say #quot;down#quot;"| down',
        '  bare -->|"outcome 1"| down',
        '  bare -->|"otherwise"| down',
        '  style ask stroke-width:3px',
        '',
      ].join('\n'),
    );
    for (const line of chart.split('\n').slice(1, -2)) {
      // Every label is one quoted string: exactly two raw quotes per label.
      expect(line.split('"').length % 2, line).toBe(1);
    }
  });
});
