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
  LANGFUSE_URL: '',
  LANGFUSE_PUBLIC_KEY: '',
  LANGFUSE_SECRET_KEY: '',
  LITELLM_URL: '',
  LITELLM_API_KEY: '',
  AISRE_WEBHOOKS: '',
  AISRE_ACTION_SETTLE: '',
  AISRE_ACTION_LEASE: '',
  AISRE_POSTMORTEM_MODEL: '',
  AISRE_QUALITY_SLO: '',
  LLM_BASE_URL: '',
  AISRE_ACTION_EXECUTORS: '',
  AISRE_ACTION_APPROVERS: '',
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

  it('configures action integrations, webhooks and the execution policy, keeping their secrets out of logs', () => {
    const config = loadConfig({
      ...base,
      LANGFUSE_URL: 'http://langfuse.local:3000',
      LANGFUSE_PUBLIC_KEY: 'pk-lf-1',
      LANGFUSE_SECRET_KEY: 'sk-lf-secret',
      LITELLM_URL: 'http://litellm.local:4000',
      LITELLM_API_KEY: 'sk-master-1234',
      AISRE_WEBHOOKS: '{"reindex": {"url": "https://jobs.local/reindex", "secret": "0123456789abcdef"}}',
      AISRE_ACTION_SETTLE: '90s',
      AISRE_ACTION_EXECUTORS: 'U0ALICE, S0ONCALL',
      AISRE_ACTION_APPROVERS: 'S0LEADS',
    });
    expect(config.actions).toEqual({
      langfuse: { url: 'http://langfuse.local:3000', publicKey: 'pk-lf-1', secretKey: 'sk-lf-secret' },
      litellm: { url: 'http://litellm.local:4000', apiKey: 'sk-master-1234' },
      webhooks: { reindex: { url: 'https://jobs.local/reindex', secret: '0123456789abcdef' } },
      settleMs: 90_000,
      verifyWindowMs: 1_200_000,
      leaseMs: 30_000,
      executors: ['U0ALICE', 'S0ONCALL'],
      approvers: ['S0LEADS'],
    });
    expect(config.secrets).toEqual(
      expect.arrayContaining(['sk-lf-secret', 'sk-master-1234', '0123456789abcdef']),
    );
    expect(loadConfig(base).actions).toMatchObject({
      langfuse: undefined,
      litellm: undefined,
      webhooks: {},
      settleMs: 120_000,
    });
  });

  it('explains bad action settings', () => {
    const found = problems({
      LANGFUSE_URL: 'http://langfuse.local:3000',
      LITELLM_API_KEY: 'sk-master-1234',
      AISRE_WEBHOOKS: '{"Re Index": {"url": "not a url", "secret": "short"}}',
      AISRE_ACTION_SETTLE: 'soon',
      AISRE_ACTION_APPROVERS: 'alice',
    });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^AISRE_WEBHOOKS Re Index: webhook names are lower-case/),
        expect.stringMatching(/^AISRE_WEBHOOKS Re Index\.url: /),
        'AISRE_WEBHOOKS Re Index.secret: secrets must be at least 16 characters',
        'AISRE_ACTION_SETTLE must be a duration such as 90s, 2m or 1h',
        'AISRE_ACTION_APPROVERS alice: expected Slack ids starting with U or S',
        'LANGFUSE_URL, LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY are set together or not at all',
        'LITELLM_API_KEY is set but LITELLM_URL is not: set the gateway URL too',
      ]),
    );
    expect(problems({ AISRE_WEBHOOKS: '{nope' })).toEqual([
      'AISRE_WEBHOOKS must be JSON: {"name": {"url": "https://…", "secret": "…"}}',
    ]);
  });

  it('configures postmortem drafting: the summary model needs an LLM endpoint, the SLO is a pass rate', () => {
    expect(loadConfig(base).postmortems).toEqual({ summaryModel: undefined, qualitySlo: 0.9 });
    expect(
      loadConfig({
        ...base,
        LLM_BASE_URL: 'http://llm.local/v1',
        AISRE_POSTMORTEM_MODEL: 'gpt-4o-mini',
        AISRE_QUALITY_SLO: '0.95',
      }).postmortems,
    ).toEqual({ summaryModel: 'gpt-4o-mini', qualitySlo: 0.95 });
    expect(problems({ AISRE_POSTMORTEM_MODEL: 'gpt-4o-mini', AISRE_QUALITY_SLO: '95' })).toEqual([
      'AISRE_QUALITY_SLO must be a pass rate between 0 and 1',
      'AISRE_POSTMORTEM_MODEL needs LLM_BASE_URL: the OpenAI-compatible endpoint that serves it',
    ]);
  });
});
