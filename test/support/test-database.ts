import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Config } from '../../src/config.js';

/** The database kind this test project runs against (see vitest.config.ts). */
export const TEST_DB_KIND: 'postgres' | 'pglite' =
  process.env.AISRE_TEST_DB === 'postgres' ? 'postgres' : 'pglite';

const ADMIN_URL = process.env.AISRE_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A fresh, empty database for one test file, and how to throw it away. */
export interface TestDatabase {
  config: Config['database'];
  /** Environment variables that make loadConfig() pick this database. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

/**
 * Creates a new database on the local PostgreSQL server (or the one `adminUrl` administers, for
 * the benchmarks), or a new PGlite directory.
 */
export async function createTestDatabase(kind = TEST_DB_KIND, adminUrl = ADMIN_URL): Promise<TestDatabase> {
  if (kind === 'postgres') {
    const name = `aisre_test_${process.pid}_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = adminUrl.replace(/\/[^/]*$/, `/${name}`);
    return {
      config: { kind: 'postgres', url },
      env: { DATABASE_URL: url },
      drop: async () => {
        const cleanup = new pg.Client({ connectionString: adminUrl });
        await cleanup.connect();
        await cleanup.query(`drop database if exists ${name} with (force)`);
        await cleanup.end();
      },
    };
  }
  const dataDir = await mkdtemp(path.join(tmpdir(), 'aisre-test-'));
  return {
    config: { kind: 'pglite', dataDir },
    env: { DATABASE_URL: '', AISRE_DATA_DIR: dataDir },
    drop: () => rm(dataDir, { recursive: true, force: true }),
  };
}
