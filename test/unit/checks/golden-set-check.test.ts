import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CheckDependencies } from '../../../src/checks/check-type.js';
import { goldenSetCheck, tokenF1 } from '../../../src/checks/types/golden-set-check.js';
import { LLM_STAND_IN_KEY, type LlmStandIn, startLlmStandIn } from '../../support/llm-stand-in.js';
import { closedPort, InMemoryGoldenBaselines, NOW, run, testDeps } from './fixtures.js';

let llm: LlmStandIn;
let baselines: InMemoryGoldenBaselines;
let deps: CheckDependencies;

beforeEach(async () => {
  llm = await startLlmStandIn();
  baselines = new InMemoryGoldenBaselines();
  deps = testDeps({ llm: { baseUrl: llm.baseUrl, apiKey: LLM_STAND_IN_KEY }, goldenBaselines: baselines });
});
afterEach(() => llm.close());

const CAPITAL = {
  id: 'capital',
  prompt: 'Capital of France?',
  expect: { type: 'contains', value: 'paris', case_insensitive: true },
};
const REFUND = {
  id: 'refund',
  prompt: 'How long do refunds take?',
  expect: { type: 'f1', value: 'Refunds are processed within 5 business days.' },
};
const params = { set: 'support_qa', model: 'gpt-4o', system: 'Answer briefly.', cases: [CAPITAL, REFUND] };

function goodAnswers() {
  llm.answer(CAPITAL.prompt, { content: 'The capital is Paris.' });
  llm.answer(REFUND.prompt, { content: 'Refunds are processed within five business days.' });
}

