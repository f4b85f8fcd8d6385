import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { AppError } from '../errors.js';

/** An exclusive claim on the embedded database directory, released on close. */
export interface DataDirLock {
  release(): void;
}

interface LockOwner {
  pid: number;
  host: string;
}

/** The holder touches the lock this often; a lock untouched for STALE_AFTER_MS has no live holder. */
const HEARTBEAT_MS = 5_000;
const STALE_AFTER_MS = 20_000;

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(lockPath: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(lockPath, 'utf8')) as Partial<LockOwner>;
    return typeof owner.pid === 'number' && typeof owner.host === 'string' ? (owner as LockOwner) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the recorded holder still runs. On this host the pid answers that, unless it is our
 * own pid (a container restarted as PID 1 again). Across hosts or containers sharing a volume,
 * pids mean nothing, so the holder's heartbeat decides.
 */
function holderIsAlive(owner: LockOwner | undefined, lockPath: string): boolean {
  const fresh = Date.now() - statSync(lockPath).mtimeMs < STALE_AFTER_MS;
  if (!owner) return fresh;
  if (owner.host === hostname()) return owner.pid !== process.pid && processIsAlive(owner.pid);
  return fresh;
}

/**
 * PGlite corrupts its files if two processes open the same directory, so the first process
 * records itself in a lock file, keeps it fresh, and later processes refuse to start. A lock
 * whose holder is gone is taken over.
 */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const lockPath = path.join(dataDir, 'aisre.lock');
  const me: LockOwner = { pid: process.pid, host: hostname() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      const heartbeat = setInterval(() => {
        const now = new Date();
        try {
          utimesSync(lockPath, now, now);
        } catch {
          // Removed from under us; release() will find nothing to remove.
        }
      }, HEARTBEAT_MS);
      heartbeat.unref();
      return {
        release: () => {
          clearInterval(heartbeat);
          const owner = readOwner(lockPath);
          if (owner?.pid === me.pid && owner.host === me.host) rmSync(lockPath, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = readOwner(lockPath);
      if (holderIsAlive(owner, lockPath)) {
        const who = owner ? `pid ${owner.pid} on ${owner.host}` : 'unknown';
        throw new AppError(
          'conflict',
          `Another aisre process (${who}) is using the embedded database in ${path.resolve(dataDir)}. ` +
            'Stop it, set AISRE_DATA_DIR to another directory, or set DATABASE_URL to use PostgreSQL.',
        );
      }
      rmSync(lockPath, { force: true });
    }
  }
  throw new AppError(
    'conflict',
    `Could not lock ${path.resolve(dataDir)}; remove ${lockPath} if no aisre runs.`,
  );
}
