import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/** aisre running as its own process, as in production: `node --import tsx src/cli/main.ts serve`. */
export interface ServiceProcess {
  child: ChildProcess;
  pid: number;
  url: string;
  /** Log lines by level and message (pino JSON), and lines that were not JSON. */
  logCounts(): Record<string, number>;
  lastLines(): string[];
  /** SIGTERM, then waits for the graceful shutdown (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: string | null; ms: number }>;
}

const PINO_LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

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

export async function startServiceProcess(options: {
  cwd: string;
  env: Record<string, string>;
  nodeArgs?: string[];
  readyTimeoutMs?: number;
}): Promise<ServiceProcess> {
  const port = options.env.PORT;
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', ...(options.nodeArgs ?? []), 'src/cli/main.ts', 'serve'],
    {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const counts: Record<string, number> = {};
  const tail: string[] = [];
  const onLine = (line: string) => {
    if (!line.trim()) return;
    tail.push(line);
    if (tail.length > 40) tail.shift();
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
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let exit: { code: number | null; signal: string | null } | undefined;
  void exited.then((value) => {
    exit = value;
  });

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
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
      child.kill('SIGKILL');
      throw new Error(
        `aisre was not ready within ${options.readyTimeoutMs ?? 60_000} ms:\n${tail.join('\n')}`,
      );
    }
    await delay(100);
  }

  return {
    child,
    pid: child.pid!,
    url,
    logCounts: () => ({ ...counts }),
    lastLines: () => [...tail],
    async stop(timeoutMs = 20_000) {
      const started = performance.now();
      if (!exit) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        await exited;
        clearTimeout(timer);
      }
      const result = await exited;
      return { ...result, ms: Math.round(performance.now() - started) };
    },
  };
}
