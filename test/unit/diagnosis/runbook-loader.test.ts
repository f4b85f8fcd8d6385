import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ActionCatalog } from '../../../src/actions/action-catalog.js';
import { createCheckRegistry } from '../../../src/checks/built-in-checks.js';
import { loadRunbooks, parseRunbook } from '../../../src/diagnosis/runbook-loader.js';
import { isConclusion } from '../../../src/diagnosis/runbook-schema.js';
import { AppError } from '../../../src/errors.js';

const validators = { checks: createCheckRegistry(), actions: new ActionCatalog() };
const RUNBOOK_DIR = fileURLToPath(new URL('../../../runbooks/', import.meta.url));
const FILE = 'runbooks/rb.yaml';

// biome-ignore lint/suspicious/noExplicitAny: test documents are edited freely, as YAML would be
type Doc = Record<string, any>;

/** A small valid runbook: a triage node with one check, an outcome, a question and two conclusions. */
function baseRunbook(): Doc {
  return {
    id: 'test_runbook',
    title: 'Test runbook',
    start: 'triage',
    nodes: {
      triage: {
        title: 'Which layer?',
        checks: [
          {
            id: 'evals',
            type: 'prometheus',
            params: {
              query: 'avg(llm_eval_pass_ratio{service="{{incident.service}}"})',
              healthy: { op: '>=', value: 0.9 },
            },
          },
        ],
        outcomes: [{ when: { check: 'evals', status: 'fail' }, next: 'bad_evals' }],
        question: {
          text: 'What looks broken?',
          answers: [
            { label: 'Evals', next: 'bad_evals' },
            { label: 'Nothing', next: 'fine' },
          ],
        },
      },
      bad_evals: {
        title: 'Bad evals',
        conclusion: {
          layer: 'generation',
          class: 'model_behaviour',
          hypothesis: 'Answers fail evals.',
          actions: [{ action: 'prompt.rollback', params: { prompt: '{{labels.prompt}}' } }],
        },
      },
      fine: {
        title: 'Fine',
        conclusion: { layer: 'unknown', class: 'infrastructure', hypothesis: 'Nothing AI-related.' },
      },
    },
  };
}

function problemsOf(doc: Doc): string[] {
  const result = parseRunbook(stringify(doc), FILE, validators);
  if (result.problems.length === 0) expect(result.runbook).toBeDefined();
  return result.problems;
}

function edited(edit: (doc: Doc) => void): Doc {
  const doc = baseRunbook();
  edit(doc);
  return doc;
}

describe('loadRunbooks: the default runbook', () => {
  it('loads and validates every runbook shipped in runbooks/', async () => {
    const loaded = await loadRunbooks(RUNBOOK_DIR, validators);
    const defaults = loaded.find((candidate) => candidate.runbook.id === 'ai_incident');
    expect(defaults).toBeDefined();
    expect(defaults!.file).toBe(path.join('runbooks', 'ai-incident.yaml'));
    expect(defaults!.version).toMatch(/^[0-9a-f]{12}$/);
    const { runbook } = defaults!;
    expect(runbook.nodes[runbook.start]).toBeDefined();
    expect(Object.values(runbook.nodes).filter(isConclusion).length).toBeGreaterThan(10);
  });

  it('gives a version that changes with the content', () => {
    const a = parseRunbook(stringify(baseRunbook()), FILE, validators).runbook!;
    const b = parseRunbook(stringify(edited((doc) => (doc.title = 'Renamed'))), FILE, validators).runbook!;
    expect(a.version).not.toBe(b.version);
    expect(parseRunbook(stringify(baseRunbook()), FILE, validators).runbook!.version).toBe(a.version);
  });
});

