/**
 * What PostgreSQL and PGlite can store, for the edges that accept data from outside. A value that
 * passes validation but not the database would fail half-way through a request as a 500, which
 * Alertmanager and change senders retry forever; these keep such values out, or make them fit.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what PostgreSQL cannot store.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Text as the database can store it. A JSON body can carry NUL and unpaired surrogates (`"\u0000"`,
 * `"\ud800"`); `text` columns cannot hold NUL and `jsonb` refuses both. Each becomes U+FFFD, which
 * is what Go's JSON encoder (Alertmanager's) does with text that is not valid Unicode: the rest of
 * the value is kept rather than the whole delivery refused.
 */
export function storableText(text: string): string {
  return text.replace(UNSTORABLE, '\ufffd');
}

/** The largest value of an `integer` column, which every id and count is. */
export const MAX_STORABLE_INTEGER = 2_147_483_647;

/**
 * Whether `id` can name a row: ids arrive as digits in Slack payloads and URLs, and one beyond an
 * `integer` makes the lookup itself fail rather than find nothing.
 */
export function isStorableId(id: number): boolean {
  return Number.isInteger(id) && id >= 1 && id <= MAX_STORABLE_INTEGER;
}

const EARLIEST = Date.parse('0001-01-01T00:00:00Z');
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');

/** Instants of years 1 to 9999 UTC: RFC 3339 can write them, and both databases read them back. */
export function isStorableTime(date: Date): boolean {
  const time = date.getTime();
  return time >= EARLIEST && time <= LATEST;
}

export const STORABLE_TIME_MESSAGE = 'must lie between the years 0001 and 9999 (UTC)';
