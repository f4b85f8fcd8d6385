import { spawn } from 'node:child_process';
import { utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { migrateLatest, migrateRollback, pendingMigrations } from '../../src/db/migrations.js';
import { alertmanagerBody } from '../support/alertmanager-payloads.js';
import { createTestDatabase, TEST_DB_KIND, type TestDatabase } from '../support/test-database.js';
import { startTestService, type TestService } from '../support/test-service.js';

let service: TestService | undefined;
let database: TestDatabase | undefined;
afterEach(async () => {
  await service?.dispose();
  await database?.drop();
  service = undefined;
  database = undefined;
});

describe(`operations (${TEST_DB_KIND})`, () => {
  it('reports liveness, readiness and Prometheus metrics', async () => {
    service = await startTestService();
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });

    await service.postAlerts(
      alertmanagerBody({
        alerts: [{ name: 'A', fingerprint: 'abababababababa1', labels: { severity: 'critical' } }],
      }),
    );
    await service.aisre.outbox.drain();
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toContain('aisre_alerts_received_total{status="firing"} 1');
    expect(metrics).toContain('aisre_incidents_opened_total{severity="SEV1",source="alertmanager"} 1');
    expect(metrics).toContain('aisre_alertmanager_deliveries_total{outcome="accepted"} 1');
    expect(metrics).toContain('aisre_slack_outbox_depth 0');
    expect(metrics).toMatch(/aisre_slack_outbox_oldest_age_seconds \d/);
    expect(metrics).toMatch(
      /aisre_http_request_duration_seconds_count\{method="POST",route="\/alertmanager",status="200"\} 1/,
    );
  });

  it('guards the JSON API with AISRE_API_TOKEN and explains bad requests', async () => {
    service = await startTestService();
    const anonymous = await fetch(`${service.url}/api/incidents`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { message: string }).message).toContain('AISRE_API_TOKEN');

    for (let i = 0; i < 3; i++) {
      await service.postAlerts(
        alertmanagerBody({
          groupKey: `group-${i}`,
          alerts: [{ name: `A${i}`, fingerprint: `cdcdcdcdcdcdcd0${i}` }],
        }),
      );
    }
    const page = await service.api<{ incidents: Array<{ id: number }>; next: string | null }>(
      '/api/incidents?limit=2',
    );
    expect(page.body.incidents.map((i) => i.id)).toEqual([3, 2]);
    expect(page.body.next).toBe('/api/incidents?before=2');
    const rest = await service.api<{ incidents: Array<{ id: number }> }>(page.body.next!);
    expect(rest.body.incidents.map((i) => i.id)).toEqual([1]);

    const one = await service.api<{ incident: { id: number }; alerts: unknown[]; timeline: unknown[] }>(
      '/api/incidents/INC-2',
    );
    expect(one.status).toBe(200);
    expect(one.body.incident.id).toBe(2);
    expect(one.body.alerts).toHaveLength(1);
    expect(one.body.timeline.length).toBeGreaterThan(0);

    expect((await service.api('/api/incidents/99')).status).toBe(404);
    const badId = await service.api<{ message: string }>('/api/incidents/abc');
    expect(badId.status).toBe(400);
    expect(badId.body.message).toContain('id');
    const badStatus = await service.api<{ message: string }>('/api/incidents?status=closed');
    expect(badStatus.status).toBe(400);
    expect(badStatus.body.message).toContain('closed');
    expect((await fetch(`${service.url}/nope`)).status).toBe(404);
  });

  it('refuses API calls when no API token is configured', async () => {
    service = await startTestService({ env: { AISRE_API_TOKEN: '' } });
    const response = await service.api<{ message: string }>('/api/incidents');
    expect(response.status).toBe(401);
    expect(response.body.message).toMatch(/disabled/);
  });

  it('keeps the timeline append-only at the database', async () => {
    service = await startTestService();
    await service.postAlerts(alertmanagerBody({ alerts: [{ name: 'A', fingerprint: 'efefefefefefefe1' }] }));
    const knex = service.aisre.db.knex;
    await expect(knex('incident_timeline').update({ summary: 'rewritten' })).rejects.toThrow(/append-only/);
    await expect(knex('incident_timeline').delete()).rejects.toThrow(/append-only/);
  });

  it('stops gracefully: intake closes, the database is released', async () => {
    service = await startTestService();
    const { url } = service;
    await service.stop();
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    if (service.database.config.kind === 'pglite') {
      // The lock is gone, so another process may open the directory now.
      const reopened = await openDatabase(service.database.config);
      await reopened.close();
    }
  });
});

describe(`migrations (${TEST_DB_KIND})`, () => {
  it('apply, report, roll back completely and apply again', async () => {
    database = await createTestDatabase();
    const db = await openDatabase(database.config);
    try {
      expect((await pendingMigrations(db.knex)).length).toBeGreaterThan(0);
      const applied = await migrateLatest(db.knex);
      expect(applied.length).toBeGreaterThan(0);
      expect(await pendingMigrations(db.knex)).toEqual([]);
      expect(await migrateRollback(db.knex, true)).toEqual([...applied].reverse());
      expect(await db.knex.schema.hasTable('incidents')).toBe(false);
      expect(await migrateLatest(db.knex)).toEqual(applied);
      expect(await db.knex.schema.hasTable('incidents')).toBe(true);
    } finally {
      await db.close();
    }
  });
});

describe.runIf(TEST_DB_KIND === 'pglite')('embedded database directory lock', () => {
  it('refuses a directory another live process holds, and takes over a stale lock', async () => {
    database = await createTestDatabase('pglite');
    if (database.config.kind !== 'pglite') throw new Error('expected PGlite');
    const lockPath = path.join(database.config.dataDir, 'aisre.lock');
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      await writeFile(lockPath, JSON.stringify({ pid: holder.pid, host: hostname() }));
      await expect(openDatabase(database.config)).rejects.toThrow(
        new RegExp(`Another aisre process \\(pid ${holder.pid} on .*\\) is using the embedded database`),
      );
    } finally {
      holder.kill();
    }
    await new Promise((resolve) => holder.once('exit', resolve));
    const db = await openDatabase(database.config);
    await db.close();
  });

  it('trusts a heartbeat, not a pid, for holders on other hosts (containers sharing a volume)', async () => {
    database = await createTestDatabase('pglite');
    if (database.config.kind !== 'pglite') throw new Error('expected PGlite');
    const lockPath = path.join(database.config.dataDir, 'aisre.lock');
    await writeFile(lockPath, JSON.stringify({ pid: 1, host: 'another-container' }));
    await expect(openDatabase(database.config)).rejects.toThrow(/pid 1 on another-container/);
    const longAgo = new Date(Date.now() - 60_000);
    await utimes(lockPath, longAgo, longAgo);
    const db = await openDatabase(database.config);
    await db.close();
  });
});
