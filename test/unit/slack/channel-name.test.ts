import { describe, expect, it } from 'vitest';
import { incidentChannelName } from '../../../src/slack/channel-name.js';

const createdAt = new Date('2026-11-22T23:59:00Z');

describe('incidentChannelName', () => {
  it('is inc-YYYYMMDD-<slug> in Slack’s alphabet', () => {
    expect(incidentChannelName({ title: 'Eval pass rate < 90% on RAG!', createdAt })).toBe(
      'inc-20261122-eval-pass-rate-90-on-rag',
    );
    expect(incidentChannelName({ title: 'Résumé parser: ÉCHEC', createdAt })).toBe(
      'inc-20261122-resume-parser-echec',
    );
    expect(incidentChannelName({ title: '🔥🔥', createdAt })).toBe('inc-20261122-incident');
  });

  it('stays within 80 characters, suffix included', () => {
    const title = 'a very long title '.repeat(20);
    for (const attempt of [1, 2, 10]) {
      const name = incidentChannelName({ title, createdAt }, attempt);
      expect(name.length).toBeLessThanOrEqual(80);
      expect(name).toMatch(/^[a-z0-9-]+$/);
      expect(name).not.toMatch(/--/);
    }
    expect(incidentChannelName({ title, createdAt }, 2)).toMatch(/-2$/);
  });
});
