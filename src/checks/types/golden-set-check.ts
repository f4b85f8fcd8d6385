import { z } from 'zod';
import type { CheckEvidence, CheckResult, CheckType, GoldenBaseline } from '../check-type.js';
import { errorResult } from '../check-type.js';
import { formatNumber } from './threshold.js';

const CONCURRENCY = 4;
const MAX_FAILED_CASES_SHOWN = 10;
// Pass rates are ratios of small counts; 0.8 - 0.7 is 0.10000000000000009 in floating point.
const EPSILON = 1e-9;

const expectation = z
  .strictObject({
    type: z.enum(['exact', 'contains', 'regex', 'f1']),
    value: z.string(),
    /** For `f1`: the token F1 an answer needs to pass. */
    min_f1: z.number().min(0).max(1).default(0.6),
    case_insensitive: z.boolean().default(false),
  })
  .superRefine((expect, ctx) => {
    if (expect.type !== 'regex') return;
    try {
      new RegExp(expect.value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `invalid regex: ${(err as Error).message}` });
    }
  });
type GoldenExpectation = z.infer<typeof expectation>;

const params = z.strictObject({
  /** Names the set; its baseline is stored under this key. */
  set: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, 'must be letters, digits, _ . : or -'),
  model: z.string().min(1),
  system: z.string().min(1).optional(),
  temperature: z.number().min(0).max(2).default(0),
  /** Runs per case: temperature 0 is not deterministic, so one run proves little. */
  runs: z.number().int().min(1).max(20).default(3),
  cases: z
    .array(z.strictObject({ id: z.string().min(1).max(100), prompt: z.string().min(1), expect: expectation }))
    .min(1)
    .max(200)
    .refine((cases) => new Set(cases.map((c) => c.id)).size === cases.length, 'case ids must be unique'),
  /** How far the pass rate may fall below the baseline's before the check fails. */
  max_drop: z.number().min(0).max(1).default(0.1),
  /** A floor that holds with or without a baseline. */
  min_pass_rate: z.number().min(0).max(1).optional(),
});
/** Validated params of the check, defaults applied. */
export type GoldenSetParams = z.infer<typeof params>;

/** SQuAD's answer normalisation: lowercase, no punctuation or articles, single spaces. */
function tokens(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, ' ')
    .replace(/\b(a|an|the)\b/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
}

