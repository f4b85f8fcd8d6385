import { setTimeout as delay } from 'node:timers/promises';

/**
 * Polls `probe` every 50 ms until it returns something truthy, and returns that; throws, naming
 * `what`, once `timeoutMs` passes. For what another process does in its own time.
 */
export async function eventually<T>(
  what: string,
  probe: () => T | Promise<T>,
  timeoutMs = 30_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(50);
  }
}
