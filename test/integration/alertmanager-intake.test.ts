import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { alertmanagerBody } from '../support/alertmanager-payloads.js';
import { TEST_DB_KIND } from '../support/test-database.js';
import { ALERTMANAGER_TOKEN, startTestService, type TestService } from '../support/test-service.js';

interface IncidentJson {
  id: number;
  status: string;
  severity: string;
  title: string;
  alertsFiring: number;
  alertsResolved: number;
  truncatedAlerts: number;
  allAlertsResolvedAt: string | null;
  layerHint: string | null;
  runbookUrl: string | null;
  generatorUrl: string | null;
}
interface DetailJson {
  incident: IncidentJson;
  alerts: Array<{ fingerprint: string; status: string; startsAt: string }>;
  timeline: Array<{ kind: string; actor: string; summary: string }>;
}

let service: TestService | undefined;
afterEach(async () => {
  await service?.dispose();
  service = undefined;
});

async function incidents(s: TestService): Promise<IncidentJson[]> {
  return (await s.api<{ incidents: IncidentJson[] }>('/api/incidents?status=all')).body.incidents;
}
async function detail(s: TestService, id: number): Promise<DetailJson> {
  return (await s.api<DetailJson>(`/api/incidents/${id}`)).body;
}

describe(`POST /alertmanager (${TEST_DB_KIND})`, () => {
  it('refuses missing or wrong credentials with 401 and stores nothing', async () => {
    service = await startTestService();
    const body = alertmanagerBody({ alerts: [{ name: 'EvalPassRateLow', fingerprint: 'aaaaaaaaaaaaaaa1' }] });
    expect((await service.postAlerts(body, { authorization: '' })).status).toBe(401);
    expect((await service.postAlerts(body, { authorization: 'Bearer wrong' })).status).toBe(401);
    const wrongBasic = `Basic ${Buffer.from('alertmanager:nope').toString('base64')}`;
    const unauthorized = await service.postAlerts(body, { authorization: wrongBasic });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.body.message).toMatch(/ALERTMANAGER_TOKEN/);
    expect(await incidents(service)).toEqual([]);

    const basic = `Basic ${Buffer.from(`alertmanager:${ALERTMANAGER_TOKEN}`).toString('base64')}`;
    expect((await service.postAlerts(body, { authorization: basic })).status).toBe(200);
    expect(await incidents(service)).toHaveLength(1);
  });

  it('answers 400 naming the bad field, and writes nothing of a bad delivery', async () => {
    service = await startTestService();
    const body = alertmanagerBody({
      alerts: [
        { name: 'EvalPassRateLow', fingerprint: 'aaaaaaaaaaaaaaa1' },
        { name: 'Other', fingerprint: 'aaaaaaaaaaaaaaa2', startsAt: 'yesterday' },
      ],
    });
    const response = await service.postAlerts(body);
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('validation_failed');
    expect(response.body.message).toContain('alerts[1].startsAt');

    const notJson = await service.postAlerts('{"version":');
    expect(notJson.status).toBe(400);
    expect(notJson.body.message).toMatch(/not valid JSON/);

    const wrongVersion = await service.postAlerts({ ...alertmanagerBody({ alerts: [] }), version: '3' });
    expect(wrongVersion.status).toBe(400);
    expect(wrongVersion.body.message).toContain('version');
    expect(await incidents(service)).toEqual([]);
  });

  it('answers 413 for an oversized body', async () => {
    service = await startTestService({ env: { ALERTMANAGER_MAX_BODY_BYTES: '2048' } });
    const alerts = Array.from({ length: 40 }, (_, i) => ({
      name: `Alert${i}`,
      fingerprint: `bbbbbbbbbbbbbb${String(i).padStart(2, '0')}`,
    }));
    const response = await service.postAlerts(alertmanagerBody({ alerts }));
    expect(response.status).toBe(413);
    expect(response.body.error).toBe('payload_too_large');
  });

  it('opens one incident per receiver and groupKey, with severity, title, runbook and layer hint', async () => {
    service = await startTestService();
    const first = await service.postAlerts(
      alertmanagerBody({
        alerts: [
          {
            name: 'EvalPassRateLow',
            fingerprint: 'aaaaaaaaaaaaaaa1',
            labels: { severity: 'critical', layer: 'generation' },
            annotations: {
              summary: 'Eval pass rate fell to 71%',
              runbook_url: 'https://runbooks.local/eval',
            },
          },
        ],
      }),
    );
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ opened: true, newOccurrences: 1 });

    // A second alert joins the same group later: same incident.
    const later = await service.postAlerts(
      alertmanagerBody({
        alerts: [
          { name: 'EvalPassRateLow', fingerprint: 'aaaaaaaaaaaaaaa1' },
          { name: 'AnswerRelevanceLow', fingerprint: 'aaaaaaaaaaaaaaa2' },
        ],
      }),
    );
    expect(later.body).toMatchObject({ opened: false, incidentId: first.body.incidentId, newOccurrences: 1 });

    // The same alerts through another receiver are another team's incident.
    const other = await service.postAlerts(
      alertmanagerBody({
        receiver: 'ml-oncall',
        alerts: [{ name: 'EvalPassRateLow', fingerprint: 'aaaaaaaaaaaaaaa1' }],
      }),
    );
    expect(other.body.opened).toBe(true);

    const all = await incidents(service);
    expect(all).toHaveLength(2);
    const incident = all.find((i) => i.id === first.body.incidentId)!;
    expect(incident).toMatchObject({
      severity: 'SEV1',
      title: 'Eval pass rate fell to 71%',
      layerHint: 'generation',
      runbookUrl: 'https://runbooks.local/eval',
      generatorUrl: 'http://prometheus.local:9090/graph?g0.expr=up',
      alertsFiring: 2,
      status: 'triggered',
    });
  });

  it('treats byte-identical repeats and retries as no-ops', async () => {
    service = await startTestService();
    const raw = JSON.stringify(
      alertmanagerBody({
        alerts: [
          { name: 'EvalPassRateLow', fingerprint: 'aaaaaaaaaaaaaaa1' },
          { name: 'TokenSpendHigh', fingerprint: 'aaaaaaaaaaaaaaa2', status: 'resolved' },
        ],
      }),
    );
    const first = await service.postAlerts(raw);
    const before = await detail(service, first.body.incidentId as number);
    for (let i = 0; i < 3; i++) {
      const repeat = await service.postAlerts(raw);
      expect(repeat.body).toMatchObject({
        opened: false,
        newOccurrences: 0,
        resolvedOccurrences: 0,
        unchanged: 2,
      });
    }
    const after = await detail(service, first.body.incidentId as number);
    expect(await incidents(service)).toHaveLength(1);
    expect(after.alerts).toHaveLength(2);
    expect(after.timeline).toEqual(before.timeline);
  });

  it('opens exactly one incident when deliveries of one group race', async () => {
    service = await startTestService();
    const responses = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        service!.postAlerts(
          alertmanagerBody({ alerts: [{ name: `Alert${i % 4}`, fingerprint: `cccccccccccccc0${i % 4}` }] }),
        ),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(12).fill(200));
    const all = await incidents(service);
    expect(all).toHaveLength(1);
    expect((await detail(service, all[0]!.id)).alerts).toHaveLength(4);
  });

  it('uses each alert’s own status in mixed bodies and records when every alert resolved', async () => {
    service = await startTestService();
    const opened = await service.postAlerts(
      alertmanagerBody({
        alerts: [
          { name: 'A', fingerprint: 'dddddddddddddd01' },
          { name: 'B', fingerprint: 'dddddddddddddd02' },
        ],
      }),
    );
    const id = opened.body.incidentId as number;
    // Top-level status says firing because B still fires; A resolved on its own.
    const mixed = await service.postAlerts(
      alertmanagerBody({
        alerts: [
          { name: 'A', fingerprint: 'dddddddddddddd01', status: 'resolved' },
          { name: 'B', fingerprint: 'dddddddddddddd02' },
        ],
      }),
    );
    expect(mixed.body).toMatchObject({ resolvedOccurrences: 1 });
    let current = await detail(service, id);
    expect(current.incident).toMatchObject({ alertsFiring: 1, alertsResolved: 1, allAlertsResolvedAt: null });

    await service.postAlerts(
      alertmanagerBody({
        alerts: [
          { name: 'A', fingerprint: 'dddddddddddddd01', status: 'resolved' },
          { name: 'B', fingerprint: 'dddddddddddddd02', status: 'resolved' },
        ],
      }),
    );
    current = await detail(service, id);
    expect(current.incident.allAlertsResolvedAt).not.toBeNull();
    expect(current.incident.status).toBe('triggered');
    expect(current.timeline.filter((e) => e.kind === 'alerts.all_resolved')).toHaveLength(1);

    // A late retry of the older firing body cannot bring a resolved occurrence back.
    await service.postAlerts(alertmanagerBody({ alerts: [{ name: 'A', fingerprint: 'dddddddddddddd01' }] }));
    current = await detail(service, id);
    expect(current.incident.alertsFiring).toBe(0);
  });

  it('does not reopen or touch a resolved incident when resolved alerts are re-sent', async () => {
    service = await startTestService();
    const opened = await service.postAlerts(
      alertmanagerBody({ alerts: [{ name: 'A', fingerprint: 'eeeeeeeeeeeeee01' }] }),
    );
    const id = opened.body.incidentId as number;
    await service.aisre.incidents.resolve(id, { kind: 'slack', userId: 'U0RESPONDER' });
    const resolvedBody = alertmanagerBody({
      alerts: [{ name: 'A', fingerprint: 'eeeeeeeeeeeeee01', status: 'resolved' }],
    });
    await service.postAlerts(resolvedBody);
    const before = await detail(service, id);
    for (let i = 0; i < 3; i++) {
      const resend = await service.postAlerts(resolvedBody);
      expect(resend.body).toMatchObject({ opened: false, incidentId: null });
    }
    expect(await incidents(service)).toHaveLength(1);
    const after = await detail(service, id);
    expect(after.incident.status).toBe('resolved');
    expect(after.timeline).toEqual(before.timeline);
  });

  it('opens a new incident when the same fingerprint fires again after resolution', async () => {
    service = await startTestService();
    const first = await service.postAlerts(
      alertmanagerBody({
        alerts: [{ name: 'A', fingerprint: 'ffffffffffffff01', startsAt: '2026-11-22T10:00:00Z' }],
      }),
    );
    await service.aisre.incidents.resolve(first.body.incidentId as number, { kind: 'api' });
    const again = await service.postAlerts(
      alertmanagerBody({
        alerts: [{ name: 'A', fingerprint: 'ffffffffffffff01', startsAt: '2026-11-22T12:00:00Z' }],
      }),
    );
    expect(again.body.opened).toBe(true);
    expect(again.body.incidentId).not.toBe(first.body.incidentId);
  });

  it('does not trust a truncated delivery to say everything resolved', async () => {
    service = await startTestService();
    const opened = await service.postAlerts(
      alertmanagerBody({ alerts: [{ name: 'A', fingerprint: '1111111111111101' }] }),
    );
    const id = opened.body.incidentId as number;
    await service.postAlerts(
      alertmanagerBody({
        status: 'resolved',
        truncatedAlerts: 3,
        alerts: [{ name: 'A', fingerprint: '1111111111111101', status: 'resolved' }],
      }),
    );
    const current = await detail(service, id);
    expect(current.incident).toMatchObject({
      alertsFiring: 0,
      truncatedAlerts: 3,
      allAlertsResolvedAt: null,
    });
    expect(current.timeline.map((e) => e.kind)).toContain('alerts.truncated');
  });

  it('maps severities with the configured table and raises severity when a worse alert joins', async () => {
    service = await startTestService({ env: { AISRE_SEVERITY_MAP: 'page=SEV1,ticket=SEV3,*=SEV4' } });
    const opened = await service.postAlerts(
      alertmanagerBody({
        alerts: [{ name: 'A', fingerprint: '2222222222222201', labels: { severity: 'ticket' } }],
      }),
    );
    const id = opened.body.incidentId as number;
    expect((await detail(service, id)).incident.severity).toBe('SEV3');
    await service.postAlerts(
      alertmanagerBody({
        alerts: [{ name: 'B', fingerprint: '2222222222222202', labels: { severity: 'page' } }],
      }),
    );
    const current = await detail(service, id);
    expect(current.incident.severity).toBe('SEV1');
    expect(current.timeline.map((e) => e.kind)).toContain('severity.changed');
  });

  it('answers 503 when the database is unreachable, so Alertmanager retries', async () => {
    service = await startTestService();
    const body = alertmanagerBody({ alerts: [{ name: 'A', fingerprint: '3333333333333301' }] });
    if (service.database.config.kind === 'postgres') {
      const url = new URL(service.database.config.url);
      const name = url.pathname.slice(1);
      const admin = new pg.Client({ connectionString: url.toString().replace(`/${name}`, '/postgres') });
      await admin.connect();
      await admin.query(`alter database ${name} allow_connections false`);
      await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [name]);
      try {
        const response = await service.postAlerts(body);
        expect(response.status).toBe(503);
        expect(response.body.error).toBe('unavailable');
      } finally {
        await admin.query(`alter database ${name} allow_connections true`);
        await admin.end();
      }
      const retried = await service.postAlerts(body);
      expect(retried.status).toBe(200);
    } else {
      await service.aisre.db.close();
      const response = await service.postAlerts(body);
      expect(response.status).toBe(503);
    }
  });
});
