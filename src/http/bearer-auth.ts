import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError } from '../errors.js';
import { sendError } from './error-handler.js';

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

/**
 * Middleware for the JSON API and change events: `Authorization: Bearer <AISRE_API_TOKEN>`.
 * Without a configured token the API is off, and says how to turn it on.
 */
export function requireApiToken(token: string | undefined): RequestHandler {
  return (req, res, next) => {
    if (!token) {
      sendError(res, new AppError('unauthorized', 'The API is disabled: set AISRE_API_TOKEN to enable it.'));
      return;
    }
    if (!authorizationMatches(req.headers.authorization, token, false)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="aisre"');
      sendError(
        res,
        new AppError(
          'unauthorized',
          'Missing or wrong credentials: send Authorization: Bearer <AISRE_API_TOKEN>.',
        ),
      );
      return;
    }
    next();
  };
}
