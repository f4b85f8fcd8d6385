import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable, retryWhileUnavailable } from '../../src/errors.js';

const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

describe('retryWhileUnavailable', () => {
  it('takes pg’s "not queryable" for an unreachable database', () => {
    expect(
      isDatabaseUnavailable(
        new Error('ROLLBACK - Client has encountered a connection error and is not queryable'),
      ),
    ).toBe(true);
  });

  it('writes again while the database is unreachable, and returns once it is back', async () => {
    let attempts = 0;
    const result = await retryWhileUnavailable(async () => {
      attempts += 1;
      if (attempts < 3) throw refused();
      return 'stored';
    });
    expect(result).toBe('stored');
    expect(attempts).toBe(3);
  });

  it('throws any other error at once', async () => {
    let attempts = 0;
    const write = async () => {
      attempts += 1;
      throw new Error('duplicate key value violates unique constraint');
    };
    await expect(retryWhileUnavailable(write)).rejects.toThrow('duplicate key');
    expect(attempts).toBe(1);
  });

  it('gives up once its time or its signal runs out', async () => {
    await expect(
      retryWhileUnavailable(() => Promise.reject(refused()), { giveUpAfterMs: 250 }),
    ).rejects.toThrow('ECONNREFUSED');
    const stopping = new AbortController();
    stopping.abort();
    let attempts = 0;
    const write = () => {
      attempts += 1;
      return Promise.reject(refused());
    };
    await expect(retryWhileUnavailable(write, { signal: stopping.signal })).rejects.toThrow('ECONNREFUSED');
    expect(attempts).toBe(1);
  });
});
