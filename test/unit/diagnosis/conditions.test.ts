import { describe, expect, it } from 'vitest';
import type { CheckResult, CheckStatus } from '../../../src/checks/check-type.js';
import { evaluateCondition } from '../../../src/diagnosis/conditions.js';
import type { Condition } from '../../../src/diagnosis/runbook-schema.js';

const result = (status: CheckStatus, value: CheckResult['value'] = null): CheckResult => ({
  status,
  value,
  summary: status,
  evidence: [],
  links: [],
});

const results: Record<string, CheckResult> = {
  evals: result('fail', 0.71),
  hits: result('pass', 0.93),
  spend: result('inconclusive'),
  probe: result('error'),
  model: result('fail', 'gpt-4o-2024-11-20'),
  numeric_text: result('pass', '12'),
  infinite: result('fail', '+Inf'),
};

const holds = (condition: Condition) => evaluateCondition(condition, results);

describe('evaluateCondition', () => {
  it('matches a single status', () => {
    expect(holds({ check: 'evals', status: 'fail' })).toBe(true);
    expect(holds({ check: 'evals', status: 'pass' })).toBe(false);
    expect(holds({ check: 'spend', status: 'inconclusive' })).toBe(true);
    expect(holds({ check: 'probe', status: 'error' })).toBe(true);
  });

  it('matches any status of a list', () => {
    expect(holds({ check: 'spend', status: ['inconclusive', 'error'] })).toBe(true);
    expect(holds({ check: 'probe', status: ['inconclusive', 'error'] })).toBe(true);
    expect(holds({ check: 'hits', status: ['inconclusive', 'error'] })).toBe(false);
  });

  it('compares numeric values with every operator', () => {
    expect(holds({ check: 'evals', value: { op: '<', value: 0.9 } })).toBe(true);
    expect(holds({ check: 'evals', value: { op: '<', value: 0.71 } })).toBe(false);
    expect(holds({ check: 'evals', value: { op: '<=', value: 0.71 } })).toBe(true);
    expect(holds({ check: 'evals', value: { op: '>', value: 0.7 } })).toBe(true);
    expect(holds({ check: 'evals', value: { op: '>', value: 0.71 } })).toBe(false);
    expect(holds({ check: 'evals', value: { op: '>=', value: 0.71 } })).toBe(true);
    expect(holds({ check: 'evals', value: { op: '==', value: 0.71 } })).toBe(true);
    expect(holds({ check: 'evals', value: { op: '!=', value: 0.71 } })).toBe(false);
    expect(holds({ check: 'evals', value: { op: '!=', value: 0.5 } })).toBe(true);
  });

  it('reads numeric strings as numbers', () => {
    expect(holds({ check: 'numeric_text', value: { op: '>', value: 10 } })).toBe(true);
    expect(holds({ check: 'numeric_text', value: { op: '==', value: 12 } })).toBe(true);
  });

  it('reads +Inf, as checks report infinite values, as a number', () => {
    expect(holds({ check: 'infinite', value: { op: '>', value: 1e9 } })).toBe(true);
  });

  it('never matches a numeric comparison on a non-numeric string', () => {
    expect(holds({ check: 'model', value: { op: '>', value: 0 } })).toBe(false);
    expect(holds({ check: 'model', value: { op: '<', value: 0 } })).toBe(false);
    expect(holds({ check: 'model', value: { op: '!=', value: 0 } })).toBe(false);
  });

  it('compares string values for equality only', () => {
    expect(holds({ check: 'model', value: { op: '==', value: 'gpt-4o-2024-11-20' } })).toBe(true);
    expect(holds({ check: 'model', value: { op: '==', value: 'gpt-4o-2024-08-06' } })).toBe(false);
    expect(holds({ check: 'model', value: { op: '!=', value: 'gpt-4o-2024-08-06' } })).toBe(true);
    expect(holds({ check: 'model', value: { op: '>', value: 'a' } })).toBe(false);
    expect(holds({ check: 'numeric_text', value: { op: '==', value: '12' } })).toBe(true);
    expect(holds({ check: 'evals', value: { op: '==', value: '0.71' } })).toBe(true);
  });

  it('never matches a value comparison when the check has no value', () => {
    expect(holds({ check: 'spend', value: { op: '!=', value: 0 } })).toBe(false);
    expect(holds({ check: 'spend', value: { op: '==', value: 0 } })).toBe(false);
    expect(holds({ check: 'probe', value: { op: '!=', value: 'x' } })).toBe(false);
  });

  it('never matches a missing result, whatever the condition', () => {
    for (const status of ['pass', 'fail', 'inconclusive', 'error'] as const) {
      expect(holds({ check: 'absent', status })).toBe(false);
    }
    expect(holds({ check: 'absent', status: ['pass', 'fail', 'inconclusive', 'error'] })).toBe(false);
    expect(holds({ check: 'absent', value: { op: '!=', value: 1 } })).toBe(false);
    expect(evaluateCondition({ check: 'evals', status: 'fail' }, {})).toBe(false);
  });

  it('combines conditions with all, any and not', () => {
    const evalsFail: Condition = { check: 'evals', status: 'fail' };
    const hitsFail: Condition = { check: 'hits', status: 'fail' };
    expect(holds({ all: [evalsFail, { not: hitsFail }] })).toBe(true);
    expect(holds({ all: [evalsFail, hitsFail] })).toBe(false);
    expect(holds({ any: [hitsFail, evalsFail] })).toBe(true);
    expect(holds({ any: [hitsFail, { check: 'spend', status: 'fail' }] })).toBe(false);
    expect(holds({ not: evalsFail })).toBe(false);
    expect(holds({ not: { not: evalsFail } })).toBe(true);
    expect(holds({ any: [{ all: [hitsFail, evalsFail] }, { not: { any: [hitsFail] } }] })).toBe(true);
  });

  it('lets not turn a missing result into a match, as the runbook’s cost branch relies on', () => {
    // `not: {eval_pass fail}` holds when the eval check found no data or did not run at all.
    expect(holds({ not: { check: 'absent', status: 'fail' } })).toBe(true);
    expect(holds({ not: { check: 'spend', status: 'fail' } })).toBe(true);
  });
});
