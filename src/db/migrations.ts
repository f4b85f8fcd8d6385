import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Knex } from 'knex';

const MIGRATION_FILE = /^\d{14}_[a-z0-9_]+\.(ts|js)$/;

/** Where migrations live both when run from source (tsx, vitest) and from the compiled `dist/`. */
function migrationsDirectory(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.resolve(here, '..', '..', 'migrations');
}

interface MigrationModule {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/**
 * A knex migration source that loads `migrations/*.ts|js` with dynamic import, so the same
 * files run under tsx, vitest and compiled JavaScript. Names drop the extension so a database
 * migrated from source is still "up to date" when the compiled build starts.
 */
class FileMigrationSource implements Knex.MigrationSource<string> {
  constructor(private readonly directory: string) {}

  async getMigrations(): Promise<string[]> {
    const files = (await readdir(this.directory)).filter((file) => MIGRATION_FILE.test(file));
    const byName = new Map<string, string>();
    for (const file of files.sort()) byName.set(file.replace(/\.(ts|js)$/, ''), file);
    return [...byName.values()];
  }

  getMigrationName(file: string): string {
    return file.replace(/\.(ts|js)$/, '');
  }

  async getMigration(file: string): Promise<Knex.Migration> {
    const module = (await import(pathToFileURL(path.join(this.directory, file)).href)) as MigrationModule;
    return { up: module.up, down: module.down };
  }
}

function migratorConfig(): Knex.MigratorConfig {
  return {
    migrationSource: new FileMigrationSource(migrationsDirectory()),
    tableName: 'knex_migrations',
  };
}

/** Applies every pending migration; returns the names it ran. */
export async function migrateLatest(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(migratorConfig())) as [number, string[]];
  return applied;
}

/** Rolls back the most recent batch; used by the CLI and by tests of the down migrations. */
export async function migrateRollback(db: Knex, all = false): Promise<string[]> {
  const [, rolledBack] = (await db.migrate.rollback(migratorConfig(), all)) as [number, string[]];
  return rolledBack;
}

/** Migrations not yet applied; empty means the schema is current (used by /readyz). */
export async function pendingMigrations(db: Knex): Promise<string[]> {
  const [, pending] = (await db.migrate.list(migratorConfig())) as [
    unknown,
    Array<{ file: string } | string>,
  ];
  return pending.map((entry) => (typeof entry === 'string' ? entry : entry.file));
}
