import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('aisre CLI', () => {
  it('exits non-zero listing every configuration problem, without leaking secrets', async () => {
    const result = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
      env: {
        PATH: process.env.PATH,
        PORT: 'abc',
        SLACK_BOT_TOKEN: 'xoxb-do-not-print-me',
        ALERTMANAGER_TOKEN: '',
      },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Invalid configuration');
    for (const variable of [
      'PORT',
      'ALERTMANAGER_TOKEN',
      'SLACK_SIGNING_SECRET',
      'SLACK_INCIDENTS_CHANNEL',
    ]) {
      expect(result.stderr).toContain(`- ${variable}`);
    }
    expect(result.stderr).not.toContain('do-not-print-me');
  });

  it('prints usage for help', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'help']);
    expect(stdout).toContain('aisre migrate');
    expect(stdout).toContain('aisre demo');
  });
});
