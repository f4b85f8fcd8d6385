import type { Knex } from 'knex';

interface PgConnection {
  query(config: { text: string }, callback: (err: Error | null, result: unknown) => void): unknown;
  escapeLiteral(text: string): string;
}

const lockStatement = (literal: string) => `select pg_advisory_xact_lock(hashtextextended(${literal}, 0))`;

/**
 * Runs `work` in a transaction that first takes the advisory locks `lockKeys`, sorted (so two
 * transactions never wait on each other's). On node-postgres the locks go in the same round
 * trip as knex's `BEGIN;`, as one simple query: a delivery's transaction is a handful of
 * statements, and each costs a write syscall and a context switch to the server. The keys are
 * quoted by node-postgres, never interpolated as given. Should knex ever begin otherwise, the
 * locks are taken the plain way.
 */
export async function lockedTransaction<T>(
  db: Knex,
  lockKeys: readonly string[],
  work: (trx: Knex.Transaction) => Promise<T>,
): Promise<T> {
  const keys = [...new Set(lockKeys)].sort();
  let locked = false;
  const lockedWork = async (trx: Knex.Transaction) => {
    if (!locked) for (const key of keys) await trx.raw(lockStatement('?'), [key]);
    return work(trx);
  };
  if (keys.length === 0) return db.transaction(work);
  const connection = await db.client.acquireConnection();
  if (typeof (connection as Partial<PgConnection>).escapeLiteral !== 'function') {
    // PGlite runs in this process: a statement more costs it next to nothing.
    db.client.releaseConnection(connection);
    return db.transaction(lockedWork);
  }
  const pg = connection as PgConnection;
  const query = pg.query;
  const locks = keys.map((key) => lockStatement(pg.escapeLiteral(key))).join('; ');
  pg.query = function begin(config, callback) {
    if (config.text !== 'BEGIN;') return query.call(this, config, callback);
    pg.query = query;
    locked = true;
    return query.call(this, { ...config, text: `BEGIN; ${locks};` }, (err, result) => {
      // A lock that failed leaves the transaction open and aborted, and knex would not roll it back.
      if (err) query.call(this, { text: 'ROLLBACK' }, () => callback(err, result));
      else callback(err, result);
    });
  };
  try {
    return await db.transaction(lockedWork, { connection });
  } finally {
    pg.query = query;
    db.client.releaseConnection(connection);
  }
}
