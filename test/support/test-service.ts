import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import { type RunningAisre, startAisre } from '../../src/main.js';
import type { SlackEmulator } from './slack-emulator.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export const ALERTMANAGER_TOKEN = 'am-test-token-1234';
export const API_TOKEN = 'api-test-token-5678';
export const SIGNING_SECRET = 'test-signing-secret';
export const BOT_TOKEN = 'xoxb-test-token';
export const INCIDENTS_CHANNEL = 'C0INCIDENTS';

/** A running aisre on a fresh database, wired to the Slack emulator or to the console. */
export interface TestService {
  aisre: RunningAisre;
  url: string;
  database: TestDatabase;
  /** What the console Slack gateway printed (when no emulator is given). */
  printed: string[];
  api<T = unknown>(path: string): Promise<{ status: number; body: T }>;
  postAlerts(
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Stops the service; the database survives until `dispose`. */
  stop(): Promise<void>;
  /** Starts a new process on the same database, as after a restart. */
  restart(): Promise<TestService>;
  dispose(): Promise<void>;
}

export async function startTestService(
  options: { slack?: SlackEmulator; env?: Record<string, string>; database?: TestDatabase } = {},
): Promise<TestService> {
  const database = options.database ?? (await createTestDatabase());
  const slackEnv: Record<string, string> = options.slack
    ? {
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: options.slack.apiUrl,
        SLACK_INCIDENTS_CHANNEL: INCIDENTS_CHANNEL,
        SLACK_APP_TOKEN: '',
      }
    : { SLACK_BOT_TOKEN: '', SLACK_APP_TOKEN: '', SLACK_INCIDENTS_CHANNEL: '' };
  const config = loadConfig({
    ...database.env,
    ...slackEnv,
    HOST: '127.0.0.1',
    PORT: '0',
    ALERTMANAGER_TOKEN,
    AISRE_API_TOKEN: API_TOKEN,
    LOG_LEVEL: 'silent',
    SLACK_RESPONDERS: '',
    ...options.env,
  });
  const printed: string[] = [];
  const aisre = await startAisre(config, {
    logger: silentLogger(),
    print: (text) => printed.push(text),
    outboxPollIntervalMs: 50,
  });
  let stopped = false;
  const service: TestService = {
    aisre,
    url: aisre.url,
    database,
    printed,
    async api<T>(path: string) {
      const response = await fetch(`${aisre.url}${path}`, {
        headers: { authorization: `Bearer ${API_TOKEN}` },
      });
      return { status: response.status, body: (await response.json()) as T };
    },
    async postAlerts(body, headers = {}) {
      const response = await fetch(`${aisre.url}/alertmanager`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${ALERTMANAGER_TOKEN}`,
          ...headers,
        },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await aisre.stop();
    },
    async restart() {
      await service.stop();
      return startTestService({ ...options, database });
    },
    async dispose() {
      await service.stop();
      await database.drop();
    },
  };
  return service;
}

/**
 * The environment that runs aisre as a child process (`startServiceProcess`) on `database`,
 * wired to the Slack emulator, with this file's tokens; tests add their own on top.
 */
export function serviceProcessEnv(database: TestDatabase, slack: SlackEmulator): Record<string, string> {
  return {
    ...database.env,
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.apiUrl,
    SLACK_INCIDENTS_CHANNEL: INCIDENTS_CHANNEL,
    SLACK_APP_TOKEN: '',
    SLACK_RESPONDERS: '',
    ALERTMANAGER_TOKEN,
    ALERTMANAGER_ALLOW_UNAUTHENTICATED: '',
    AISRE_API_TOKEN: API_TOKEN,
    LOG_LEVEL: 'warn',
  };
}

/** GETs `path` from aisre's API at `baseUrl` with this file's token; throws unless it answers 200. */
export async function apiGet<T>(baseUrl: string, path: string): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
  if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}`);
  return (await response.json()) as T;
}
