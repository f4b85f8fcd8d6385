import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { ActionCatalog } from '../actions/action-catalog.js';
import type { CheckRegistry } from '../checks/check-registry.js';
import { invalidPlaceholders, parseDuration } from '../checks/templates.js';
import { AppError } from '../errors.js';
import {
  type CheckSpec,
  type Condition,
  isConclusion,
  type Runbook,
  type RunbookNode,
  runbookSchema,
} from './runbook-schema.js';

/** A validated runbook and where it came from. `version` changes whenever its content does. */
export interface LoadedRunbook {
  runbook: Runbook;
  file: string;
  version: string;
}

export interface RunbookValidators {
  checks: CheckRegistry;
  actions: ActionCatalog;
}

const RUNBOOK_FILE = /\.(ya?ml|json)$/;

type PathPart = string | number;

function formatPath(parts: readonly PropertyKey[]): string {
  return parts.reduce<string>((out, part) => {
    if (typeof part === 'number') return `${out}[${part}]`;
    return out ? `${out}.${String(part)}` : String(part);
  }, '');
}

/**
 * Parses and validates one runbook. Problems come back as `file:path: message` lines, all of
 * them at once: schema errors first, then references (check types, action ids, node names,
 * templates) and the shape of the tree (unreachable nodes, dead ends, loops without a person).
 */
export function parseRunbook(
  text: string,
  file: string,
  validators: RunbookValidators,
): { runbook?: LoadedRunbook; problems: string[] } {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { prettyErrors: false, lineCounter });
  if (document.errors.length > 0) {
    return {
      problems: document.errors.map((error) => {
        const position = lineCounter.linePos(error.pos[0]);
        return `${file}:${position ? `${position.line}:${position.col}` : 'syntax'}: ${error.message.split('\n')[0]}`;
      }),
    };
  }
  const parsed = runbookSchema.safeParse(document.toJS());
  if (!parsed.success) {
    return {
      problems: parsed.error.issues.map(
        (issue) => `${file}:${formatPath(issue.path) || '(root)'}: ${issue.message}`,
      ),
    };
  }
  const runbook = parsed.data as Runbook;
  const problems = referenceProblems(runbook, validators).map(
    ([where, message]) => `${file}:${formatPath(where)}: ${message}`,
  );
  if (problems.length > 0) return { problems };
  const version = createHash('sha256').update(text).digest('hex').slice(0, 12);
  return { runbook: { runbook, file, version }, problems: [] };
}

/** Loads every runbook in a directory; throws one error listing every problem of every file. */
export async function loadRunbooks(
  directory: string,
  validators: RunbookValidators,
): Promise<LoadedRunbook[]> {
  const files = (await readdir(directory)).filter((file) => RUNBOOK_FILE.test(file)).sort();
  const loaded: LoadedRunbook[] = [];
  const problems: string[] = [];
  for (const file of files) {
    const relative = path.join(path.basename(directory), file);
    const result = parseRunbook(await readFile(path.join(directory, file), 'utf8'), relative, validators);
    problems.push(...result.problems);
    if (result.runbook) loaded.push(result.runbook);
  }
  const seen = new Map<string, string>();
  for (const { runbook, file } of loaded) {
    const other = seen.get(runbook.id);
    if (other) problems.push(`${file}:id: runbook id "${runbook.id}" is also used by ${other}`);
    seen.set(runbook.id, file);
  }
  if (problems.length > 0) {
    throw new AppError(
      'validation_failed',
      `Invalid runbooks:\n${problems.map((p) => `  ${p}`).join('\n')}`,
      {
        details: problems,
      },
    );
  }
  return loaded;
}

function referenceProblems(runbook: Runbook, validators: RunbookValidators): Array<[PathPart[], string]> {
  const problems: Array<[PathPart[], string]> = [];
  const nodeIds = new Set(Object.keys(runbook.nodes));
  let brokenLinks = false;
  const requireNode = (where: PathPart[], target: string) => {
    if (nodeIds.has(target)) return;
    brokenLinks = true;
    problems.push([where, `unknown node "${target}"`]);
  };
  requireNode(['start'], runbook.start);

  for (const [nodeId, node] of Object.entries(runbook.nodes)) {
    const at = (...rest: PathPart[]): PathPart[] => ['nodes', nodeId, ...rest];
    problems.push(...checkSpecProblems(node.checks, validators, at));
    if (isConclusion(node)) {
      node.conclusion.actions.forEach((recommendation, index) => {
        const where = at('conclusion', 'actions', index);
        const definition = validators.actions.get(recommendation.action);
        if (!definition) {
          problems.push([
            [...where, 'action'],
            `unknown action "${recommendation.action}" (known: ${validators.actions.list().join(', ')})`,
          ]);
          return;
        }
        const params = definition.params.safeParse(recommendation.params);
        if (!params.success) {
          for (const issue of params.error.issues) {
            problems.push([[...where, 'params', ...(issue.path as PathPart[])], issue.message]);
          }
        }
        if (recommendation.auto && definition.risk !== 'low') {
          problems.push([
            [...where, 'auto'],
            `"${recommendation.action}" is ${definition.risk} risk and cannot run automatically`,
          ]);
        }
        problems.push(...placeholderProblems(recommendation.params, [...where, 'params']));
      });
      continue;
    }
    const checkIds = new Set(node.checks.map((check) => check.id));
    node.outcomes.forEach((outcome, index) => {
      requireNode(at('outcomes', index, 'next'), outcome.next);
      for (const referenced of conditionChecks(outcome.when)) {
        if (!checkIds.has(referenced)) {
          problems.push([
            at('outcomes', index, 'when'),
            `refers to check "${referenced}", which this node does not run`,
          ]);
        }
      }
    });
    for (const [index, answer] of (node.question?.answers ?? []).entries()) {
      requireNode(at('question', 'answers', index, 'next'), answer.next);
    }
    if (node.otherwise) requireNode(at('otherwise'), node.otherwise);
    if (!node.question && !node.otherwise) {
      problems.push([
        at(),
        'dead end: when no outcome matches, nothing leads on (add a question or "otherwise")',
      ]);
    }
  }
  // The shape of the tree can only be judged once every link points at a real node.
  if (!brokenLinks) problems.push(...shapeProblems(runbook));
  return problems;
}

