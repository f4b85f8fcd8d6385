import type { ChangeEventBody } from './faults.js';

/** What became of a fault's change event. */
export type ChangePost =
  | { status: 'posted'; httpStatus: number }
  | { status: 'failed'; error: string }
  | { status: 'not_sent'; reason: string };

const ATTEMPTS = 3;
const TIMEOUT_MS = 5_000;

/**
 * Sends a change event to aisre's `POST /changes` (Bearer AISRE_API_TOKEN), as the pipeline that
 * made the change would. Network errors and 5xx are retried (the event's id makes a repeat
 * harmless); a 4xx is final. Without aisre's URL nothing is sent.
 */
export async function postChange(
  aisre: { url: string; token: string } | undefined,
  change: ChangeEventBody | null,
  fetchFn: typeof fetch = globalThis.fetch,
): Promise<ChangePost> {
  if (!change) return { status: 'not_sent', reason: 'the change is silent: no pipeline reports it' };
  if (!aisre) return { status: 'not_sent', reason: 'no aisre URL was given' };
  let error = '';
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    try {
      const response = await fetchFn(`${aisre.url.replace(/\/+$/, '')}/changes`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${aisre.token}`,
          'user-agent': 'aisre-reference-app',
        },
        body: JSON.stringify(change),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      const text = await response.text();
      if (response.ok) return { status: 'posted', httpStatus: response.status };
      error = `HTTP ${response.status}: ${text.replace(/\s+/g, ' ').slice(0, 200)}`;
      if (response.status < 500) break;
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      error = cause ?? (err as Error).message;
    }
    if (attempt < ATTEMPTS) await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
  }
  return { status: 'failed', error };
}
