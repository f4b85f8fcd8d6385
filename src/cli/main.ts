#!/usr/bin/env node
import { ConfigError, loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { migrateLatest, migrateRollback, pendingMigrations } from '../db/migrations.js';
import { AppError } from '../errors.js';
import { startAisre } from '../main.js';
import { runReferenceAppCommand } from '../reference-app/cli.js';
import { runDemo } from './demo.js';
import { runbookCommand } from './runbook-commands.js';

const USAGE = `aisre: incident response for AI systems, in Slack

Usage:
  aisre serve                 run the service (migrates the database first)
  aisre migrate               apply pending database migrations
  aisre migrate --status      list pending migrations
  aisre migrate --rollback    undo the last batch of migrations (--all for every batch)
  aisre runbook validate [file]   check runbooks (all of AISRE_RUNBOOKS_DIR, or one file)
  aisre runbook schema        print the runbook JSON Schema (for editors)
  aisre runbook mermaid [id]  print a runbook's tree as a Mermaid flowchart
  aisre demo [--keep] [--built-in] [--faults=a,b]
                              run the whole story on embedded PGlite: the reference app, faults,
                              alerts, diagnosis, actions, postmortems (--built-in: answer PromQL
                              with the built-in subset even where Prometheus is installed)
  aisre reference-app [--port N] [--aisre-url URL --aisre-token T]
                              run the fault-injectable reference AI app (game days)
  aisre help                  show this help

Configuration comes from environment variables; see README.md.`;

async function serve(): Promise<void> {
  const aisre = await startAisre(loadConfig());
  const shutdown = (signal: string) => {
    aisre.logger.info({ signal }, 'signal received');
    aisre.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        aisre.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

async function migrate(flags: string[]): Promise<void> {
  const config = loadConfig({ ALERTMANAGER_ALLOW_UNAUTHENTICATED: 'true' });
  const db = await openDatabase(config.database);
  try {
    if (flags.includes('--status')) {
      const pending = await pendingMigrations(db.knex);
      process.stdout.write(
        pending.length === 0 ? 'Database schema is up to date.\n' : `Pending:\n  ${pending.join('\n  ')}\n`,
      );
    } else if (flags.includes('--rollback')) {
      const undone = await migrateRollback(db.knex, flags.includes('--all'));
      process.stdout.write(
        undone.length === 0 ? 'Nothing to roll back.\n' : `Rolled back:\n  ${undone.join('\n  ')}\n`,
      );
    } else {
      const applied = await migrateLatest(db.knex);
      process.stdout.write(
        applied.length === 0 ? 'Already up to date.\n' : `Applied:\n  ${applied.join('\n  ')}\n`,
      );
    }
  } finally {
    await db.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const [command = 'serve', ...flags] = argv;
  switch (command) {
    case 'serve':
      return serve();
    case 'migrate':
      return migrate(flags);
    case 'runbook': {
      const { diagnosis } = loadConfig({ ALERTMANAGER_ALLOW_UNAUTHENTICATED: 'true' });
      process.exitCode = await runbookCommand(flags, diagnosis.runbooksDir);
      return;
    }
    case 'demo': {
      const { database, diagnosis } = loadConfig({ ALERTMANAGER_ALLOW_UNAUTHENTICATED: 'true' });
      return runDemo({
        flags,
        dataDir: database.kind === 'pglite' ? database.dataDir : './.aisre',
        runbooksDir: diagnosis.runbooksDir,
      });
    }
    case 'reference-app':
      return runReferenceAppCommand(flags, (line) => process.stdout.write(`${line}\n`));
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return;
    default:
      process.stderr.write(`Unknown command "${command}".\n\n${USAGE}\n`);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof AppError) {
    process.stderr.write(`aisre: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`aisre: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