describe('golden_set check', () => {
  it('records the first run as the baseline, with the models and fingerprints that answered', async () => {
    goodAnswers();
    const result = await run(goldenSetCheck, params, deps);
    expect(result).toMatchObject({
      status: 'inconclusive',
      value: 1,
      summary: 'baseline recorded: golden set support_qa pass rate 1 (6/6 runs)',
    });
    expect(baselines.baselines.get('support_qa')).toEqual({
      passRate: 1,
      models: ['gpt-4o-2024-08-06'],
      fingerprints: ['fp_stand_in_1'],
      recordedAt: NOW,
    });
    expect(result.evidence).toContainEqual({ label: 'models', value: 'gpt-4o-2024-08-06' });
    expect(result.evidence).toContainEqual({ label: 'fingerprints', value: 'fp_stand_in_1' });
    expect(llm.requests).toHaveLength(6);
    expect(llm.requests[0]).toMatchObject({ model: 'gpt-4o', system: 'Answer briefly.', temperature: 0 });
  });

  it('passes when the pass rate holds against the baseline', async () => {
    goodAnswers();
    await baselines.save('support_qa', {
      passRate: 1,
      models: ['gpt-4o-2024-08-06'],
      fingerprints: ['fp_stand_in_1'],
      recordedAt: new Date('2026-11-01T00:00:00Z'),
    });
    const result = await run(goldenSetCheck, params, deps);
    expect(result).toMatchObject({
      status: 'pass',
      summary: 'golden set support_qa pass rate 1 (baseline 1)',
    });
    expect(result.evidence).toContainEqual({ label: 'models vs baseline', value: 'same' });
    expect(baselines.saves).toBe(1);
  });

  it('counts each run of a nondeterministic case, and fails on a drop beyond max_drop', async () => {
    llm.answer(CAPITAL.prompt, [{ content: 'Paris.' }, { content: 'Lyon.' }]);
    llm.answer(REFUND.prompt, { content: 'Refunds are processed within 5 business days.' });
    await baselines.save('support_qa', {
      passRate: 1,
      models: ['gpt-4o-2024-08-06'],
      fingerprints: ['fp_stand_in_1'],
      recordedAt: new Date('2026-11-01T00:00:00Z'),
    });
    const result = await run(goldenSetCheck, { ...params, runs: 4 }, deps);
    expect(result).toMatchObject({
      status: 'fail',
      value: 0.75,
      summary: 'golden set support_qa pass rate 0.75, down 0.25 from baseline 1 (allowed 0.1)',
    });
    expect(result.evidence).toContainEqual({ label: 'case capital', value: '2/4 runs passed; e.g. "Lyon."' });
  });

  it('tolerates a drop of exactly max_drop', async () => {
    llm.answer(CAPITAL.prompt, [
      { content: 'Paris' },
      { content: 'Paris' },
      { content: 'Rome' },
      { content: 'Paris' },
      { content: 'Paris' },
    ]);
    await baselines.save('support_qa', { passRate: 0.9, models: [], fingerprints: [], recordedAt: NOW });
    const result = await run(goldenSetCheck, { ...params, cases: [CAPITAL], runs: 5, max_drop: 0.1 }, deps);
    expect(result).toMatchObject({ status: 'pass', value: 0.8 });
  });

  it('says when the model or fingerprint changed since the baseline', async () => {
    goodAnswers();
    llm.serve('gpt-4o-2024-11-20', 'fp_new');
    await baselines.save('support_qa', {
      passRate: 1,
      models: ['gpt-4o-2024-08-06'],
      fingerprints: ['fp_stand_in_1'],
      recordedAt: NOW,
    });
    const result = await run(goldenSetCheck, params, deps);
    expect(result.status).toBe('pass');
    expect(result.summary).toBe(
      'golden set support_qa pass rate 1 (baseline 1); model and fingerprint changed since baseline',
    );
    expect(result.evidence).toContainEqual({
      label: 'models vs baseline',
      value: 'changed: gpt-4o-2024-08-06 → gpt-4o-2024-11-20',
    });
    expect(result.evidence).toContainEqual({
      label: 'fingerprints vs baseline',
      value: 'changed: fp_stand_in_1 → fp_new',
    });
  });

  it('lists every distinct model and fingerprint, and copes with providers that report none', async () => {
    llm.answer(CAPITAL.prompt, [
      { content: 'Paris', model: 'm-1', systemFingerprint: null },
      { content: 'Paris', model: 'm-2', systemFingerprint: null },
    ]);
    const result = await run(goldenSetCheck, { ...params, cases: [CAPITAL], runs: 2 }, deps);
    expect(result.evidence).toContainEqual({ label: 'models', value: 'm-1, m-2' });
    expect(result.evidence).toContainEqual({ label: 'fingerprints', value: 'not reported' });
    expect(baselines.baselines.get('support_qa')?.fingerprints).toEqual([]);
  });

  it('scores exact, contains, regex and f1 expectations', async () => {
    const cases = [
      { id: 'exact', prompt: 'p1', expect: { type: 'exact', value: 'YES' } },
      { id: 'exact_ci', prompt: 'p2', expect: { type: 'exact', value: 'YES', case_insensitive: true } },
      { id: 'contains', prompt: 'p3', expect: { type: 'contains', value: 'Paris' } },
      { id: 'regex', prompt: 'p4', expect: { type: 'regex', value: '^\\d{3}-\\d{4}$' } },
      { id: 'f1_close', prompt: 'p5', expect: { type: 'f1', value: 'the Eiffel Tower in Paris' } },
      { id: 'f1_far', prompt: 'p6', expect: { type: 'f1', value: 'the Eiffel Tower in Paris', min_f1: 0.9 } },
    ];
    llm.answer('p1', { content: ' yes ' });
    llm.answer('p2', { content: ' yes ' });
    llm.answer('p3', { content: 'It is paris.' });
    llm.answer('p4', { content: '555-1234' });
    llm.answer('p5', { content: 'Eiffel Tower, Paris!' });
    llm.answer('p6', { content: 'Eiffel Tower, Paris!' });
    const result = await run(goldenSetCheck, { ...params, cases, runs: 1 }, deps);
    const failed = result.evidence.filter((item) => item.label.startsWith('case ')).map((item) => item.label);
    // f1_far: tokens eiffel tower paris vs eiffel tower in paris → F1 0.857 < 0.9.
    expect(failed).toEqual(['case exact', 'case contains', 'case f1_far']);
    expect(result.value).toBe(0.5);
  });

  it('fails a first run below min_pass_rate without making it the baseline', async () => {
    llm.answer(CAPITAL.prompt, { content: 'Lyon' });
    const result = await run(goldenSetCheck, { ...params, cases: [CAPITAL], min_pass_rate: 0.8 }, deps);
    expect(result).toMatchObject({
      status: 'fail',
      value: 0,
      summary: 'golden set support_qa pass rate 0 < minimum 0.8 (no baseline recorded)',
    });
    expect(baselines.baselines.size).toBe(0);
  });

  it('sends at most four requests at a time', async () => {
    llm.answer(/./, { delayMs: 30, answer: { content: 'Paris' } });
    await run(goldenSetCheck, { ...params, cases: [CAPITAL], runs: 12 }, deps);
    expect(llm.requests).toHaveLength(12);
    expect(llm.maxInFlight).toBe(4);
  });

  it('errors on a 5xx, a refused key or an unreachable endpoint, recording nothing', async () => {
    llm.answer(CAPITAL.prompt, [{ content: 'Paris' }, { status: 500, message: 'upstream overloaded' }]);
    const failed = await run(goldenSetCheck, { ...params, cases: [CAPITAL], runs: 6 }, deps);
    expect(failed).toMatchObject({
      status: 'error',
      summary: 'LLM endpoint answered HTTP 500: upstream overloaded',
    });
    expect(llm.requests.length).toBeLessThanOrEqual(5);

    const wrongKey = testDeps({
      llm: { baseUrl: llm.baseUrl, apiKey: 'sk-wrong' },
      goldenBaselines: baselines,
    });
    expect(await run(goldenSetCheck, params, wrongKey)).toMatchObject({
      status: 'error',
      summary: 'LLM endpoint answered HTTP 401: Incorrect API key provided',
    });

    const url = `http://127.0.0.1:${await closedPort()}/v1`;
    const down = testDeps({ llm: { baseUrl: url, apiKey: 'k' }, goldenBaselines: baselines });
    expect((await run(goldenSetCheck, params, down)).summary).toBe(
      `could not reach the LLM endpoint at ${url}: ECONNREFUSED`,
    );
    expect(await run(goldenSetCheck, params, testDeps())).toMatchObject({
      summary: 'no LLM endpoint is configured',
    });
    expect(baselines.baselines.size).toBe(0);
  });

  it('stops calling the model when it times out', async () => {
    llm.answer(/./, { delayMs: 300, answer: { content: 'Paris' } });
    const result = await run(goldenSetCheck, { ...params, runs: 10 }, deps, { timeoutMs: 100 });
    expect(result).toMatchObject({ status: 'error', summary: 'timed out after 100ms' });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(llm.requests).toHaveLength(4);
    expect(baselines.baselines.size).toBe(0);
  });

  it('refuses an invalid regex and duplicate case ids when the runbook loads', async () => {
    const badRegex = { ...params, cases: [{ id: 'r', prompt: 'p', expect: { type: 'regex', value: '(' } }] };
    expect((await run(goldenSetCheck, badRegex, deps)).summary).toMatch(
      /cases\.0\.expect\.value: invalid regex/,
    );
    const dup = { ...params, cases: [CAPITAL, CAPITAL] };
    expect((await run(goldenSetCheck, dup, deps)).summary).toMatch(/case ids must be unique/);
  });
});

describe('tokenF1', () => {
  it('scores like SQuAD: lowercase, no punctuation or articles, token overlap', () => {
    expect(tokenF1('The Eiffel Tower!', 'eiffel tower')).toBe(1);
    expect(tokenF1('Paris', 'London')).toBe(0);
    expect(tokenF1('in Paris France', 'Paris')).toBeCloseTo(0.5, 9);
    expect(tokenF1('', '')).toBe(1);
    expect(tokenF1('the', 'Paris')).toBe(0);
  });
});
