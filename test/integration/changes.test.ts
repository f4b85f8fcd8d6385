import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChangeEvent } from '../../src/changes/change-event.js';
import type { ChangeEventReader } from '../../src/checks/check-type.js';
import { KnexChangeEventStore } from '../../src/db/stores/change-event-store.js';
import { alertmanagerBody } from '../support/alertmanager-payloads.js';
import { TEST_DB_KIND } from '../support/test-database.js';
import { API_TOKEN, startTestService, type TestService } from '../support/test-service.js';

interface ChangeJson {
  id: number;
  service: string;
  kind: string;
  fromVersion: string | null;
  toVersion: string | null;
  author: string | null;
  at: string;
  summary: string | null;
  diff: string | null;
  link: string | null;
  externalId: string | null;
  recordedAt: string;
}
interface RecordJson {
  change: ChangeJson;
  created: boolean;
  incidentIds: number[];
  error?: string;
  message?: string;
  status?: string;
  reason?: string;
}
interface TimelineJson {
  timeline: Array<{ kind: string; actor: string; summary: string; data: Record<string, unknown> }>;
}

let service: TestService | undefined;
afterEach(async () => {
  await service?.dispose();
  service = undefined;
});

async function post(
  s: TestService,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: RecordJson }> {
  const response = await fetch(`${s.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as RecordJson };
}

const postChange = (s: TestService, body: unknown, headers?: Record<string, string>) =>
  post(s, '/changes', body, headers);

async function listChanges(s: TestService, query = ''): Promise<ChangeJson[]> {
  const response = await s.api<{ changes: ChangeJson[] }>(`/api/changes${query}`);
  expect(response.status).toBe(200);
  return response.body.changes;
}

async function timeline(s: TestService, incidentId: number): Promise<TimelineJson['timeline']> {
  return (await s.api<TimelineJson>(`/api/incidents/${incidentId}`)).body.timeline;
}

async function openIncident(
  s: TestService,
  fingerprint: string,
  serviceLabel = 'rag-assistant',
): Promise<number> {
  const response = await s.postAlerts(
    alertmanagerBody({
      groupKey: `{}/{service="${serviceLabel}"}:{alertname="EvalPassRateLow"}`,
      alerts: [{ name: 'EvalPassRateLow', fingerprint, labels: { service: serviceLabel } }],
    }),
  );
  expect(response.body.opened).toBe(true);
  return response.body.incidentId as number;
}

/**
 * How many `incident.updated` intents each incident has queued, once the outbox is idle (a
 * pending update absorbs later ones, so counting while one is pending would undercount).
 */
async function outboxUpdates(s: TestService, incidentIds: number[]): Promise<Map<number, number>> {
  const knex = s.aisre.db.knex;
  await expect
    .poll(async () => (await knex('slack_outbox').where({ status: 'pending' })).length, { timeout: 10_000 })
    .toBe(0);
  const rows: Array<{ incident_id: number }> = await knex('slack_outbox')
    .where({ kind: 'incident.updated' })
    .whereIn('incident_id', incidentIds)
    .select('incident_id');
  return new Map(incidentIds.map((id) => [id, rows.filter((row) => row.incident_id === id).length]));
}

/** The payload Langfuse documents for prompt webhooks (Prompts → Automations). */
function langfusePayload(overrides: { id?: string; action?: string; labels?: string[]; type?: string } = {}) {
  return {
    id: overrides.id ?? '550e8400-e29b-41d4-a716-446655440000',
    timestamp: '2026-11-22T10:30:00.000Z',
    type: overrides.type ?? 'prompt-version',
    apiVersion: 'v1',
    action: overrides.action ?? 'created',
    prompt: {
      id: 'prompt_abc123',
      name: 'rag-answer',
      version: 13,
      projectId: 'xyz789',
      labels: overrides.labels ?? ['production', 'latest'],
      prompt: 'Answer using only {{context}}.',
      type: 'text',
      config: { temperature: 0.2 },
      commitMessage: 'Cite sources inline',
      tags: ['rag'],
      createdAt: '2026-11-22T10:30:00.000Z',
      updatedAt: '2026-11-22T10:30:00.000Z',
    },
    user: { id: 'u1', name: 'Alice', email: 'alice@example.com' },
  };
}

describe(`change events over HTTP (${TEST_DB_KIND})`, () => {
  it('refuses missing or wrong credentials, and everything when the API token is not configured', async () => {
    service = await startTestService();
    const body = { service: 'rag-assistant', kind: 'prompt' };
    const missing = await postChange(service, body, { authorization: '' });
    expect(missing.status).toBe(401);
    expect(missing.body.message).toMatch(/AISRE_API_TOKEN/);
    expect((await postChange(service, body, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect(
      (await post(service, '/changes/langfuse?service=x', langfusePayload(), { authorization: '' })).status,
    ).toBe(401);
    const list = await fetch(`${service.url}/api/changes`, { headers: { authorization: 'Bearer wrong' } });
    expect(list.status).toBe(401);
    expect(await listChanges(service)).toEqual([]);
    await service.dispose();

    service = await startTestService({ env: { AISRE_API_TOKEN: '' } });
    const disabled = await postChange(service, body);
    expect(disabled.status).toBe(401);
    expect(disabled.body.message).toMatch(/set AISRE_API_TOKEN/);
    expect((await fetch(`${service.url}/api/changes`)).status).toBe(401);
  });

  it('records a change with 201, defaulting optional fields, and lists it', async () => {
    service = await startTestService();
    const before = Date.now();
    const minimal = await postChange(service, { service: 'rag-assistant', kind: 'model' });
    expect(minimal.status).toBe(201);
    expect(minimal.body.created).toBe(true);
    expect(minimal.body.change).toMatchObject({
      service: 'rag-assistant',
      kind: 'model',
      fromVersion: null,
      toVersion: null,
      externalId: null,
      diff: null,
    });
    expect(Date.parse(minimal.body.change.at)).toBeGreaterThanOrEqual(before - 1000);

    const full = await postChange(service, {
      service: 'rag-assistant',
      kind: 'prompt',
      from: 'v12',
      to: 'v13',
      author: 'alice',
      at: '2026-11-22T10:00:00+01:00',
      summary: 'Cite sources inline',
      diff: '- Answer briefly.\n+ Answer briefly and cite sources.',
      link: 'https://github.com/acme/rag/pull/42',
      id: 'abc123-prompt',
    });
    expect(full.status).toBe(201);
    expect(full.body.change).toMatchObject({
      fromVersion: 'v12',
      toVersion: 'v13',
      author: 'alice',
      at: '2026-11-22T09:00:00.000Z',
      link: 'https://github.com/acme/rag/pull/42',
      externalId: 'abc123-prompt',
    });
    const listed = await listChanges(service);
    expect(listed.map((c) => c.id)).toEqual([minimal.body.change.id, full.body.change.id]);
  });

  it('answers 400 naming the bad field and stores nothing', async () => {
    service = await startTestService();
    const cases: Array<[unknown, string]> = [
      [{ kind: 'prompt' }, 'service'],
      [{ service: '  ', kind: 'prompt' }, 'service'],
      [{ service: 'rag-assistant', kind: 'weights' }, 'kind'],
      [{ service: 'rag-assistant', kind: 'prompt', at: 'yesterday' }, 'at'],
      [{ service: 'rag-assistant', kind: 'prompt', at: '2026-11-22T10:00:00' }, 'at'],
      [{ service: 'rag-assistant', kind: 'prompt', link: 'javascript:alert(1)' }, 'link'],
      [{ service: 'rag-assistant', kind: 'prompt', diff: 'x'.repeat(64 * 1024 + 1) }, 'diff'],
      [{ service: 'rag-assistant', kind: 'prompt', from: 42 }, 'from'],
      [{ service: 'rag-assistant', kind: 'prompt', summery: 'typo' }, 'summery'],
    ];
    for (const [body, field] of cases) {
      const response = await postChange(service, body);
      expect(response.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(response.body.error).toBe('validation_failed');
      expect(response.body.message).toContain(field);
    }
    const notJson = await postChange(service, '{"service":');
    expect(notJson.status).toBe(400);
    expect(notJson.body.message).toMatch(/not valid JSON/);
    expect(await listChanges(service)).toEqual([]);
  });

  it('answers 413 for a body over 256 KB', async () => {
    service = await startTestService();
    const response = await postChange(service, {
      service: 'rag-assistant',
      kind: 'code',
      diff: 'x'.repeat(300 * 1024),
    });
    expect(response.status).toBe(413);
    expect(response.body.error).toBe('payload_too_large');
    expect(await listChanges(service)).toEqual([]);
  });

  it('records a retried POST once: 201, then 200 with the existing record, and one timeline entry per change', async () => {
    service = await startTestService();
    const incidentId = await openIncident(service, 'aaaaaaaaaaaaaa01');
    const body = { service: 'rag-assistant', kind: 'prompt', to: 'v13', id: 'deadbeef-prompt' };
    const first = await postChange(service, body);
    expect(first.status).toBe(201);
    expect(first.body.incidentIds).toEqual([incidentId]);

    const repeat = await postChange(service, { ...body, to: 'v14' });
    expect(repeat.status).toBe(200);
    expect(repeat.body).toMatchObject({ created: false, incidentIds: [] });
    expect(repeat.body.change).toEqual(first.body.change);

    // Retries racing each other still record once.
    const raced = await Promise.all(
      Array.from({ length: 6 }, () => postChange(service!, { ...body, id: 'cafe-model', kind: 'model' })),
    );
    expect(raced.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    expect(new Set(raced.map((r) => r.body.change.id)).size).toBe(1);

    expect(await listChanges(service)).toHaveLength(2);
    const entries = (await timeline(service, incidentId)).filter((e) => e.kind === 'change.recorded');
    expect(entries).toHaveLength(2);
  });

  it('appends change.recorded to open incidents of the same service only, and queues an update', async () => {
    service = await startTestService();
    const open = await openIncident(service, 'bbbbbbbbbbbbbb01');
    const other = await openIncident(service, 'bbbbbbbbbbbbbb02', 'billing-bot');
    // A resolved incident of the same service (another alert group).
    const response = await service.postAlerts(
      alertmanagerBody({
        groupKey: '{}/{service="rag-assistant"}:{alertname="LatencyHigh"}',
        alerts: [{ name: 'LatencyHigh', fingerprint: 'bbbbbbbbbbbbbb03' }],
      }),
    );
    const resolvedSame = response.body.incidentId as number;
    await service.aisre.incidents.resolve(resolvedSame, { kind: 'api' });
    // Its postmortem is drafted now, so that the comparison below sees only what the change did.
    await service.aisre.postmortems.draftDue();
    const before = {
      other: await timeline(service, other),
      resolved: await timeline(service, resolvedSame),
      updates: await outboxUpdates(service, [open, other]),
    };

    const recorded = await postChange(service, {
      service: 'rag-assistant',
      kind: 'embedding',
      from: 'text-embedding-3-small',
      to: 'text-embedding-3-large',
      author: 'bob',
      summary: 'Re-embedded the corpus',
      link: 'https://ci.example.com/runs/7',
    });
    expect(recorded.status).toBe(201);
    expect(recorded.body.incidentIds).toEqual([open]);

    const entries = (await timeline(service, open)).filter((e) => e.kind === 'change.recorded');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      actor: 'api',
      summary:
        'Embedding model change on rag-assistant: text-embedding-3-small → text-embedding-3-large by bob — Re-embedded the corpus',
      data: {
        changeId: recorded.body.change.id,
        kind: 'embedding',
        link: 'https://ci.example.com/runs/7',
      },
    });
    expect(await timeline(service, other)).toEqual(before.other);
    expect(await timeline(service, resolvedSame)).toEqual(before.resolved);

    const after = await outboxUpdates(service, [open, other]);
    expect(after.get(open)).toBe((before.updates.get(open) ?? 0) + 1);
    expect(after.get(other)).toBe(before.updates.get(other));
  });

  it('filters GET /api/changes by service, kind, since, until and limit', async () => {
    service = await startTestService();
    const record = async (svc: string, kind: string, at: string) =>
      (await postChange(service!, { service: svc, kind, at })).body.change.id;
    const recent = new Date(Date.now() - 10 * 60_000).toISOString();
    const a = await record('rag-assistant', 'prompt', '2026-11-20T10:00:00Z');
    const b = await record('rag-assistant', 'model', '2026-11-21T10:00:00Z');
    const c = await record('billing-bot', 'prompt', '2026-11-22T10:00:00Z');
    const d = await record('rag-assistant', 'index', recent);

    const ids = async (query: string) => (await listChanges(service!, query)).map((change) => change.id);
    expect(await ids('')).toEqual([d, c, b, a]);
    expect(await ids('?service=rag-assistant')).toEqual([d, b, a]);
    expect(await ids('?kind=prompt')).toEqual([c, a]);
    expect(await ids('?service=rag-assistant&kind=prompt,model')).toEqual([b, a]);
    expect(await ids('?since=2026-11-21T10:00:00Z')).toEqual([d, c, b]);
    expect(await ids('?since=2026-11-21T00:00:00Z&until=2026-11-22T10:00:00%2B00:00')).toEqual([c, b]);
    expect(await ids('?since=1h')).toEqual([d]);
    expect(await ids('?limit=2')).toEqual([d, c]);

    for (const [query, field] of [
      ['?kind=weights', 'kind'],
      ['?since=last-week', 'since'],
      ['?until=tomorrow', 'until'],
      ['?limit=0', 'limit'],
    ] as const) {
      const response = await service.api<{ error: string; message: string }>(`/api/changes${query}`);
      expect(response.status, query).toBe(400);
      expect(response.body.message).toContain(field);
    }
  });

  it('records Langfuse prompt webhooks as prompt changes, once per event', async () => {
    service = await startTestService();
    const incidentId = await openIncident(service, 'cccccccccccccc01');
    const path = '/changes/langfuse?service=rag-assistant&label=production';

    const created = await post(service, path, langfusePayload(), { 'user-agent': 'Langfuse/1.0' });
    expect(created.status).toBe(201);
    expect(created.body.change).toMatchObject({
      service: 'rag-assistant',
      kind: 'prompt',
      fromVersion: null,
      toVersion: 'rag-answer v13',
      author: 'alice@example.com',
      at: '2026-11-22T10:30:00.000Z',
      externalId: 'langfuse:550e8400-e29b-41d4-a716-446655440000',
    });
    expect(created.body.change.summary).toContain('Cite sources inline');
    expect(created.body.incidentIds).toEqual([incidentId]);

    // Langfuse retries until it gets a 2xx; a retry records nothing new.
    const retry = await post(service, path, langfusePayload());
    expect(retry.status).toBe(200);
    expect(retry.body.change.id).toBe(created.body.change.id);

    // With ?label=, versions without that label (e.g. the one that lost it) are acknowledged, not recorded.
    const lostLabel = await post(
      service,
      path,
      langfusePayload({ id: 'e2', action: 'updated', labels: ['staging'] }),
    );
    expect(lostLabel.status).toBe(200);
    expect(lostLabel.body.status).toBe('ignored');

    const otherType = await post(service, path, langfusePayload({ id: 'e3', type: 'trace' }));
    expect(otherType.status).toBe(200);
    expect(otherType.body.status).toBe('ignored');

    const noService = await post(service, '/changes/langfuse', langfusePayload({ id: 'e4' }));
    expect(noService.status).toBe(400);
    expect(noService.body.message).toContain('service');

    const broken = await post(service, path, { ...langfusePayload({ id: 'e5' }), action: 'exploded' });
    expect(broken.status).toBe(400);
    expect(broken.body.message).toContain('action');

    const deleted = await post(
      service,
      '/changes/langfuse?service=rag-assistant',
      langfusePayload({ id: 'e6', action: 'deleted', labels: [] }),
    );
    expect(deleted.status).toBe(201);
    expect(deleted.body.change).toMatchObject({ fromVersion: 'rag-answer v13', toVersion: null });

    expect(await listChanges(service, '?kind=prompt')).toHaveLength(2);
  });

  it('answers 503 when the database is unreachable, so senders retry', async () => {
    service = await startTestService();
    const body = { service: 'rag-assistant', kind: 'config', id: 'cfg-1' };
    if (service.database.config.kind === 'postgres') {
      const url = new URL(service.database.config.url);
      const name = url.pathname.slice(1);
      const admin = new pg.Client({ connectionString: url.toString().replace(`/${name}`, '/postgres') });
      await admin.connect();
      await admin.query(`alter database ${name} allow_connections false`);
      await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [name]);
      try {
        const response = await postChange(service, body);
        expect(response.status).toBe(503);
        expect(response.body.error).toBe('unavailable');
      } finally {
        await admin.query(`alter database ${name} allow_connections true`);
        await admin.end();
      }
      expect((await postChange(service, body)).status).toBe(201);
    } else {
      await service.aisre.db.close();
      const response = await postChange(service, body);
      expect(response.status).toBe(503);
      expect(response.body.error).toBe('unavailable');
    }
  });
});

describe(`KnexChangeEventStore.list (${TEST_DB_KIND})`, () => {
  it('filters by service, kinds and an inclusive window, newest first, with a limit', async () => {
    service = await startTestService();
    const store = new KnexChangeEventStore(service.aisre.db.knex);
    const insert = async (svc: string, kind: ChangeEvent['kind'], at: string): Promise<number> => {
      const change = await store.insert({
        service: svc,
        kind,
        fromVersion: null,
        toVersion: null,
        author: null,
        at: new Date(at),
        summary: null,
        diff: null,
        link: null,
        externalId: null,
        recordedAt: new Date(),
      });
      return change!.id;
    };
    const p1 = await insert('rag-assistant', 'prompt', '2026-11-22T08:00:00Z');
    const m1 = await insert('rag-assistant', 'model', '2026-11-22T09:00:00Z');
    const i1 = await insert('rag-assistant', 'index', '2026-11-22T10:00:00Z');
    const p2 = await insert('billing-bot', 'prompt', '2026-11-22T09:30:00Z');
    const late = await insert('rag-assistant', 'prompt', '2026-11-22T12:00:00Z');
    const tie = await insert('rag-assistant', 'config', '2026-11-22T10:00:00Z');

    const ids = (changes: Array<{ id: number }>) => changes.map((change) => change.id);
    // The shape the diagnosis `changes` check uses.
    const reader: ChangeEventReader = store;
    const window = { from: new Date('2026-11-22T09:00:00Z'), to: new Date('2026-11-22T10:00:00Z') };
    expect(ids(await reader.list({ service: 'rag-assistant', kinds: [], ...window }))).toEqual([tie, i1, m1]);
    expect(ids(await reader.list({ service: null, kinds: [], ...window }))).toEqual([tie, i1, p2, m1]);
    expect(ids(await reader.list({ service: null, kinds: ['prompt'], ...window }))).toEqual([p2]);
    expect(
      ids(await reader.list({ service: 'rag-assistant', kinds: ['prompt', 'model'], ...window })),
    ).toEqual([m1]);
    expect(ids(await store.list({ kinds: ['prompt'] }))).toEqual([late, p2, p1]);
    expect(ids(await store.list({ to: new Date('2026-11-22T08:59:59Z') }))).toEqual([p1]);
    expect(ids(await store.list({ limit: 2 }))).toEqual([late, tie]);
    expect(await store.list({ service: 'nobody' })).toEqual([]);

    const [first] = await reader.list({ service: 'rag-assistant', kinds: ['index'], ...window });
    expect(first).toMatchObject({ id: i1, service: 'rag-assistant', kind: 'index', at: window.to });
  });
});
