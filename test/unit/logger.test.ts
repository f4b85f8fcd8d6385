import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  return { lines, destination };
}

describe('createLogger', () => {
  it('redacts configured secrets wherever they appear, and credential-shaped fields', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: 'info', secrets: ['xoxb-super-secret'], destination });
    logger.info(
      { url: 'https://slack/api?token=xoxb-super-secret', authorization: 'Bearer abc' },
      'using xoxb-super-secret',
    );
    logger.error({ err: new Error('failed with xoxb-super-secret') }, 'boom');
    const output = lines.join('');
    expect(output).not.toContain('xoxb-super-secret');
    expect(output).not.toContain('Bearer abc');
    expect(output).toContain('[REDACTED]');
    expect(output).toContain('failed with [REDACTED]');
  });
});