/** SQuAD-style token F1 between an answer and the expected text. */
export function tokenF1(answer: string, expected: string): number {
  const predicted = tokens(answer);
  const gold = tokens(expected);
  if (predicted.length === 0 || gold.length === 0) return predicted.length === gold.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const token of gold) counts.set(token, (counts.get(token) ?? 0) + 1);
  let same = 0;
  for (const token of predicted) {
    const left = counts.get(token) ?? 0;
    if (left > 0) {
      same++;
      counts.set(token, left - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / predicted.length;
  const recall = same / gold.length;
  return (2 * precision * recall) / (precision + recall);
}

function answerPasses(answer: string, expect: GoldenExpectation): boolean {
  const fold = (text: string) => (expect.case_insensitive ? text.toLowerCase() : text);
  switch (expect.type) {
    case 'exact':
      return fold(answer.trim()) === fold(expect.value.trim());
    case 'contains':
      return fold(answer).includes(fold(expect.value));
    case 'regex':
      return new RegExp(expect.value, expect.case_insensitive ? 'i' : '').test(answer);
    case 'f1':
      return tokenF1(answer, expect.value) >= expect.min_f1;
  }
}

/** The endpoint refused or failed a call; the whole run is void, because partial rates mislead. */
class LlmCallError extends Error {}

interface Completion {
  content: string;
  model: string | null;
  fingerprint: string | null;
}

interface ChatCompletionBody {
  model?: string;
  system_fingerprint?: string | null;
  choices?: Array<{ message?: { content?: string | null } }>;
  error?: { message?: string };
}

async function complete(
  fetchFn: typeof fetch,
  endpoint: { baseUrl: string; apiKey: string | undefined },
  body: Record<string, unknown>,
  signal: AbortSignal,
): Promise<Completion> {
  let response: Response;
  try {
    response = await fetchFn(`${endpoint.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(endpoint.apiKey ? { authorization: `Bearer ${endpoint.apiKey}` } : {}),
      },
      body: JSON.stringify(body),
      signal,
    });
  } catch (err) {
    if (signal.aborted) throw err;
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new LlmCallError(`could not reach the LLM endpoint at ${endpoint.baseUrl}: ${cause}`);
  }
  const text = await response.text();
  let parsed: ChatCompletionBody | undefined;
  try {
    parsed = JSON.parse(text) as ChatCompletionBody;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const detail = parsed?.error?.message ?? text.replace(/\s+/g, ' ').trim();
    throw new LlmCallError(
      `LLM endpoint answered HTTP ${response.status}${detail ? `: ${detail.slice(0, 160)}` : ''}`,
    );
  }
  const choice = parsed?.choices?.[0];
  if (!choice) throw new LlmCallError('LLM endpoint answered without choices');
  return {
    content: choice.message?.content ?? '',
    model: parsed?.model ?? null,
    fingerprint: parsed?.system_fingerprint ?? null,
  };
}

/** Runs `fn` over `items`, at most `limit` at a time; the first failure stops the rest. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal,
  fn: (item: T, signal: AbortSignal) => Promise<R>,
): Promise<R[]> {
  const stop = new AbortController();
  const either = AbortSignal.any([signal, stop.signal]);
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      either.throwIfAborted();
      const index = next++;
      try {
        results[index] = await fn(items[index]!, either);
      } catch (err) {
        stop.abort(err);
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function distinct(values: ReadonlyArray<string | null>): string[] {
  return [...new Set(values.filter((value): value is string => value !== null))].sort();
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value) => b.includes(value));
}

function versus(
  what: string,
  now: string[],
  baseline: GoldenBaseline | undefined,
  key: 'models' | 'fingerprints',
) {
  const list = (values: readonly string[]) => (values.length > 0 ? values.join(', ') : 'not reported');
  const evidence: CheckEvidence[] = [{ label: what, value: list(now) }];
  if (!baseline) return { changed: false, evidence };
  const changed = !sameSet(now, baseline[key]);
  evidence.push({
    label: `${what} vs baseline`,
    value: changed ? `changed: ${list(baseline[key])} → ${list(now)}` : 'same',
  });
  return { changed, evidence };
}

/**
 * Known prompts sent to the model through an OpenAI-compatible endpoint, several runs each,
 * scored and compared with the set's stored baseline pass rate. The first run of a set records
 * that baseline, the one write a check makes; it is insert-if-absent, so re-running is harmless.
 */
export const goldenSetCheck: CheckType<GoldenSetParams> = {
  type: 'golden_set',
  description: 'Run a golden set of prompts against the model and compare the pass rate with a baseline',
  params,
  defaultTimeoutMs: 120_000,
  async run({ params, now, signal, deps }): Promise<CheckResult> {
    const baseUrl = deps.llm.baseUrl?.replace(/\/+$/, '');
    if (!baseUrl) return errorResult('no LLM endpoint is configured');
    const runs = params.cases.flatMap((testCase) => Array.from({ length: params.runs }, () => testCase));
    let completions: Completion[];
    try {
      completions = await mapLimited(runs, CONCURRENCY, signal, (testCase, callSignal) =>
        complete(
          deps.fetch,
          { baseUrl, apiKey: deps.llm.apiKey },
          {
            model: params.model,
            temperature: params.temperature,
            messages: [
              ...(params.system ? [{ role: 'system', content: params.system }] : []),
              { role: 'user', content: testCase.prompt },
            ],
          },
          callSignal,
        ),
      );
    } catch (err) {
      if (err instanceof LlmCallError) return errorResult(err.message);
      throw err;
    }

    const passedRuns = new Map<string, number>();
    const failedExample = new Map<string, string>();
    completions.forEach((completion, index) => {
      const testCase = runs[index]!;
      if (answerPasses(completion.content, testCase.expect)) {
        passedRuns.set(testCase.id, (passedRuns.get(testCase.id) ?? 0) + 1);
      } else if (!failedExample.has(testCase.id)) {
        failedExample.set(testCase.id, completion.content);
      }
    });
    const passed = [...passedRuns.values()].reduce((sum, count) => sum + count, 0);
    const passRate = passed / runs.length;
    const models = distinct(completions.map((completion) => completion.model));
    const fingerprints = distinct(completions.map((completion) => completion.fingerprint));

    const baseline = await deps.goldenBaselines.get(params.set);
    const model = versus('models', models, baseline, 'models');
    const fingerprint = versus('fingerprints', fingerprints, baseline, 'fingerprints');
    const failedCases = params.cases.filter((testCase) => failedExample.has(testCase.id));
    const evidence: CheckEvidence[] = [
      { label: 'pass rate', value: `${formatNumber(passRate)} (${passed}/${runs.length} runs)` },
      ...(baseline
        ? [
            {
              label: 'baseline',
              value: `${formatNumber(baseline.passRate)} at ${baseline.recordedAt.toISOString()}`,
            },
          ]
        : []),
      ...model.evidence,
      ...fingerprint.evidence,
      ...failedCases.slice(0, MAX_FAILED_CASES_SHOWN).map((testCase) => ({
        label: `case ${testCase.id}`,
        value: `${passedRuns.get(testCase.id) ?? 0}/${params.runs} runs passed; e.g. ${JSON.stringify(failedExample.get(testCase.id)!.slice(0, 100))}`,
      })),
    ];
    if (failedCases.length > MAX_FAILED_CASES_SHOWN) {
      evidence.push({
        label: '…',
        value: `${failedCases.length - MAX_FAILED_CASES_SHOWN} more failing cases`,
      });
    }

    const name = `golden set ${params.set} pass rate ${formatNumber(passRate)}`;
    const changed = [model.changed ? 'model' : '', fingerprint.changed ? 'fingerprint' : ''].filter(Boolean);
    const drift = changed.length > 0 ? `; ${changed.join(' and ')} changed since baseline` : '';
    const belowFloor = params.min_pass_rate !== undefined && passRate < params.min_pass_rate - EPSILON;
    const floor = belowFloor ? ` < minimum ${formatNumber(params.min_pass_rate!)}` : '';
    const result = (status: CheckResult['status'], summary: string): CheckResult => ({
      status,
      value: passRate,
      summary,
      evidence,
      links: [],
    });

    if (!baseline) {
      // A failing first run must not become the yardstick for later ones.
      if (belowFloor) return result('fail', `${name}${floor} (no baseline recorded)`);
      await deps.goldenBaselines.save(params.set, { passRate, models, fingerprints, recordedAt: now });
      return result('inconclusive', `baseline recorded: ${name} (${passed}/${runs.length} runs)`);
    }
    const drop = baseline.passRate - passRate;
    if (drop > params.max_drop + EPSILON) {
      return result(
        'fail',
        `${name}, down ${formatNumber(drop)} from baseline ${formatNumber(baseline.passRate)} (allowed ${formatNumber(params.max_drop)})${drift}`,
      );
    }
    if (belowFloor) return result('fail', `${name}${floor}${drift}`);
    return result('pass', `${name} (baseline ${formatNumber(baseline.passRate)})${drift}`);
  },
};
