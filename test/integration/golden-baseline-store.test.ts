import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database.js';
import { migrateLatest } from '../../src/db/migrations.js';
import { KnexGoldenBaselineStore } from '../../src/db/stores/golden-baseline-store.js';
import { createTestDatabase, TEST_DB_KIND, type TestDatabase } from '../support/test-database.js';

let testDb: TestDatabase;
let db: Database;

beforeAll(async () => {
  testDb = await createTestDatabase();
  db = await openDatabase(testDb.config);
  await migrateLatest(db.knex);
});
afterAll(async () => {
  await db?.close();
  await testDb?.drop();
});

describe(`KnexGoldenBaselineStore (${TEST_DB_KIND})`, () => {
  it('returns nothing for a set without a baseline', async () => {
    expect(await new KnexGoldenBaselineStore(db.knex).get('unknown_set')).toBeUndefined();
  });

  it('stores a baseline and reads it back as it was saved', async () => {
    const store = new KnexGoldenBaselineStore(db.knex);
    const baseline = {
      passRate: 0.8333333333333334,
      models: ['gpt-4o-2024-08-06', 'gpt-4o-mini-2024-07-18'],
      fingerprints: ['fp_a1b2c3'],
      recordedAt: new Date('2026-11-22T12:00:00.123Z'),
    };
    await store.save('support_qa', baseline);
    expect(await store.get('support_qa')).toEqual(baseline);
  });

  it('keeps the first baseline of a set when runs race or repeat', async () => {
    const store = new KnexGoldenBaselineStore(db.knex);
    const first = {
      passRate: 1,
      models: ['m1'],
      fingerprints: [],
      recordedAt: new Date('2026-11-22T12:00:00Z'),
    };
    const second = {
      passRate: 0.5,
      models: ['m2'],
      fingerprints: ['fp'],
      recordedAt: new Date('2026-11-22T12:05:00Z'),
    };
    await Promise.all([store.save('rag_qa', first), store.save('rag_qa', first)]);
    await store.save('rag_qa', second);
    expect(await store.get('rag_qa')).toEqual(first);
    const rows = await db.knex('golden_baselines').where({ key: 'rag_qa' });
    expect(rows).toHaveLength(1);
  });

  it('works inside a transaction', async () => {
    await db.knex.transaction(async (trx) => {
      await new KnexGoldenBaselineStore(trx).save('in_trx', {
        passRate: 0.9,
        models: [],
        fingerprints: [],
        recordedAt: new Date('2026-11-22T12:00:00Z'),
      });
    });
    expect((await new KnexGoldenBaselineStore(db.knex).get('in_trx'))?.passRate).toBe(0.9);
  });
});
