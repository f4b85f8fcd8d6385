import { describe, expect, it } from 'vitest';
import { incidentChannelName } from '../../../src/slack/channel-name.js';

const createdAt = new Date('2026-11-22T23:59:00Z');

describe('incidentChannelName', () => {
  it('is inc-YYYYMMDD-<slug> in Slack’s alphabet', () => {
    expect(incidentChannelName({ id: 1, title: 'Eval pass rate < 90% on RAG!', createdAt })).toBe(
      'inc-20261122-eval-pass-rate-90-on-rag',
    );
    expect(incidentChannelName({ id: 1, title: 'Résumé parser: ÉCHEC', createdAt })).toBe(
      'inc-20261122-resume-parser-echec',
    );
    expect(incidentChannelName({ id: 1, title: '🔥🔥', createdAt })).toBe('inc-20261122-incident');
  });

  it('stays within 80 characters, suffix included', () => {
    const title = 'a very long title '.repeat(20);
    for (const attempt of [1, 2, 10]) {
      const name = incidentChannelName({ id: 1, title, createdAt }, attempt);
      expect(name.length).toBeLessThanOrEqual(80);
      expect(name).toMatch(/^[a-z0-9-]+$/);
      expect(name).not.toMatch(/--/);
    }
    expect(incidentChannelName({ id: 1, title, createdAt }, 2)).toMatch(/-2$/);
  });

  it('names later tries after the incident, so same-titled incidents need at most three', () => {
    const incident = { id: 4242, title: 'Eval pass rate low', createdAt };
    expect(incidentChannelName(incident, 2)).toBe('inc-20261122-eval-pass-rate-low-2');
    expect(incidentChannelName(incident, 3)).toBe('inc-20261122-eval-pass-rate-low-4242');
    expect(incidentChannelName(incident, 4)).toBe('inc-20261122-eval-pass-rate-low-4242-4');
    const long = incidentChannelName({ ...incident, title: 'x'.repeat(100) }, 10);
    expect(long).toMatch(/^inc-20261122-x+-4242-10$/);
    expect(long.length).toBeLessThanOrEqual(80);
  });
});
