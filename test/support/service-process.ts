import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** The repository root: the child runs `src/cli/main.ts` from there, as `npm run dev` does. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * aisre running as its own process, as in production: `node --import tsx src/cli/main.ts serve`.
 * Tests kill and restart it; the benchmarks measure it.
 */
export interface ServiceProcess {
  child: ChildProcess;
  pid: number;
  url: string;
  /** The last lines the process wrote (pino JSON or not), to explain a failure. */
  output(): string[];
  /** Every line written so far, counted by level and message (`warn: …`), or as `non-json output`. */
  logCounts(): Record<string, number>;
  /** Whether the process has exited. */
  exited(): boolean;
  /** Sends SIGKILL, as a crash or the OOM killer would, and waits until the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM, then waits for the graceful shutdown (SIGKILL after `timeoutMs`); `ms` is how long it took. */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: string | null; ms: number }>;
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const TAIL_LINES = 80;

const PINO_LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/**
 * Starts aisre and resolves once `/readyz` answers 200 (migrations applied, sessions resumed).
 * `cwd` runs another checkout (the benchmarks' A/B runs); `nodeArgs` go before the script, e.g. to
 * preload the benchmarks' probe.
 */
export async function startServiceProcess(options: {
  env: Record<string, string>;
  cwd?: string;
  nodeArgs?: string[];
  readyTimeoutMs?: number;
}): Promise<ServiceProcess> {
  const port = options.env.PORT ?? String(await freePort());
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', ...(options.nodeArgs ?? []), 'src/cli/main.ts', 'serve'],
    {
      cwd: options.cwd ?? REPO_ROOT,
      env: { ...process.env, HOST: '127.0.0.1', ...options.env, PORT: port },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const tail: string[] = [];
  const counts: Record<string, number> = {};
  const onLine = (line: string) => {
    if (!line.trim()) return;
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    let key = 'non-json output';
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string };
      key = `${PINO_LEVELS[entry.level ?? 0] ?? entry.level}: ${entry.msg ?? ''}`;
    } catch {
      // Not a log line: a stack trace or a warning from node itself.
    }
    counts[key] = (counts[key] ?? 0) + 1;
  };
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });
  }
  let exit: { code: number | null; signal: string | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    }),
  );

  const process_: ServiceProcess = {
    child,
    pid: child.pid!,
    url,
    output: () => [...tail],
    logCounts: () => ({ ...counts }),
    exited: () => exit !== undefined,
    async kill() {
      if (!exit) child.kill('SIGKILL');
      await exited;
    },
    async stop(timeoutMs = 20_000) {
      const started = performance.now();
      if (!exit) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        await exited;
        clearTimeout(timer);
      }
      return { ...(await exited), ms: Math.round(performance.now() - started) };
    },
  };

  const timeoutMs = options.readyTimeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exit) {
      throw new Error(
        `aisre exited before it was ready (code ${exit.code}, signal ${exit.signal}):\n${tail.join('\n')}`,
      );
    }
    try {
      const response = await fetch(`${url}/readyz`);
      if (response.status === 200) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await process_.kill();
      throw new Error(`aisre was not ready within ${timeoutMs} ms:\n${tail.join('\n')}`);
    }
    await delay(100);
  }
  return process_;
}
