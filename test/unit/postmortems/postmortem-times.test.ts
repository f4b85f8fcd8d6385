import { afterEach, describe, expect, it } from 'vitest';
import {
  durationsOf,
  formatElapsed,
  formatUtc,
  keyTimes,
} from '../../../src/postmortems/postmortem-times.js';
import { alertFixture, incidentFixture } from '../../support/domain-fixtures.js';

describe('formatElapsed', () => {
  it.each([
    [0, '0 s'],
    [35, '35 s'],
    [60, '1 min'],
    [4 * 60 + 59, '4 min'],
    [3600, '1 h'],
    [3600 + 2 * 60, '1 h 2 min'],
    [86_400, '1 d'],
    [86_400 + 2 * 3600 + 5 * 60 + 30, '1 d 2 h 5 min'],
    [40 * 86_400 + 60, '40 d 1 min'],
  ])('%i s → %s', (seconds, text) => {
    expect(formatElapsed(seconds)).toBe(text);
  });
});

describe('key times and durations', () => {
  const timezone = process.env.TZ;
  afterEach(() => {
    process.env.TZ = timezone;
  });

  it('start at the earliest alert and read right across days, in any server time zone', () => {
    // New York leaves summer time on 2026-11-01 at 06:00 UTC: a local-day count would be an hour off.
    process.env.TZ = 'America/New_York';
    const incident = incidentFixture({
      createdAt: new Date('2026-10-31T23:58:00Z'),
      acknowledgedAt: new Date('2026-11-01T00:10:00Z'),
      mitigatedAt: new Date('2026-11-02T01:00:00Z'),
      resolvedAt: new Date('2026-11-02T02:05:00Z'),
      status: 'resolved',
    });
    const alerts = [
      alertFixture(1, { startsAt: new Date('2026-10-31T23:57:00Z') }),
      alertFixture(2, { startsAt: new Date('2026-10-31T23:55:30Z') }),
    ];
    const times = keyTimes({ incident, alerts, diagnosis: null });
    expect(times.started).toEqual(new Date('2026-10-31T23:55:30Z'));
    expect(formatUtc(times.started)).toBe('2026-10-31 23:55:30 UTC');
    const durations = durationsOf(times);
    expect(durations).toEqual({
      toDetect: 150,
      toAcknowledge: 12 * 60,
      toDiagnose: null,
      toMitigate: 86_400 + 64 * 60 + 30,
      toResolve: 86_400 + 2 * 3600 + 9 * 60 + 30,
    });
    expect(formatElapsed(durations.toResolve!)).toBe('1 d 2 h 9 min');
  });

  it('leave out what is missing or out of order', () => {
    const incident = incidentFixture({
      createdAt: new Date('2026-11-22T10:00:00Z'),
      acknowledgedAt: new Date('2026-11-22T09:59:00Z'),
    });
    const times = keyTimes({ incident, alerts: [], diagnosis: null });
    expect(times.startedBy).toBe('declaration');
    expect(durationsOf(times)).toEqual({
      toDetect: null,
      toAcknowledge: null,
      toDiagnose: null,
      toMitigate: null,
      toResolve: null,
    });
  });
});
