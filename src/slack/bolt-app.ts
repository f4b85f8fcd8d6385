import { App, type Logger as BoltLogger, ExpressReceiver, LogLevel } from '@slack/bolt';
import type { Express } from 'express';
import type { Logger } from '../logger.js';
import type { ListenerDeps } from './listeners/listener-deps.js';
import { registerListeners } from './listeners/register-listeners.js';

export interface SlackAppOptions {
  botToken: string;
  signingSecret: string | undefined;
  appToken: string | undefined;
  apiUrl: string | undefined;
  httpApp: Express;
  deps: ListenerDeps;
  logger: Logger;
}

/** Bolt's logger interface over pino, so Slack's own messages land in the same JSON log stream. */
function boltLogger(logger: Logger): BoltLogger {
  const log = logger.child({ component: 'bolt' });
  return {
    debug: (...msg) => log.debug(msg.map(String).join(' ')),
    info: (...msg) => log.info(msg.map(String).join(' ')),
    warn: (...msg) => log.warn(msg.map(String).join(' ')),
    error: (...msg) => log.error(msg.map(String).join(' ')),
    setLevel: () => {},
    getLevel: () => LogLevel.INFO,
    setName: () => {},
  };
}

/**
 * Builds the Bolt app. Over HTTP it mounts on our express app at /slack/events (Bolt verifies
 * signatures and timestamps); with an app-level token it uses Socket Mode instead. `authorize`
 * hands Bolt the bot token directly, so constructing the app makes no Slack call and startup
 * survives a Slack outage.
 */
export function createSlackApp(options: SlackAppOptions): {
  app: App;
  start: () => Promise<void>;
  stop: () => Promise<void>;
} {
  const logger = boltLogger(options.logger);
  const authorize = async () => ({ botToken: options.botToken });
  const clientOptions = { slackApiUrl: options.apiUrl, retryConfig: { retries: 2 } };

  if (options.appToken) {
    const app = new App({ appToken: options.appToken, socketMode: true, authorize, clientOptions, logger });
    registerListeners(app, options.deps);
    return {
      app,
      start: () => connectWithRetry(() => app.start().then(() => undefined), options.logger),
      stop: () => app.stop().then(() => undefined),
    };
  }

  const receiver = new ExpressReceiver({
    signingSecret: options.signingSecret ?? '',
    app: options.httpApp,
    endpoints: { events: '/slack/events' },
    logger,
  });
  const app = new App({ receiver, authorize, clientOptions, logger });
  registerListeners(app, options.deps);
  return { app, start: async () => {}, stop: async () => {} };
}

/** Socket Mode needs Slack at startup; keep trying in the background rather than crash. */
async function connectWithRetry(connect: () => Promise<void>, logger: Logger): Promise<void> {
  let delay = 1000;
  const attempt = (): void => {
    connect().catch((err: unknown) => {
      logger.warn({ err, retryInMs: delay }, 'Socket Mode connection failed; retrying');
      setTimeout(attempt, delay).unref();
      delay = Math.min(delay * 2, 60_000);
    });
  };
  attempt();
}
