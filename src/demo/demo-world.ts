import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../config.js';
import type { Clock } from '../incidents/ports.js';
import { type RunningAisre, startAisre } from '../main.js';
import type { ReferenceApp } from '../reference-app/reference-app.js';

/** Where the demo's story happens: the reference app, aisre, and what watches the app for aisre. */
export interface DemoWorld {
  app: ReferenceApp;
  aisre: RunningAisre;
  apiToken: string;
  /** Whose clock the story's durations are measured on, for the scoreboard's heading. */
  timeKind: 'simulated' | 'wall-clock';
  /** The time aisre and the app run on, in ms. */
  now(): number;
  /**
   * Lets the world's time pass until `read` returns something. `pauseMs` of wall time between
   * steps gives aisre's own pollers (every second) a chance at each instant.
   */
  until<T>(what: string, read: () => Promise<T | undefined>, pauseMs?: number): Promise<T>;
  /** Lets `ms` of the world's time pass (0: catch up with what is due now). */
  pass(ms: number): Promise<void>;
  /** Lines for the end of the story: what answered the queries, how time ran. */
  summary(): string[];
  /** What to try while `--keep` holds the world open. */
  keepHints(): string[];
  stop(): Promise<void>;
}

export interface DemoWorldOptions {
  /** PGlite's directory; the demo works in a fresh `demo` folder inside it. */
  dataDir: string;
  /** Listen on aisre's usual port, to be poked at after the story. */
  keep: boolean;
  print: (line: string) => void;
}

/** The tokens the app, the alert sender and the story use to reach aisre. */
export interface DemoTokens {
  apiToken: string;
  alertmanagerToken: string;
}

export function demoTokens(): DemoTokens {
  return { apiToken: randomBytes(16).toString('hex'), alertmanagerToken: randomBytes(16).toString('hex') };
}

/**
 * aisre as the demo runs it: a fresh PGlite database, Slack printed with `print`, the app's
 * integrations (LLM, Langfuse, LiteLLM, webhooks), diagnosis started by itself; `env` adds the
 * world's own settings (PROMETHEUS_URL at least).
 */
export async function startDemoAisre(
  options: DemoWorldOptions & {
    app: ReferenceApp;
    tokens: DemoTokens;
    env: Record<string, string>;
    clock?: Clock;
  },
): Promise<RunningAisre> {
  const dataDir = path.join(options.dataDir, 'demo');
  await rm(dataDir, { recursive: true, force: true });
  const config = loadConfig({
    ...options.app.aisreEnv(),
    DATABASE_URL: '',
    AISRE_DATA_DIR: dataDir,
    SLACK_BOT_TOKEN: '',
    SLACK_APP_TOKEN: '',
    ALERTMANAGER_TOKEN: options.tokens.alertmanagerToken,
    AISRE_API_TOKEN: options.tokens.apiToken,
    HOST: '127.0.0.1',
    PORT: options.keep ? undefined : '0',
    LOG_LEVEL: 'warn',
    AISRE_AUTO_DIAGNOSE: 'true',
    ...options.env,
  });
  return startAisre(config, { print: options.print, ...(options.clock ? { clock: options.clock } : {}) });
}

/** Runs `stops` in reverse order; for a world that failed half-way or is done. */
export async function stopAll(stops: Array<() => Promise<void>>): Promise<void> {
  for (const stop of stops.reverse()) await stop();
}
