import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const base = {
  DATABASE_URL: '',
  AISRE_DATA_DIR: '',
  SLACK_BOT_TOKEN: '',
  SLACK_SIGNING_SECRET: '',
  SLACK_APP_TOKEN: '',
  SLACK_INCIDENTS_CHANNEL: '',
  SLACK_RESPONDERS: '',
  ALERTMANAGER_TOKEN: 'secret-token',
  ALERTMANAGER_ALLOW_UNAUTHENTICATED: '',
  AISRE_SEVERITY_MAP: '',
  PORT: '',
  LOG_LEVEL: '',
};

function problems(overrides: Record<string, string>): string[] {
  try {
    loadConfig({ ...base, ...overrides });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  it('defaults to embedded PGlite in ./.aisre, port 3000, console Slack', () => {
    const config = loadConfig(base);
    expect(config.database).toEqual({ kind: 'pglite', dataDir: './.aisre' });
    expect(config.port).toBe(3000);
    expect(config.slack.enabled).toBe(false);
    expect(config.severityMap.get('critical')).toBe('SEV1');
    expect(config.severityMap.get('*')).toBe('SEV3');
  });

  it('lists every invalid variable in one error', () => {
    const found = problems({
      PORT: 'eighty',
      DATABASE_URL: 'mysql://nope',
      SLACK_BOT_TOKEN: 'xoxp-user-token',
      SLACK_INCIDENTS_CHANNEL: '#incidents',
      SLACK_RESPONDERS: 'alice',
      LOG_LEVEL: 'loud',
      AISRE_SEVERITY_MAP: 'critical=SEV9',
    });
    const variables = found.map((problem) => problem.split(' ')[0]);
    expect(variables).toEqual(
      expect.arrayContaining([
        'PORT',
        'DATABASE_URL',
        'SLACK_BOT_TOKEN',
        'SLACK_INCIDENTS_CHANNEL',
        'SLACK_RESPONDERS',
        'LOG_LEVEL',
        'AISRE_SEVERITY_MAP',
      ]),
    );
    expect(found).toContain('PORT must be a port number');
    expect(found.join('\n')).toContain('not a #name');
  });

  it('requires ALERTMANAGER_TOKEN unless unauthenticated intake is explicitly allowed', () => {
    expect(problems({ ALERTMANAGER_TOKEN: '' })).toEqual([
      expect.stringMatching(/^ALERTMANAGER_TOKEN is required/),
    ]);
    expect(problems({ ALERTMANAGER_TOKEN: '', ALERTMANAGER_ALLOW_UNAUTHENTICATED: 'true' })).toEqual([]);
  });

  it('needs a signing secret (or Socket Mode) and an incidents channel once Slack is configured', () => {
    const found = problems({ SLACK_BOT_TOKEN: 'xoxb-1' });
    expect(found.map((p) => p.split(' ')[0])).toEqual(['SLACK_SIGNING_SECRET', 'SLACK_INCIDENTS_CHANNEL']);
    const socket = loadConfig({
      ...base,
      SLACK_BOT_TOKEN: 'xoxb-1',
      SLACK_APP_TOKEN: 'xapp-1',
      SLACK_INCIDENTS_CHANNEL: 'C012345',
      SLACK_RESPONDERS: 'U0ALICE, S0ONCALL',
    });
    expect(socket.slack).toMatchObject({
      enabled: true,
      appToken: 'xapp-1',
      responders: ['U0ALICE', 'S0ONCALL'],
    });
  });

  it('never echoes secret values in its messages and collects them for log redaction', () => {
    const config = loadConfig({
      ...base,
      DATABASE_URL: 'postgres://u:pw@db/aisre',
      AISRE_API_TOKEN: 'api-secret',
    });
    expect(config.secrets).toEqual(
      expect.arrayContaining(['postgres://u:pw@db/aisre', 'secret-token', 'api-secret']),
    );
    const found = problems({ SLACK_BOT_TOKEN: 'xoxp-very-secret-value' });
    expect(found.join('\n')).not.toContain('very-secret-value');
  });
});