describe('parseRunbook: problems come back as file:path: message', () => {
  it('accepts the base runbook, applying defaults', () => {
    const result = parseRunbook(stringify(baseRunbook()), FILE, validators);
    expect(result.problems).toEqual([]);
    expect(result.runbook?.runbook).toMatchObject({ match: {}, priority: 0, vars: {} });
  });

  it('reports a YAML syntax error with the file and the parser’s message', () => {
    const problems = parseRunbook('id: x\ntitle: [unclosed\nstart: a\n', FILE, validators).problems;
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^runbooks\/rb\.yaml:.+: Flow sequence in block collection/);
  });

  it('reports a YAML syntax error at line:col', () => {
    const problems = parseRunbook('id: x\nid: y\n', FILE, validators).problems;
    expect(problems[0]).toMatch(/^runbooks\/rb\.yaml:2:1: Map keys must be unique/);
  });

  it('reports schema errors at their path, and (root) for the document itself', () => {
    expect(problemsOf(edited((doc) => delete doc.title))).toEqual([
      expect.stringMatching(/^runbooks\/rb\.yaml:title: /),
    ]);
    expect(parseRunbook('just a string\n', FILE, validators).problems).toEqual([
      expect.stringMatching(/^runbooks\/rb\.yaml:\(root\): /),
    ]);
    expect(problemsOf(edited((doc) => (doc.nodes.triage.checks[0].id = 'Bad-Id')))).toEqual([
      'runbooks/rb.yaml:nodes.triage.checks[0].id: must be lowercase letters, digits and underscores, starting with a letter',
    ]);
  });

  it('reports an unknown check type, listing the known ones', () => {
    const problems = problemsOf(edited((doc) => (doc.nodes.triage.checks[0].type = 'promql')));
    expect(problems).toEqual([
      `runbooks/rb.yaml:nodes.triage.checks[0].type: unknown check type "promql" (known: ${validators.checks.list().join(', ')})`,
    ]);
  });

  it('reports bad check params with the path into params', () => {
    const problems = problemsOf(
      edited((doc) => {
        doc.nodes.triage.checks[0].params.healthy.op = '~';
        doc.nodes.triage.checks[0].params.extra = true;
      }),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^runbooks\/rb\.yaml:nodes\.triage\.checks\[0\]\.params\.healthy\.op: /),
      expect.stringMatching(/^runbooks\/rb\.yaml:nodes\.triage\.checks\[0\]\.params: .*extra/),
    ]);
  });

  it('reports a bad check timeout', () => {
    const problems = problemsOf(edited((doc) => (doc.nodes.triage.checks[0].timeout = 'soon')));
    expect(problems).toEqual([
      'runbooks/rb.yaml:nodes.triage.checks[0].timeout: must be a duration such as 30s, 5m or 2h',
    ]);
  });

  it('reports duplicate check ids in a node', () => {
    const problems = problemsOf(
      edited((doc) => doc.nodes.triage.checks.push({ ...doc.nodes.triage.checks[0] })),
    );
    expect(problems).toEqual([
      'runbooks/rb.yaml:nodes.triage.checks[1].id: check id "evals" is used twice in this node',
    ]);
  });

  it('reports an unknown action, listing the known ones', () => {
    const problems = problemsOf(
      edited((doc) => (doc.nodes.bad_evals.conclusion.actions[0].action = 'prompt.revert')),
    );
    expect(problems).toEqual([
      `runbooks/rb.yaml:nodes.bad_evals.conclusion.actions[0].action: unknown action "prompt.revert" (known: ${validators.actions.list().join(', ')})`,
    ]);
  });

  it('reports bad action params with the path into params', () => {
    const problems = problemsOf(
      edited((doc) => (doc.nodes.bad_evals.conclusion.actions[0].params = { to_version: -1 })),
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^runbooks\/rb\.yaml:nodes\.bad_evals\.conclusion\.actions\[0\]\.params\.prompt: /,
      ),
      expect.stringMatching(
        /^runbooks\/rb\.yaml:nodes\.bad_evals\.conclusion\.actions\[0\]\.params\.to_version: /,
      ),
    ]);
  });

  it('refuses auto: true on a high-risk action, and allows it on a low-risk one', () => {
    const highRisk = edited(
      (doc) =>
        (doc.nodes.bad_evals.conclusion.actions = [
          {
            action: 'gateway.fallback',
            params: { model: 'gpt-4o', fallback_models: ['gpt-4o-mini'] },
            auto: true,
          },
        ]),
    );
    expect(problemsOf(highRisk)).toEqual([
      'runbooks/rb.yaml:nodes.bad_evals.conclusion.actions[0].auto: "gateway.fallback" is high risk and cannot run automatically',
    ]);
    expect(problemsOf(edited((doc) => (doc.nodes.bad_evals.conclusion.actions[0].auto = true)))).toEqual([]);
  });

  it('reports an unknown next node (and leaves the shape checks out)', () => {
    const problems = problemsOf(edited((doc) => (doc.nodes.triage.outcomes[0].next = 'nowhere')));
    expect(problems).toEqual(['runbooks/rb.yaml:nodes.triage.outcomes[0].next: unknown node "nowhere"']);
  });

  it('reports unknown nodes in answers, otherwise and start', () => {
    const problems = problemsOf(
      edited((doc) => {
        doc.start = 'begin';
        doc.nodes.triage.question.answers[1].next = 'gone';
        doc.nodes.triage.otherwise = 'missing';
      }),
    );
    expect(problems).toEqual([
      'runbooks/rb.yaml:start: unknown node "begin"',
      'runbooks/rb.yaml:nodes.triage.question.answers[1].next: unknown node "gone"',
      'runbooks/rb.yaml:nodes.triage.otherwise: unknown node "missing"',
    ]);
  });

  it('reports a condition on a check the node does not run, however deeply nested', () => {
    const problems = problemsOf(
      edited(
        (doc) =>
          (doc.nodes.triage.outcomes[0].when = {
            all: [{ check: 'evals', status: 'fail' }, { not: { check: 'ghost', status: 'pass' } }],
          }),
      ),
    );
    expect(problems).toEqual([
      'runbooks/rb.yaml:nodes.triage.outcomes[0].when: refers to check "ghost", which this node does not run',
    ]);
  });

  it('reports an invalid placeholder in check and action params', () => {
    const problems = problemsOf(
      edited((doc) => {
        doc.nodes.triage.checks[0].params.query = 'avg(llm_eval_pass_ratio{service="{{label.service}}"})';
        doc.nodes.bad_evals.conclusion.actions[0].params.prompt = '{{ prompt }}';
      }),
    );
    expect(problems).toEqual([
      'runbooks/rb.yaml:nodes.triage.checks[0].params.query: {{label.service}} is not a known placeholder (use {{labels.name}}, {{incident.service}} or {{vars.name}})',
      'runbooks/rb.yaml:nodes.bad_evals.conclusion.actions[0].params.prompt: {{ prompt }} is not a known placeholder (use {{labels.name}}, {{incident.service}} or {{vars.name}})',
    ]);
  });

  it('reports a decision node that leads nowhere when no outcome matches', () => {
    const problems = problemsOf(edited((doc) => delete doc.nodes.triage.question));
    expect(problems).toEqual(
      expect.arrayContaining([
        'runbooks/rb.yaml:nodes.triage: dead end: when no outcome matches, nothing leads on (add a question or "otherwise")',
      ]),
    );
  });

  it('reports nodes from which no conclusion can be reached', () => {
    const problems = problemsOf(
      edited((doc) => {
        doc.nodes.triage.question.answers.push({ label: 'Dig', next: 'dig' });
        doc.nodes.dig = {
          title: 'Dig',
          question: { text: 'Deeper?', answers: [{ label: 'Yes', next: 'deeper' }] },
        };
        doc.nodes.deeper = {
          title: 'Deeper',
          question: { text: 'Back?', answers: [{ label: 'Yes', next: 'dig' }] },
        };
      }),
    );
    expect(problems).toEqual([
      'runbooks/rb.yaml:nodes.dig: dead end: no conclusion can be reached from here',
      'runbooks/rb.yaml:nodes.deeper: dead end: no conclusion can be reached from here',
    ]);
  });

  it('reports unreachable nodes', () => {
    const problems = problemsOf(
      edited(
        (doc) =>
          (doc.nodes.orphan = {
            title: 'Orphan',
            conclusion: { layer: 'cost', class: 'infrastructure', hypothesis: 'Nobody gets here.' },
          }),
      ),
    );
    expect(problems).toEqual([
      'runbooks/rb.yaml:nodes.orphan: unreachable: no path from "triage" leads here',
    ]);
  });

  it('reports a loop of automatic outcomes, but not one a question breaks', () => {
    const loop = edited((doc) => {
      doc.nodes.triage.outcomes.push({ when: { check: 'evals', status: 'pass' }, next: 'recheck' });
      doc.nodes.recheck = {
        title: 'Recheck',
        checks: [{ id: 'changes', type: 'changes', params: { kinds: ['prompt'], window: '1h' } }],
        outcomes: [{ when: { check: 'changes', status: 'fail' }, next: 'bad_evals' }],
        otherwise: 'triage',
      };
    });
    expect(problemsOf(loop)).toEqual([
      'runbooks/rb.yaml:nodes.triage: loop without a question: triage → recheck → triage',
    ]);

    const broken = structuredClone(loop);
    delete broken.nodes.recheck.otherwise;
    broken.nodes.recheck.question = { text: 'Again?', answers: [{ label: 'Yes', next: 'triage' }] };
    expect(problemsOf(broken)).toEqual([]);
  });

  it('reports every problem of a runbook at once', () => {
    const problems = problemsOf(
      edited((doc) => {
        doc.nodes.triage.checks[0].type = 'nope';
        doc.nodes.bad_evals.conclusion.actions[0].action = 'nope';
      }),
    );
    expect(problems).toHaveLength(2);
  });
});

