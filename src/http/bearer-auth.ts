import { createHash, timingSafeEqual } from 'node:crypto';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Compares secrets in constant time; hashing first makes unequal lengths indistinguishable too. */
export function secretsEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Checks an Authorization header against a token. `Bearer <token>` always works; with
 * `allowBasic`, so does Basic auth whose password is the token (any user name), which is what
 * Alertmanager's `http_config.basic_auth` sends.
 */
export function authorizationMatches(
  header: string | undefined,
  token: string,
  allowBasic: boolean,
): boolean {
  if (!header) return false;
  const [scheme, value = ''] = header.trim().split(/\s+/, 2);
  if (scheme?.toLowerCase() === 'bearer') return secretsEqual(value, token);
  if (allowBasic && scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const separator = decoded.indexOf(':');
    return separator >= 0 && secretsEqual(decoded.slice(separator + 1), token);
  }
  return false;
}
