import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alertmanagerPayloadSchema } from '../../src/intake/alertmanager-payload.js';
import { isStorableId, isStorableTime, MAX_STORABLE_INTEGER, storableText } from '../../src/storable.js';
import { alertmanagerDelivery, garbage, mutate, mutation, weirdString } from '../support/hostile-values.js';

/** What PostgreSQL refuses in text and jsonb: NUL, and a surrogate without its pair. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what this looks for.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Every string and key inside a parsed value, and every date. */
function leaves(value: unknown): { strings: string[]; dates: Date[] } {
  if (typeof value === 'string') return { strings: [value], dates: [] };
  if (value instanceof Date) return { strings: [], dates: [value] };
  if (value === null || typeof value !== 'object') return { strings: [], dates: [] };
  const entries = Array.isArray(value) ? value.map((item) => ['', item] as const) : Object.entries(value);
  const inner = entries.map(([key, item]) => {
    const found = leaves(item);
    return { strings: key ? [key, ...found.strings] : found.strings, dates: found.dates };
  });
  return { strings: inner.flatMap((found) => found.strings), dates: inner.flatMap((found) => found.dates) };
}

// Pure and fast, so these run many more cases than the HTTP fuzzing in test/integration/hostile-*.
const MANY = { seed: 20_261_123, numRuns: 1_000 };

describe('storable text, ids and times', () => {
  it('replaces exactly NUL and unpaired surrogates, so well-formed text is untouched', () => {
    fc.assert(
      fc.property(weirdString, (text) => {
        const stored = storableText(text);
        expect(stored).not.toMatch(UNSTORABLE);
        expect(stored).toHaveLength(text.length);
        expect(storableText(stored)).toBe(stored);
        if (!UNSTORABLE.test(text)) expect(stored).toBe(text);
      }),
      MANY,
    );
    expect(storableText('a\u0000b\ud800c\udfff🔥')).toBe('a\ufffdb\ufffdc\ufffd🔥');
  });

  it('knows the bounds of an integer id and of the years 0001 to 9999', () => {
    expect([0, 1, MAX_STORABLE_INTEGER, MAX_STORABLE_INTEGER + 1, 1.5, Number.NaN].map(isStorableId)).toEqual(
      [false, true, true, false, false, false],
    );
    const times = [
      '0000-12-31T23:59:59.999Z',
      '0001-01-01T00:00:00Z',
      '9999-12-31T23:59:59.999Z',
      '+010000-01-01T00:00:00Z',
    ];
    expect(times.map((time) => isStorableTime(new Date(time)))).toEqual([false, true, true, false]);
    expect(isStorableTime(new Date(Number.NaN))).toBe(false);
  });
});

describe('alertmanagerPayloadSchema on hostile bodies', () => {
  it('never throws, and whatever it accepts the database can store', () => {
    const bodies = fc.oneof(
      alertmanagerDelivery,
      fc.tuple(alertmanagerDelivery, mutation).map(([body, change]) => mutate(body, change).document),
      garbage,
    );
    fc.assert(
      fc.property(bodies, (body) => {
        const parsed = alertmanagerPayloadSchema.safeParse(body);
        if (!parsed.success) {
          expect(parsed.error.issues.length).toBeGreaterThan(0);
          return;
        }
        const { strings, dates } = leaves(parsed.data);
        for (const text of strings) expect(text).not.toMatch(UNSTORABLE);
        for (const date of dates) expect(isStorableTime(date)).toBe(true);
        expect(parsed.data.truncatedAlerts).toBeLessThanOrEqual(MAX_STORABLE_INTEGER);
      }),
      MANY,
    );
  });
});
