import { describe, expect, it } from 'vitest';
import { RunbookLibrary } from '../../../src/diagnosis/runbook-library.js';
import type { LoadedRunbook } from '../../../src/diagnosis/runbook-loader.js';
import type { Runbook } from '../../../src/diagnosis/runbook-schema.js';

function loaded(id: string, match: Runbook['match'] = {}, priority = 0): LoadedRunbook {
  return {
    file: `runbooks/${id}.yaml`,
    version: 'abc123abc123',
    runbook: {
      id,
      title: id,
      match,
      priority,
      vars: {},
      start: 'done',
      nodes: {
        done: {
          title: 'Done',
          checks: [],
          conclusion: { layer: 'unknown', class: 'infrastructure', hypothesis: 'h', actions: [] },
        },
      },
    },
  };
}

const selected = (library: RunbookLibrary, labels: Parameters<RunbookLibrary['select']>[0]) =>
  library.select(labels)?.runbook.id;

describe('RunbookLibrary', () => {
  it('lists and gets runbooks by id', () => {
    const library = new RunbookLibrary([loaded('a'), loaded('b')]);
    expect(library.list().map((l) => l.runbook.id)).toEqual(['a', 'b']);
    expect(library.get('b')?.runbook.id).toBe('b');
    expect(library.get('c')).toBeUndefined();
  });

  it('matches a catch-all runbook to any incident, even one without labels', () => {
    const library = new RunbookLibrary([loaded('catch_all')]);
    expect(selected(library, {})).toBe('catch_all');
    expect(selected(library, { alertname: 'X', layer: 'retrieval', service: 'svc' })).toBe('catch_all');
  });

  it('prefers the more specific match when priorities are equal', () => {
    const library = new RunbookLibrary([
      loaded('catch_all'),
      loaded('by_layer', { layer: 'retrieval' }),
      loaded('by_layer_and_service', { layer: 'retrieval', service: 'rag-api' }),
    ]);
    expect(selected(library, { layer: 'retrieval', service: 'rag-api' })).toBe('by_layer_and_service');
    expect(selected(library, { layer: 'retrieval', service: 'other' })).toBe('by_layer');
    expect(selected(library, { layer: 'generation', service: 'rag-api' })).toBe('catch_all');
  });

  it('lets a higher priority win over specificity', () => {
    const library = new RunbookLibrary([
      loaded('specific', { alertname: 'EvalPassRateLow', layer: 'generation', service: 'rag-api' }),
      loaded('urgent', {}, 10),
    ]);
    expect(selected(library, { alertname: 'EvalPassRateLow', layer: 'generation', service: 'rag-api' })).toBe(
      'urgent',
    );
    const lowered = new RunbookLibrary([
      loaded('specific', { service: 'rag-api' }),
      loaded('demoted', {}, -1),
    ]);
    expect(selected(lowered, { service: 'other' })).toBe('demoted');
  });

  it('matches list matchers when any value matches', () => {
    const library = new RunbookLibrary([
      loaded('rag', { service: ['rag-api', 'search-api'], alertname: ['RetrievalHitRateLow'] }),
      loaded('fallback', { layer: 'retrieval' }),
    ]);
    expect(
      selected(library, { service: 'search-api', alertname: 'RetrievalHitRateLow', layer: 'retrieval' }),
    ).toBe('rag');
    expect(
      selected(library, { service: 'chat-api', alertname: 'RetrievalHitRateLow', layer: 'retrieval' }),
    ).toBe('fallback');
  });

  it('does not match a runbook that needs a label the incident lacks', () => {
    const library = new RunbookLibrary([loaded('by_service', { service: 'rag-api' })]);
    expect(library.select({ alertname: 'X' })).toBeUndefined();
  });

  it('returns undefined when nothing matches', () => {
    const library = new RunbookLibrary([
      loaded('a', { layer: 'cost' }),
      loaded('b', { alertname: ['A', 'B'] }),
    ]);
    expect(library.select({ layer: 'safety', alertname: 'C' })).toBeUndefined();
    expect(new RunbookLibrary([]).select({})).toBeUndefined();
  });

  it('breaks ties by id, whatever the load order', () => {
    const forward = new RunbookLibrary([loaded('alpha', { layer: 'x' }), loaded('beta', { service: 's' })]);
    const backward = new RunbookLibrary([loaded('beta', { service: 's' }), loaded('alpha', { layer: 'x' })]);
    expect(selected(forward, { layer: 'x', service: 's' })).toBe('alpha');
    expect(selected(backward, { layer: 'x', service: 's' })).toBe('alpha');
  });
});
