import { describe, expect, it } from 'vitest';
import { authorizationMatches } from '../../../src/http/bearer-auth.js';

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('authorizationMatches', () => {
  it('accepts the bearer token and, where allowed, Basic auth carrying it as the password', () => {
    expect(authorizationMatches('Bearer t0ken', 't0ken', false)).toBe(true);
    expect(authorizationMatches('bearer   t0ken', 't0ken', false)).toBe(true);
    expect(authorizationMatches(basic('alertmanager', 't0ken'), 't0ken', true)).toBe(true);
    expect(authorizationMatches(basic('alertmanager', 't0ken'), 't0ken', false)).toBe(false);
  });

  it('rejects wrong, partial, empty and malformed credentials', () => {
    expect(authorizationMatches(undefined, 't0ken', true)).toBe(false);
    expect(authorizationMatches('', 't0ken', true)).toBe(false);
    expect(authorizationMatches('Bearer t0ke', 't0ken', true)).toBe(false);
    expect(authorizationMatches('Bearer t0ken2', 't0ken', true)).toBe(false);
    expect(authorizationMatches('t0ken', 't0ken', true)).toBe(false);
    expect(authorizationMatches(basic('t0ken', ''), 't0ken', true)).toBe(false);
    expect(authorizationMatches('Basic !!!', 't0ken', true)).toBe(false);
  });
});
