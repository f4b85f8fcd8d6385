import type { z } from 'zod';
import { renderTemplate, type TemplateValues } from '../checks/templates.js';
import { AppError } from '../errors.js';

/** The longest value a template may substitute; label values longer than this are refused. */
const MAX_VALUE_LENGTH = 256;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f\u2028\u2029]/;

/**
 * Substitutes `{{labels.x}}`, `{{incident.service}}` and `{{vars.y}}` in every string of a
 * recommendation's params. Substituted values come from alert labels, which whoever can fire an
 * alert controls, so each one is checked rather than trusted: it must be present, at most 256
 * characters and free of control characters. The result is then validated by the action's own
 * schema, and integrations only ever receive it serialised as JSON or URL-encoded, never spliced.
 */
export function renderActionParams(
  params: Record<string, unknown>,
  values: TemplateValues,
): Record<string, unknown> {
  const problems: string[] = [];
  const check = (where: string) => (value: string) => {
    if (value === '')
      problems.push(`${where}: the template's value is empty (is the label set on the alert?)`);
    else if (value.length > MAX_VALUE_LENGTH)
      problems.push(`${where}: the substituted value is longer than ${MAX_VALUE_LENGTH} characters`);
    else if (CONTROL_CHARACTERS.test(value))
      problems.push(`${where}: the substituted value contains control characters`);
    return value;
  };
  const walk = (value: unknown, where: string): unknown => {
    if (typeof value === 'string') return renderTemplate(value, values, check(where));
    if (Array.isArray(value)) return value.map((item, index) => walk(item, `${where}[${index}]`));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [key, walk(item, where ? `${where}.${key}` : key)]),
      );
    }
    return value;
  };
  const rendered = walk(params, '') as Record<string, unknown>;
  if (problems.length > 0) {
    throw new AppError(
      'validation_failed',
      `The action's parameters could not be filled in: ${problems.join('; ')}.`,
      {
        details: problems,
      },
    );
  }
  return rendered;
}

/** Validates params against an action's schema; the error names each bad field. */
export function parseActionParams<P>(actionId: string, schema: z.ZodType<P>, params: unknown): P {
  const parsed = schema.safeParse(params);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'params'}: ${issue.message}`,
  );
  throw new AppError('validation_failed', `Invalid parameters for ${actionId}: ${problems.join('; ')}.`, {
    details: problems,
  });
}
