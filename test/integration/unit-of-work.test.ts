import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database.js';
import { migrateLatest } from '../../src/db/migrations.js';
import { createKnexUnitOfWork } from '../../src/db/unit-of-work.js';
import type { UnitOfWork } from '../../src/incidents/ports.js';
import { createTestDatabase, TEST_DB_KIND, type TestDatabase } from '../support/test-database.js';

let testDb: TestDatabase;
let db: Database;
let uow: UnitOfWork;
let notified = 0;

beforeAll(async () => {
  testDb = await createTestDatabase();
  db = await openDatabase(testDb.config);
  await migrateLatest(db.knex);
  uow = createKnexUnitOfWork(db.knex, () => {
    notified += 1;
  });
});
afterAll(async () => {
  await db?.close();
  await testDb?.drop();
});

const at = new Date('2026-11-23T01:00:00.123Z');

async function newIncident(title: string): Promise<number> {
  const incident = await uow.run((stores) =>
    stores.incidents.create({
      title,
      severity: 'SEV3',
      source: 'api',
      service: null,
      description: null,
      layerHint: null,
      receiver: null,
      groupKey: null,
      groupLabels: {},
      runbookUrl: null,
      generatorUrl: null,
      externalUrl: null,
      commanderId: null,
      responderIds: [],
      at,
    }),
  );
  return incident.id;
}

describe(`the knex unit of work (${TEST_DB_KIND})`, () => {
  it('runs units of work with the same lock key one after the other, whatever the key holds', async () => {
    const key = `alertmanager-group:["it's","{}:{alertname=\\"A\\\\B\\"}"]`;
    const events: string[] = [];
    const unit = (name: string, holdMs: number) =>
      uow.run(
        async () => {
          events.push(`${name} in`);
          await sleep(holdMs);
          events.push(`${name} out`);
        },
        { lockKeys: [key] },
      );
    await Promise.all([unit('first', 300), sleep(50).then(() => unit('second', 0))]);
    expect(events).toEqual(['first in', 'first out', 'second in', 'second out']);
    // Nothing of the first unit's transaction is left on the pooled connections.
    expect(await uow.run(async () => 'after', { lockKeys: [key] })).toBe('after');
  });

  it('writes timeline entries and notifications with the work, in order, and none when it fails', async () => {
    const id = await newIncident('Timeline and outbox');
    const before = notified;
    await uow.run(async (stores) => {
      await stores.timeline.append(id, [
        { at, actor: 'api', kind: 'incident.opened', summary: 'one', data: { n: 1 } },
        { at, actor: 'api', kind: 'severity.changed', summary: 'two', data: { n: 2 } },
      ]);
      await stores.notifications.enqueue(id, { kind: 'incident.opened' });
      // Read back within the work: what it appended is there.
      expect((await stores.timeline.list(id)).map((entry) => entry.summary)).toEqual(['one', 'two']);
      await stores.timeline.append(id, [
        { at, actor: 'api', kind: 'status.changed', summary: 'three', data: {} },
      ]);
      await stores.notifications.enqueue(id, { kind: 'incident.updated' });
      await stores.notifications.enqueue(id, { kind: 'incident.updated' });
    });
    expect(notified).toBe(before + 1);
    const timeline = await uow.read.timeline.list(id);
    expect(timeline.map((entry) => [entry.summary, entry.data])).toEqual([
      ['one', { n: 1 }],
      ['two', { n: 2 }],
      ['three', {}],
    ]);
    expect(timeline[0]!.at).toEqual(at);
    const outbox = await db
      .knex('slack_outbox')
      .where({ incident_id: id })
      .orderBy('id')
      .select('kind', 'status');
    expect(outbox).toEqual([
      { kind: 'incident.opened', status: 'pending' },
      { kind: 'incident.updated', status: 'pending' },
    ]);

    await expect(
      uow.run(async (stores) => {
        await stores.timeline.append(id, [
          { at, actor: 'api', kind: 'status.changed', summary: 'lost', data: {} },
        ]);
        await stores.notifications.enqueue(id, { kind: 'incident.opened' });
        throw new Error('the work failed');
      }),
    ).rejects.toThrow('the work failed');
    expect(await uow.read.timeline.list(id)).toHaveLength(3);
    expect(await db.knex('slack_outbox').where({ incident_id: id })).toHaveLength(2);
    expect(notified).toBe(before + 1);
  });
});
