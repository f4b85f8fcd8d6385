import { describe, expect, it } from 'vitest';
import { alertmanagerPayloadSchema } from '../../../src/intake/alertmanager-payload.js';
import { alertmanagerBody } from '../../support/alertmanager-payloads.js';

describe('alertmanagerPayloadSchema', () => {
  it('accepts a real v4 body, reading the zero endsAt of firing alerts as "not ended"', () => {
    const parsed = alertmanagerPayloadSchema.parse(
      alertmanagerBody({
        alerts: [
          { name: 'A', fingerprint: 'aaaaaaaaaaaaaaa1' },
          { name: 'B', fingerprint: 'aaaaaaaaaaaaaaa2', status: 'resolved', endsAt: '2026-11-22T10:05:00Z' },
        ],
      }),
    );
    expect(parsed.alerts[0]?.endsAt).toBeNull();
    expect(parsed.alerts[0]?.startsAt.toISOString()).toBe('2026-11-22T10:00:00.123Z');
    expect(parsed.alerts[1]?.endsAt?.toISOString()).toBe('2026-11-22T10:05:00.000Z');
  });

  it('names the bad field', () => {
    const body = alertmanagerBody({ alerts: [{ name: 'A', fingerprint: 'not hex!' }] });
    const result = alertmanagerPayloadSchema.safeParse(body);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['alerts', 0, 'fingerprint']);

    const noName = alertmanagerBody({ alerts: [{ name: '', fingerprint: 'aaaaaaaaaaaaaaa1' }] });
    expect(alertmanagerPayloadSchema.safeParse(noName).error?.issues[0]?.path).toEqual([
      'alerts',
      0,
      'labels',
    ]);
  });
});
