import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import { parseReferenceAppFlags } from '../../../src/reference-app/cli.js';

describe('aisre reference-app flags', () => {
  it('maps flags onto the app options', () => {
    expect(
      parseReferenceAppFlags([
        '--port',
        '9464',
        '--aisre-url',
        'http://127.0.0.1:8080',
        '--aisre-token',
        'token',
        '--service',
        'support-bot',
        '--interval',
        '0',
      ]),
    ).toEqual({
      port: 9464,
      service: 'support-bot',
      aisre: { url: 'http://127.0.0.1:8080', token: 'token' },
      trafficIntervalMs: 0,
    });
    expect(parseReferenceAppFlags([])).toEqual({});
  });

  it('names the bad flag and shows the usage', () => {
    for (const [flags, message] of [
      [['--port', 'eighty'], '--port must be a whole number'],
      [['--aisre-url', 'http://x'], '--aisre-url and --aisre-token go together'],
      [['--aisre-url', 'ftp://x', '--aisre-token', 't'], 'must be an http(s) URL'],
      [['--hook-secret', 'short'], '16+ characters'],
      [['--colour'], "Unknown option '--colour'"],
    ] as const) {
      const error = (() => {
        try {
          parseReferenceAppFlags([...flags]);
        } catch (err) {
          return err;
        }
      })();
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).message).toContain(message);
      expect((error as AppError).message).toContain('aisre reference-app [--port N]');
    }
  });
});
