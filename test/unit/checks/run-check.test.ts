import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createCheckRegistry } from '../../../src/checks/built-in-checks.js';
import { CheckRegistry } from '../../../src/checks/check-registry.js';
import type { CheckResult, CheckType } from '../../../src/checks/check-type.js';
import { runCheck, runChecks } from '../../../src/checks/run-check.js';
import { evaluateThreshold } from '../../../src/checks/types/threshold.js';
import { NOW, silentLogger, testDeps, testIncident } from './fixtures.js';

const ctx = { incident: testIncident(), now: NOW, logger: silentLogger, deps: testDeps() };

function passAfter(ms: number, value = ms): CheckResult {
  return { status: 'pass', value, summary: `done after ${ms}ms`, evidence: [], links: [] };
}

/** Waits `ms` (honouring the signal unless told not to), then passes. */
const sleeper: CheckType<{ ms: number; ignoreSignal: boolean }> = {
  type: 'sleep',
  description: 'test check',
  params: z.strictObject({ ms: z.number().int().min(0), ignoreSignal: z.boolean().default(false) }),
  defaultTimeoutMs: 1_000,
  run: ({ params, signal }) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve(passAfter(params.ms)), params.ms);
      if (!params.ignoreSignal) {
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(signal.reason);
        });
      }
    }),
};

const thrower: CheckType<Record<string, never>> = {
  type: 'throw',
  description: 'test check',
  params: z.strictObject({}),
  defaultTimeoutMs: 1_000,
  run: async () => {
    throw new Error('boom');
  },
};

describe('runCheck', () => {
  it('returns the check result for valid params', async () => {
    expect(await runCheck(sleeper as CheckType<unknown>, { params: { ms: 5 } }, ctx)).toMatchObject({
      status: 'pass',
      value: 5,
    });
  });

  it('turns a timeout into an error, even when the check ignores its signal', async () => {
    for (const ignoreSignal of [false, true]) {
      const started = Date.now();
      const result = await runCheck(
        sleeper as CheckType<unknown>,
        { params: { ms: 5_000, ignoreSignal }, timeoutMs: 100 },
        ctx,
      );
      expect(result).toMatchObject({ status: 'error', value: null, summary: 'timed out after 100ms' });
      expect(Date.now() - started).toBeLessThan(1_000);
    }
    const defaultTimeout = await runCheck(sleeper as CheckType<unknown>, { params: { ms: 5_000 } }, ctx);
    expect(defaultTimeout.summary).toBe('timed out after 1s');
  });

  it('turns thrown errors and bad params into error results', async () => {
    expect(await runCheck(thrower as CheckType<unknown>, { params: {} }, ctx)).toMatchObject({
      status: 'error',
      summary: 'check failed: boom',
    });
    expect(await runCheck(sleeper as CheckType<unknown>, { params: { ms: 'soon' } }, ctx)).toMatchObject({
      status: 'error',
      summary: 'invalid params: ms: Invalid input: expected number, received string',
    });
  });

  it('stops when the parent signal aborts', async () => {
    const parent = new AbortController();
    const running = runCheck(sleeper as CheckType<unknown>, { params: { ms: 5_000 } }, ctx, parent.signal);
    parent.abort();
    expect(await running).toMatchObject({ status: 'error', summary: 'cancelled' });
    expect(
      await runCheck(sleeper as CheckType<unknown>, { params: { ms: 1 } }, ctx, parent.signal),
    ).toMatchObject({
      status: 'error',
      summary: 'cancelled before it ran',
    });
  });
});

describe('runChecks', () => {
  it('runs a node’s checks in parallel and reports each as it finishes', async () => {
    const registry = new CheckRegistry([sleeper, thrower] as CheckType<never>[]);
    const reported: string[] = [];
    const started = Date.now();
    const results = await runChecks(
      registry,
      [
        { id: 'slow', type: 'sleep', params: { ms: 150 } },
        { id: 'fast', type: 'sleep', params: { ms: 10 } },
        { id: 'bad', type: 'throw', params: {} },
        { id: 'late', type: 'sleep', timeout: '50ms', params: { ms: 1_000 } },
        { id: 'typo', type: 'sleeep', params: {} },
      ],
      ctx,
      { onResult: (id) => void reported.push(id) },
    );
    expect(Date.now() - started).toBeLessThan(400);
    expect(reported.slice(0, 2).sort()).toEqual(['bad', 'typo']);
    expect(reported.slice(2)).toEqual(['fast', 'late', 'slow']);
    expect(Object.keys(results)).toEqual(['slow', 'fast', 'bad', 'late', 'typo']);
    expect(results.slow?.status).toBe('pass');
    expect(results.late?.summary).toBe('timed out after 50ms');
    expect(results.typo?.summary).toBe('unknown check type "sleeep"');
  });

  it('still resolves with every result when reporting one fails', async () => {
    const registry = new CheckRegistry([sleeper] as CheckType<never>[]);
    const results = await runChecks(
      registry,
      [
        { id: 'a', type: 'sleep', params: { ms: 1 } },
        { id: 'b', type: 'sleep', params: { ms: 5 } },
      ],
      ctx,
      {
        onResult: async (id) => {
          if (id === 'a') throw new Error('database down');
        },
      },
    );
    expect(Object.keys(results)).toEqual(['a', 'b']);
  });

  it('cancels a node of many checks through one listener on the caller’s signal, without a leak warning', async () => {
    const registry = new CheckRegistry([sleeper] as CheckType<never>[]);
    const parent = new AbortController();
    // The caller listens too, as XState does on the signal it gives an invoked promise.
    parent.signal.addEventListener('abort', () => {});
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const running = runChecks(
        registry,
        Array.from({ length: 12 }, (_, i) => ({ id: `c${i}`, type: 'sleep', params: { ms: 5_000 } })),
        ctx,
        { signal: parent.signal },
      );
      parent.abort();
      const results = await running;
      expect(Object.values(results).map((result) => result.summary)).toEqual(Array(12).fill('cancelled'));
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.map((warning) => warning.name)).not.toContain('MaxListenersExceededWarning');
  });
});

describe('built-in checks', () => {
  it('registers every shipped type once', () => {
    expect(createCheckRegistry().list()).toEqual([
      'changes',
      'fingerprint',
      'golden_set',
      'http',
      'prometheus',
      'prometheus_compare',
    ]);
  });
});

describe('evaluateThreshold', () => {
  it('reads as "healthy when value <op> threshold" and never calls NaN healthy', () => {
    expect(evaluateThreshold(0.95, { op: '>=', value: 0.9 })).toBe(true);
    expect(evaluateThreshold(0.9, { op: '>', value: 0.9 })).toBe(false);
    expect(evaluateThreshold(3, { op: '!=', value: 0 })).toBe(true);
    expect(evaluateThreshold(Number.NaN, { op: '!=', value: 0 })).toBe(false);
    expect(evaluateThreshold(Number.NaN, { op: '<', value: 1 })).toBe(false);
  });
});
