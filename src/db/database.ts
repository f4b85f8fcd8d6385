import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import knex, { type Knex } from 'knex';
import ClientPGLite from 'knex-pglite';
import pg from 'pg';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { acquireDataDirLock } from './data-dir-lock.js';

// Postgres returns int8 (count(*), bigserial) as strings; our counts and ids fit in a double.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));

/** An open database handle and the way to close everything it holds (pool, PGlite, lock file). */
export interface Database {
  knex: Knex;
  kind: 'postgres' | 'pglite';
  close(): Promise<void>;
}

/**
 * knex's own messages as log lines. Left to knex, a database restart printed a bare
 * `Connection Error: …` line to the console for every pooled connection it cut.
 */
function knexLog(logger: Logger): Knex.Logger {
  const log = logger.child({ component: 'knex' });
  return {
    warn: (message) => log.warn(String(message)),
    error: (message) => log.error(String(message)),
    deprecate: (message) => log.warn(String(message)),
    debug: (message) => log.debug(String(message)),
  };
}

/**
 * Opens PostgreSQL when DATABASE_URL is set, otherwise embedded PGlite in AISRE_DATA_DIR.
 * `memory://` as the data dir keeps PGlite in memory (tests, throwaway runs).
 */
export async function openDatabase(
  config: Config['database'],
  options: { poolMax?: number; logger?: Logger } = {},
): Promise<Database> {
  if (config.kind === 'postgres') {
    const db = knex({
      client: 'pg',
      connection: { connectionString: config.url, application_name: 'aisre' },
      pool: { min: 0, max: options.poolMax ?? 10 },
      acquireConnectionTimeout: 10_000,
      ...(options.logger ? { log: knexLog(options.logger) } : {}),
    });
    return { knex: db, kind: 'postgres', close: () => db.destroy() };
  }

  const inMemory = config.dataDir.startsWith('memory://');
  const lock = inMemory ? undefined : acquireDataDirLock(config.dataDir);
  try {
    const pglite = inMemory ? new PGlite() : new PGlite(path.join(config.dataDir, 'pgdata'));
    await pglite.waitReady;
    const db = knex({
      client: ClientPGLite as unknown as typeof Knex.Client,
      connection: { pglite } as never,
    });
    return {
      knex: db,
      kind: 'pglite',
      close: async () => {
        try {
          await db.destroy();
          if (!pglite.closed) await pglite.close();
        } finally {
          lock?.release();
        }
      },
    };
  } catch (err) {
    lock?.release();
    throw err;
  }
}
