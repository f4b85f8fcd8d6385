import { describe, expect, it } from 'vitest';
import type { ChangeEventFact } from '../../../src/checks/check-type.js';
import { changesCheck } from '../../../src/checks/types/changes-check.js';
import { InMemoryChangeEvents, NOW, run, testDeps, testIncident } from './fixtures.js';

// The incident started at 11:30; a 2h window opens at 09:30.
let nextId = 1;
function change(at: string, overrides: Partial<ChangeEventFact> = {}): ChangeEventFact {
  return {
    id: nextId++,
    service: 'rag-api',
    kind: 'prompt',
    fromVersion: 'v12',
    toVersion: 'v13',
    author: 'alice',
    at: new Date(at),
    link: null,
    summary: null,
    ...overrides,
  };
}

describe('changes check', () => {
  it('fails on changes in the window, newest first, with links', async () => {
    const changes = new InMemoryChangeEvents([
      change('2026-11-22T10:00:00Z', {
        link: 'https://langfuse.example/prompts/answer/13',
        summary: 'tighter refusal',
      }),
      change('2026-11-22T11:45:00Z', {
        kind: 'model',
        fromVersion: 'gpt-4o-2024-08-06',
        toVersion: 'gpt-4o-2024-11-20',
        author: null,
      }),
      change('2026-11-22T11:00:00Z', { kind: 'code' }),
    ]);
    const result = await run(
      changesCheck,
      { kinds: ['prompt', 'model'], window: '2h' },
      testDeps({ changes }),
    );
    expect(result).toMatchObject({ status: 'fail', value: 2 });
    expect(result.summary).toBe(
      '2 changes to rag-api since 2h before the incident started; latest: model gpt-4o-2024-08-06→gpt-4o-2024-11-20 at 2026-11-22T11:45:00Z',
    );
    expect(result.evidence).toEqual([
      { label: 'rag-api model', value: 'model gpt-4o-2024-08-06→gpt-4o-2024-11-20 at 2026-11-22T11:45:00Z' },
      { label: 'rag-api prompt', value: 'prompt v12→v13 by alice at 2026-11-22T10:00:00Z: tighter refusal' },
    ]);
    expect(result.links).toEqual([
      { label: 'prompt change v13', url: 'https://langfuse.example/prompts/answer/13' },
    ]);
  });

  it('passes when nothing changed', async () => {
    const result = await run(changesCheck, { kinds: ['index', 'embedding'], window: '30m' }, testDeps());
    expect(result).toMatchObject({
      status: 'pass',
      value: 0,
      summary: 'no index/embedding changes to rag-api since 30m before the incident started',
    });
  });

  it('reads from window before the start up to now, bounds included', async () => {
    const changes = new InMemoryChangeEvents([
      change('2026-11-22T09:29:59.999Z', { toVersion: 'too-early' }),
      change('2026-11-22T09:30:00Z', { toVersion: 'first' }),
      change('2026-11-22T12:00:00Z', { toVersion: 'last' }),
      change('2026-11-22T12:00:00.001Z', { toVersion: 'too-late' }),
    ]);
    const result = await run(changesCheck, { kinds: ['prompt'], window: '2h' }, testDeps({ changes }));
    expect(result.value).toBe(2);
    expect(changes.filters).toEqual([
      { service: 'rag-api', kinds: ['prompt'], from: new Date('2026-11-22T09:30:00Z'), to: NOW },
    ]);
  });

  it('takes the service from a template, or looks at every service without one', async () => {
    const changes = new InMemoryChangeEvents([change('2026-11-22T11:00:00Z', { service: 'retriever' })]);
    const incident = testIncident({ labels: { service: 'rag-api', upstream: 'retriever' } });
    const result = await run(
      changesCheck,
      { kinds: ['prompt'], window: '2h', service: '{{labels.upstream}}' },
      testDeps({ changes }),
      { incident },
    );
    expect(result.status).toBe('fail');
    await run(changesCheck, { kinds: ['prompt'], window: '2h' }, testDeps({ changes }), {
      incident: testIncident({ service: null, labels: {} }),
    });
    expect(changes.filters.at(-1)?.service).toBeNull();
  });

  it('refuses unknown kinds and empty kind lists', async () => {
    for (const kinds of [[], ['schema']]) {
      const result = await run(changesCheck, { kinds, window: '2h' }, testDeps());
      expect(result.summary).toMatch(/^invalid params: kinds/);
    }
  });
});
