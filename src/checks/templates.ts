import type { CheckIncident } from './check-type.js';

const PLACEHOLDER = /\{\{\s*([a-z_]+)\.([A-Za-z0-9_]+)\s*\}\}/g;
const ANY_PLACEHOLDER = /\{\{([^}]*)\}\}/g;
const SCOPES = new Set(['labels', 'incident', 'vars']);

/** The values a runbook template can use: `{{labels.x}}`, `{{incident.service}}`, `{{vars.window}}`. */
export interface TemplateValues {
  labels: Record<string, string>;
  incident: Record<string, string>;
  vars: Record<string, string>;
}

export function templateValues(
  incident: CheckIncident,
  vars: Record<string, string | number>,
): TemplateValues {
  return {
    labels: incident.labels,
    incident: {
      id: String(incident.id),
      service: incident.service ?? incident.labels.service ?? '',
      layer: incident.layerHint ?? '',
      title: incident.title,
    },
    vars: Object.fromEntries(Object.entries(vars).map(([key, value]) => [key, String(value)])),
  };
}

/**
 * Substitutes placeholders, passing every value through `escapeValue`. Values come from alert labels,
 * which anyone who can fire an alert controls, so they are never spliced in raw.
 */
export function renderTemplate(
  template: string,
  values: TemplateValues,
  escapeValue: (value: string) => string,
): string {
  return template.replace(PLACEHOLDER, (_match, scope: string, key: string) => {
    const bag = values[scope as keyof TemplateValues];
    return escapeValue(bag?.[key] ?? '');
  });
}

/** Placeholders that are not `{{labels|incident|vars.name}}`; the runbook loader reports them. */
export function invalidPlaceholders(template: string): string[] {
  const bad: string[] = [];
  for (const match of template.matchAll(ANY_PLACEHOLDER)) {
    const parsed = /^\s*([a-z_]+)\.([A-Za-z0-9_]+)\s*$/.exec(match[1] ?? '');
    if (!parsed || !SCOPES.has(parsed[1]!)) bad.push(match[0]);
  }
  return bad;
}

/**
 * Escapes a value for use inside a double-quoted PromQL string (a label matcher value). With
 * quotes and backslashes escaped, a label such as `x"} or vector(1) #` stays a string.
 */
export function escapePromqlString(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

/** Parses `500ms`, `30s`, `5m`, `2h`, `1d` into milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a duration such as 30s, 5m or 2h`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
    match[2] as 'ms' | 's' | 'm' | 'h' | 'd'
  ];
  return Number(match[1]) * unit;
}
