import fc from 'fast-check';
import { alertmanagerBody } from './alertmanager-payloads.js';

/**
 * Property runs are seeded, so a failure names a seed and path that reproduce it. Runs are kept
 * few: each is a real HTTP request against a real database, and CI runs every file on two.
 */
export const FUZZ = { seed: 20_261_123, numRuns: 60, endOnFailure: true } as const;

/** Every UTF-16 code unit, lone surrogates and NUL included: what `JSON.parse` can hand us. */
const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));

/** Strings that have broken parsers, databases and Slack formatting elsewhere. */
const SPECIMENS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfff',
  '\u202e\u2028\u2029',
  '🔥'.repeat(50),
  '<!channel> <@U0ALICE> <http://evil.example|click> & *bold*',
  '"} or vector(1) #',
  '{{labels.secret}}',
  '__proto__',
  'constructor',
  '0001-01-01T00:00:00Z',
  '2026-02-30T10:00:00Z',
  '2026-11-22T25:61:61Z',
  '99999-01-01T00:00:00Z',
  '1e400',
  'NaN',
  '-0',
  'x'.repeat(70_000),
];

/** A string from the full code-unit range, a grapheme soup, or one of the specimens above. */
export const weirdString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: anyCodeUnit, maxLength: 24 }),
  fc.string({ unit: 'grapheme', maxLength: 24 }),
  fc.constantFrom(...SPECIMENS),
);

/** Numbers where strings go, including the ones JSON cannot round-trip exactly. */
const weirdNumber = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -1, 2 ** 31, 2 ** 53 + 1, 1e300, -1e300, 5e-324),
);

/** Any JSON value, a few levels deep, built from weird strings and numbers. */
export const garbage: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { maxDepth: 3, depthSize: 'small' },
    weirdString,
    weirdNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(weirdString, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** Any instant of the years 0001 to 9999, as JavaScript writes it. */
export const isoDate = fc
  .date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
  .map((date) => date.toISOString());

const labelSet = fc.dictionary(weirdString, weirdString, { maxKeys: 3 });

/** Alertmanager bodies of the real shape, with weird label sets, receivers, group keys and dates. */
export const alertmanagerDelivery = fc
  .record({
    receiver: fc.oneof(fc.constant('aisre'), weirdString),
    groupKey: fc.oneof(fc.constantFrom('{}:{alertname="A"}', '{}:{alertname="B"}'), weirdString),
    truncatedAlerts: fc.oneof(fc.constant(0), fc.nat()),
    alerts: fc.array(
      fc.record({
        name: fc.oneof(fc.constantFrom('EvalPassRateLow', 'TokenSpendHigh'), weirdString),
        fingerprint: fc.oneof(
          fc.constantFrom('aaaaaaaaaaaaaaa1', 'aaaaaaaaaaaaaaa2'),
          fc.stringMatching(/^[0-9a-f]{16}$/),
        ),
        status: fc.constantFrom('firing', 'resolved'),
        startsAt: fc.oneof(fc.constant('2026-11-22T10:00:00Z'), isoDate),
        labels: labelSet,
        annotations: labelSet,
      }),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .map((options) => alertmanagerBody(options));

/** Where a value sits in a JSON document, e.g. `['alerts', 0, 'labels']`. */
export type JsonPath = Array<string | number>;

/** One change to a valid document: replace a value, delete a key or an element, or add a key. */
export interface Mutation {
  kind: 'replace' | 'delete' | 'extra';
  /** Picks the path among the document's paths, modulo their number. */
  pick: number;
  value: unknown;
  key: string;
}

export const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('replace', 'delete', 'extra'),
  pick: fc.nat(),
  value: garbage,
  key: weirdString,
});

function pathsOf(value: unknown, path: JsonPath = []): JsonPath[] {
  const own = path.length > 0 ? [path] : [];
  if (Array.isArray(value))
    return [...own, ...value.flatMap((item, index) => pathsOf(item, [...path, index]))];
  if (value !== null && typeof value === 'object') {
    return [...own, ...Object.entries(value).flatMap(([key, item]) => pathsOf(item, [...path, key]))];
  }
  return own;
}

/**
 * Applies `change` to a copy of `document` and says where it struck. An `extra` key lands on the
 * nearest object at or above the chosen path.
 */
export function mutate(document: unknown, change: Mutation): { document: unknown; path: JsonPath } {
  const copy = structuredClone(document);
  const paths = pathsOf(copy);
  const path = paths[change.pick % paths.length] ?? [];
  const parentPath = path.slice(0, -1);
  const last = path.at(-1);
  let parent: unknown = copy;
  for (const key of parentPath) parent = (parent as Record<string | number, unknown>)[key];
  const container = parent as Record<string | number, unknown>;
  if (change.kind === 'replace' && last !== undefined) {
    container[last] = change.value;
  } else if (change.kind === 'delete' && last !== undefined) {
    if (Array.isArray(container) && typeof last === 'number') container.splice(last, 1);
    else delete container[last];
  } else {
    const at = last === undefined ? copy : container[last];
    const holder = at !== null && typeof at === 'object' ? at : container;
    // Defined rather than assigned, so that a key such as `__proto__` becomes a real JSON key.
    if (!Array.isArray(holder)) {
      Object.defineProperty(holder, change.key, {
        value: change.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return { document: copy, path };
}