function checkSpecProblems(
  checks: readonly CheckSpec[],
  validators: RunbookValidators,
  at: (...rest: PathPart[]) => PathPart[],
): Array<[PathPart[], string]> {
  const problems: Array<[PathPart[], string]> = [];
  const ids = new Set<string>();
  checks.forEach((check, index) => {
    if (ids.has(check.id))
      problems.push([at('checks', index, 'id'), `check id "${check.id}" is used twice in this node`]);
    ids.add(check.id);
    const type = validators.checks.get(check.type);
    if (!type) {
      problems.push([
        at('checks', index, 'type'),
        `unknown check type "${check.type}" (known: ${validators.checks.list().join(', ')})`,
      ]);
      return;
    }
    const params = type.params.safeParse(check.params);
    if (!params.success) {
      for (const issue of params.error.issues) {
        problems.push([at('checks', index, 'params', ...(issue.path as PathPart[])), issue.message]);
      }
    }
    if (check.timeout) {
      try {
        parseDuration(check.timeout);
      } catch (err) {
        problems.push([at('checks', index, 'timeout'), (err as Error).message]);
      }
    }
    problems.push(...placeholderProblems(check.params, at('checks', index, 'params')));
  });
  return problems;
}

function placeholderProblems(value: unknown, where: PathPart[]): Array<[PathPart[], string]> {
  if (typeof value === 'string') {
    return invalidPlaceholders(value).map((bad) => [
      where,
      `${bad} is not a known placeholder (use {{labels.name}}, {{incident.service}} or {{vars.name}})`,
    ]);
  }
  if (Array.isArray(value))
    return value.flatMap((item, index) => placeholderProblems(item, [...where, index]));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => placeholderProblems(item, [...where, key]));
  }
  return [];
}

/** Every check id a condition reads. */
export function conditionChecks(condition: Condition): string[] {
  if ('all' in condition) return condition.all.flatMap(conditionChecks);
  if ('any' in condition) return condition.any.flatMap(conditionChecks);
  if ('not' in condition) return conditionChecks(condition.not);
  return [condition.check];
}

/** Nodes a node can lead to, and whether a person chooses (questions) or the checks do. */
export function edges(node: RunbookNode): Array<{ target: string; automatic: boolean }> {
  if (isConclusion(node)) return [];
  return [
    ...node.outcomes.map((outcome) => ({ target: outcome.next, automatic: true })),
    ...(node.otherwise ? [{ target: node.otherwise, automatic: true }] : []),
    ...(node.question?.answers ?? []).map((answer) => ({ target: answer.next, automatic: false })),
  ];
}

/** Unreachable nodes, nodes from which no conclusion can be reached, and loops no person breaks. */
function shapeProblems(runbook: Runbook): Array<[PathPart[], string]> {
  const problems: Array<[PathPart[], string]> = [];
  const reachable = new Set<string>([runbook.start]);
  const queue = [runbook.start];
  while (queue.length > 0) {
    const current = queue.shift()!;
    for (const { target } of edges(runbook.nodes[current]!)) {
      if (!reachable.has(target)) {
        reachable.add(target);
        queue.push(target);
      }
    }
  }
  const concludes = new Set(Object.keys(runbook.nodes).filter((id) => isConclusion(runbook.nodes[id]!)));
  let grew = true;
  while (grew) {
    grew = false;
    for (const [id, node] of Object.entries(runbook.nodes)) {
      if (!concludes.has(id) && edges(node).some((edge) => concludes.has(edge.target))) {
        concludes.add(id);
        grew = true;
      }
    }
  }
  for (const id of Object.keys(runbook.nodes)) {
    if (!reachable.has(id))
      problems.push([['nodes', id], `unreachable: no path from "${runbook.start}" leads here`]);
    else if (!concludes.has(id))
      problems.push([['nodes', id], 'dead end: no conclusion can be reached from here']);
  }
  const cycle = automaticCycle(runbook);
  if (cycle) problems.push([['nodes', cycle[0]!], `loop without a question: ${cycle.join(' → ')}`]);
  return problems;
}

function automaticCycle(runbook: Runbook): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    state.set(id, 'visiting');
    stack.push(id);
    for (const edge of edges(runbook.nodes[id]!)) {
      if (!edge.automatic) continue;
      if (state.get(edge.target) === 'visiting')
        return [...stack.slice(stack.indexOf(edge.target)), edge.target];
      if (!state.has(edge.target)) {
        const found = visit(edge.target);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of Object.keys(runbook.nodes)) {
    if (!state.has(id)) {
      const found = visit(id);
      if (found) return found;
    }
  }
  return undefined;
}
