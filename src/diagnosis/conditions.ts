import type { CheckResult } from '../checks/check-type.js';
import type { Condition } from './runbook-schema.js';

/** Evaluates a runbook condition against a node's check results. A missing result never matches. */
export function evaluateCondition(
  condition: Condition,
  results: Readonly<Record<string, CheckResult>>,
): boolean {
  if ('all' in condition) return condition.all.every((inner) => evaluateCondition(inner, results));
  if ('any' in condition) return condition.any.some((inner) => evaluateCondition(inner, results));
  if ('not' in condition) return !evaluateCondition(condition.not, results);
  const result = results[condition.check];
  if (!result) return false;
  if ('status' in condition) {
    const wanted = Array.isArray(condition.status) ? condition.status : [condition.status];
    return wanted.includes(result.status);
  }
  return compare(result.value, condition.value.op, condition.value.value);
}

function compare(actual: number | string | null, op: string, expected: number | string): boolean {
  if (actual === null) return false;
  if (typeof expected === 'number') {
    // Checks store infinities as the strings '+Inf' / '-Inf' so they survive JSON.
    const value =
      typeof actual === 'number'
        ? actual
        : Number(actual.replace(/^\+?Inf$/, 'Infinity').replace(/^-Inf$/, '-Infinity'));
    if (Number.isNaN(value)) return false;
    switch (op) {
      case '<':
        return value < expected;
      case '<=':
        return value <= expected;
      case '>':
        return value > expected;
      case '>=':
        return value >= expected;
      case '==':
        return value === expected;
      default:
        return value !== expected;
    }
  }
  if (op === '==') return String(actual) === expected;
  if (op === '!=') return String(actual) !== expected;
  return false;
}
