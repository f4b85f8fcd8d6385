import { describe, expect, it } from 'vitest';
import {
  AlertmanagerStandIn,
  fingerprint,
  type WebhookPayload,
} from '../../../src/demo/alertmanager-stand-in.js';
import type { AlertUpdate } from '../../../src/demo/rule-evaluator.js';

const T0 = Date.parse('2026-11-22T10:00:00Z');

function alert(name: string, service: string, endsAt: number | null = null): AlertUpdate {
  return {
    labels: { alertname: name, service, severity: 'critical' },
    annotations: { summary: `${name} on ${service}` },
    startsAt: T0,
    endsAt,
    generatorURL: 'http://prom/graph',
  };
}

function standIn(status = 200) {
  const sent: Array<{ url: string; headers: Record<string, string>; payload: WebhookPayload }> = [];
  const fakeFetch = (async (url: string, init: RequestInit) => {
    sent.push({
      url,
      headers: init.headers as Record<string, string>,
      payload: JSON.parse(String(init.body)) as WebhookPayload,
    });
    return new Response(JSON.stringify({ status: 'accepted' }), { status });
  }) as typeof fetch;
  const alertmanager = new AlertmanagerStandIn({
    webhookUrl: 'http://aisre/alertmanager',
    bearerToken: 'secret-token',
    externalUrl: 'http://am',
    groupWaitMs: 30_000,
    groupIntervalMs: 60_000,
    fetch: fakeFetch,
  });
  return { alertmanager, sent };
}

describe('the demo Alertmanager stand-in', () => {
  it('groups by service, waits group_wait, then sends a v4 webhook with bearer auth', async () => {
    const { alertmanager, sent } = standIn();
    alertmanager.receive([alert('A', 'svc'), alert('B', 'svc'), alert('A', 'other')], T0);
    expect(await alertmanager.flush(T0 + 15_000)).toEqual([]);
    const deliveries = await alertmanager.flush(T0 + 30_000);
    expect(deliveries.map((d) => d.status)).toEqual([200, 200]);
    expect(sent[0]!.url).toBe('http://aisre/alertmanager');
    expect(sent[0]!.headers.authorization).toBe('Bearer secret-token');
    const svc = sent.find((s) => s.payload.groupLabels.service === 'svc')!.payload;
    expect(svc).toMatchObject({
      version: '4',
      groupKey: '{}:{service="svc"}',
      status: 'firing',
      receiver: 'aisre',
      truncatedAlerts: 0,
      commonLabels: { service: 'svc', severity: 'critical' },
      externalURL: 'http://am',
    });
    expect(svc.alerts.map((a) => [a.labels.alertname, a.status, a.endsAt])).toEqual([
      ['A', 'firing', '0001-01-01T00:00:00Z'],
      ['B', 'firing', '0001-01-01T00:00:00Z'],
    ]);
    expect(svc.alerts[0]!.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(svc.alerts[0]!.fingerprint).toBe(fingerprint(svc.alerts[0]!.labels));
  });

  it('sends again only when the group changed and group_interval passed, then the resolution', async () => {
    const { alertmanager, sent } = standIn();
    alertmanager.receive([alert('A', 'svc')], T0);
    await alertmanager.flush(T0 + 30_000);
    alertmanager.receive([alert('A', 'svc')], T0 + 45_000);
    expect(await alertmanager.flush(T0 + 120_000)).toEqual([]);
    alertmanager.receive([alert('A', 'svc', T0 + 130_000)], T0 + 130_000);
    expect(await alertmanager.flush(T0 + 135_000)).toHaveLength(1);
    expect(sent.at(-1)!.payload).toMatchObject({ status: 'resolved', alerts: [{ status: 'resolved' }] });
    expect(sent.at(-1)!.payload.alerts[0]!.endsAt).toBe(new Date(T0 + 130_000).toISOString());
    // Delivered resolutions leave the group; nothing more is sent.
    expect(await alertmanager.flush(T0 + 300_000)).toEqual([]);
  });

  it('tries a refused delivery again at the next flush', async () => {
    const { alertmanager, sent } = standIn(503);
    alertmanager.receive([alert('A', 'svc')], T0);
    await alertmanager.flush(T0 + 30_000);
    await alertmanager.flush(T0 + 45_000);
    expect(sent).toHaveLength(2);
  });
});
