import { SEVERITIES, type Severity } from './incident.js';

/**
 * Maps an alert's `severity` label to SEV1–SEV4 with the configured table. `*` is the
 * fallback for unknown or missing labels; without it, SEV3.
 */
export function severityFromLabel(map: ReadonlyMap<string, Severity>, label: string | undefined): Severity {
  const normalised = label?.trim().toLowerCase();
  return (normalised && map.get(normalised)) || map.get('*') || 'SEV3';
}

/** The more severe of two severities (SEV1 beats SEV2). */
export function mostSevere(a: Severity, b: Severity): Severity {
  return SEVERITIES.indexOf(a) <= SEVERITIES.indexOf(b) ? a : b;
}

/** Parses user input such as `sev2`, `SEV2` or `2`. */
export function parseSeverity(input: string): Severity | undefined {
  const match = /^(?:sev)?([1-4])$/i.exec(input.trim());
  return match ? (`SEV${match[1]}` as Severity) : undefined;
}
