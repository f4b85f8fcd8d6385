import { describe, expect, it } from 'vitest';
import { canTransition } from '../../../src/incidents/incident.js';
import { mostSevere, parseSeverity, severityFromLabel } from '../../../src/incidents/severity.js';

describe('severity', () => {
  const map = new Map([
    ['critical', 'SEV1'],
    ['warning', 'SEV3'],
    ['*', 'SEV4'],
  ] as const);

  it('maps labels case-insensitively, with the * fallback for unknown or missing labels', () => {
    expect(severityFromLabel(map, 'Critical')).toBe('SEV1');
    expect(severityFromLabel(map, ' warning ')).toBe('SEV3');
    expect(severityFromLabel(map, 'bogus')).toBe('SEV4');
    expect(severityFromLabel(map, undefined)).toBe('SEV4');
    expect(severityFromLabel(new Map(), undefined)).toBe('SEV3');
  });

  it('orders and parses severities', () => {
    expect(mostSevere('SEV3', 'SEV1')).toBe('SEV1');
    expect(mostSevere('SEV2', 'SEV4')).toBe('SEV2');
    expect(parseSeverity('sev2')).toBe('SEV2');
    expect(parseSeverity('1')).toBe('SEV1');
    expect(parseSeverity('SEV5')).toBeUndefined();
  });
});

describe('incident lifecycle', () => {
  it('moves forward, allows mitigated → investigating, and keeps closed incidents closed', () => {
    expect(canTransition('triggered', 'acknowledged')).toBe(true);
    expect(canTransition('investigating', 'mitigated')).toBe(true);
    expect(canTransition('mitigated', 'investigating')).toBe(true);
    expect(canTransition('acknowledged', 'triggered')).toBe(false);
    expect(canTransition('resolved', 'investigating')).toBe(false);
    expect(canTransition('cancelled', 'resolved')).toBe(false);
    expect(canTransition('mitigated', 'cancelled')).toBe(false);
  });
});