describe('loadRunbooks: a directory', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  async function directory(files: Record<string, string>): Promise<string> {
    dir = await mkdtemp(path.join(tmpdir(), 'aisre-runbooks-'));
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
    return dir;
  }

  async function loadError(directoryPath: string): Promise<AppError> {
    const error = await loadRunbooks(directoryPath, validators).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }

  it('loads .yaml, .yml and .json files in name order and ignores others', async () => {
    const other = { ...baseRunbook(), id: 'other_runbook' };
    const third = { ...baseRunbook(), id: 'third_runbook' };
    const loaded = await loadRunbooks(
      await directory({
        'b.yml': stringify(other),
        'a.yaml': stringify(baseRunbook()),
        'c.json': JSON.stringify(third),
        'README.md': '# not a runbook',
      }),
      validators,
    );
    const base = path.basename(dir!);
    expect(loaded.map((l) => [l.runbook.id, l.file])).toEqual([
      ['test_runbook', path.join(base, 'a.yaml')],
      ['other_runbook', path.join(base, 'b.yml')],
      ['third_runbook', path.join(base, 'c.json')],
    ]);
  });

  it('reports a runbook id used by two files', async () => {
    const error = await loadError(
      await directory({ 'a.yaml': stringify(baseRunbook()), 'b.yaml': stringify(baseRunbook()) }),
    );
    const base = path.basename(dir!);
    expect(error.code).toBe('validation_failed');
    expect(error.details).toEqual([
      `${path.join(base, 'b.yaml')}:id: runbook id "test_runbook" is also used by ${path.join(base, 'a.yaml')}`,
    ]);
    expect(error.message).toContain('Invalid runbooks:');
  });

  it('lists the problems of every file in one error', async () => {
    const badType = edited((doc) => (doc.nodes.triage.checks[0].type = 'nope'));
    const badNext = { ...edited((doc) => (doc.nodes.triage.outcomes[0].next = 'nowhere')), id: 'second' };
    const error = await loadError(
      await directory({ 'a.yaml': stringify(badType), 'b.yaml': stringify(badNext) }),
    );
    const base = path.basename(dir!);
    expect(error.details).toEqual([
      expect.stringMatching(
        new RegExp(`^${base}/a\\.yaml:nodes\\.triage\\.checks\\[0\\]\\.type: unknown check type`),
      ),
      `${path.join(base, 'b.yaml')}:nodes.triage.outcomes[0].next: unknown node "nowhere"`,
    ]);
  });
});
