import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { serveScenarioMetrics } from '../scenarios/scenario-runner.js';
import { alertmanagerBody } from '../support/alertmanager-payloads.js';
import { RUNBOOKS_DIR, scenarioNamed } from '../support/diagnosis-support.js';
import { privatePostgresUnavailable, startPrivatePostgres } from '../support/private-postgres.js';
import { startPrometheusStandIn } from '../support/prometheus-stand-in.js';
import { startSlackEmulator } from '../support/slack-emulator.js';
import { findCard } from '../support/slack-flow.js';
import { TEST_DB_KIND } from '../support/test-database.js';
import { ALERTMANAGER_TOKEN, INCIDENTS_CHANNEL, startTestService } from '../support/test-service.js';

// Only PostgreSQL has a server to restart: embedded PGlite lives and dies with the process.
const skipped =
  TEST_DB_KIND !== 'postgres' ? 'PGlite has no server to restart' : privatePostgresUnavailable();

const GROUPS = 16;
const DOWN_MS = 5000;

interface Delivery {
  group: number;
  body: string;
  answers: Array<{ at: number; status: number | 'refused' }>;
}

/**
 * Delivers one body as Alertmanager does: a 5xx or a refused connection is retried with backoff
 * until it gets a 2xx; a 4xx is final.
 */
async function deliver(url: string, delivery: Delivery, deadline: number): Promise<void> {
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    let status: number | 'refused';
    try {
      const response = await fetch(`${url}/alertmanager`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Alertmanager/0.25.0',
          authorization: `Bearer ${ALERTMANAGER_TOKEN}`,
        },
        body: delivery.body,
      });
      status = response.status;
      await response.arrayBuffer();
    } catch {
      status = 'refused';
    }
    delivery.answers.push({ at: Date.now(), status });
    if (typeof status === 'number' && status < 500) return;
    await delay(Math.min(1000, 100 * 2 ** attempt));
  }
}

/** Each group fires one alert, a second joins it, and Alertmanager repeats that body byte for byte. */
function groupBodies(group: number): string[] {
  const groupKey = `{}/{service="rag-assistant"}:{alertname="Storm${group}"}`;
  const startsAt = new Date(Date.now() - 20 * 60_000).toISOString();
  const alert = (n: number) => ({
    name: `Storm${group}`,
    fingerprint: `${group.toString(16).padStart(4, '0')}00000000000${n}`,
    startsAt,
    labels: { instance: `pod-${n}` },
  });
  const joined = JSON.stringify(alertmanagerBody({ groupKey, alerts: [alert(1), alert(2)] }));
  return [JSON.stringify(alertmanagerBody({ groupKey, alerts: [alert(1)] })), joined, joined];
}

describe.skipIf(skipped !== undefined)(
  `PostgreSQL restarted mid-traffic (${TEST_DB_KIND}${skipped ? `; skipped: ${skipped}` : ''})`,
  { timeout: 180_000 },
  () => {
    it('answers 503 while it is down; retried deliveries then land once, and nothing stays stuck', async () => {
      const server = await startPrivatePostgres();
      const emulator = await startSlackEmulator({
        channels: [{ id: INCIDENTS_CHANNEL, name: 'incidents' }],
        postMessageBurst: Number.POSITIVE_INFINITY,
      });
      const prom = await startPrometheusStandIn();
      let service: Awaited<ReturnType<typeof startTestService>> | undefined;
      try {
        // Every incident is diagnosed on its own, so sessions are mid-tree when the server goes.
        serveScenarioMetrics(prom, scenarioNamed('index-job-failing'), {
          service: 'rag-assistant',
          cutoff: new Date(Date.now() - 20 * 60_000),
        });
        service = await startTestService({
          slack: emulator,
          database: server.database,
          env: {
            PROMETHEUS_URL: prom.url,
            AISRE_RUNBOOKS_DIR: RUNBOOKS_DIR,
            AISRE_AUTO_DIAGNOSE: 'true',
          },
        });
        const url = service.url;
        const deliveries: Delivery[] = [];
        for (let group = 0; group < GROUPS; group++) {
          for (const body of groupBodies(group)) deliveries.push({ group, body, answers: [] });
        }

        // Groups start 250 ms apart, each sending its bodies in order; the server goes down after
        // the first second and comes back DOWN_MS later, in the middle of the traffic.
        const deadline = Date.now() + 90_000;
        const traffic = Promise.all(
          Array.from({ length: GROUPS }, async (_, group) => {
            await delay(group * 250);
            for (const delivery of deliveries.filter((d) => d.group === group)) {
              await deliver(url, delivery, deadline);
            }
          }),
        );
        await delay(1000);
        const downAt = Date.now();
        await server.stop('immediate');
        await delay(DOWN_MS);
        await server.start();
        const upAt = Date.now();
        await traffic;

        const answers = deliveries.flatMap((d) => d.answers);
        const whileDown = answers.filter((a) => a.at > downAt + 200 && a.at < upAt);
        // While the server was down, intake said so with 503 and nothing else.
        expect(whileDown.length).toBeGreaterThan(0);
        expect(new Set(whileDown.map((a) => a.status))).toEqual(new Set([503]));
        expect(answers.filter((a) => a.status !== 200 && a.status !== 503)).toEqual([]);
        // Every delivery got its 200 in the end.
        expect(deliveries.filter((d) => d.answers.at(-1)?.status !== 200)).toEqual([]);
        const retried = deliveries.filter((d) => d.answers.length > 1);
        expect(retried.length).toBeGreaterThan(0);
        const lastOk = Math.max(...answers.filter((a) => a.status === 200).map((a) => a.at));
        console.info(
          `[fault] PostgreSQL down ${DOWN_MS / 1000} s (stopped immediate) under ${deliveries.length} deliveries: ` +
            `${answers.filter((a) => a.status === 503).length} answered 503, ${retried.length} deliveries retried, ` +
            `all stored ${((lastOk - upAt) / 1000).toFixed(1)} s after it was back`,
        );

        // Exactly one incident per group, each with its two alerts, nothing doubled.
        const db = new pg.Client({ connectionString: server.database.env.DATABASE_URL });
        await db.connect();
        try {
          const incidents = await db.query(
            `select i.id, i.alerts_firing,
                    (select count(*) from alert_occurrences o where o.incident_id = i.id)::int as occurrences,
                    (select count(*) from incident_timeline t where t.incident_id = i.id and t.kind = 'alert.firing')::int as firing,
                    (select count(*) from incident_timeline t where t.incident_id = i.id and t.kind = 'incident.opened')::int as opened
               from incidents i order by i.id`,
          );
          expect(incidents.rows).toHaveLength(GROUPS);
          for (const row of incidents.rows) {
            expect(row).toMatchObject({ alerts_firing: 2, occurrences: 2, firing: 2, opened: 1 });
          }

          // No diagnosis session or outbox operation is left behind: every session concludes or
          // asks a person (a check that read the database while it was down reports an error,
          // which never passes), and Slack gets every incident's card.
          const stuck = async () => {
            const sessions = await db.query(
              `select incident_id, status, current_node from diagnosis_sessions where status = 'running'`,
            );
            const outbox = await db.query(
              `select id, status from slack_outbox where status in ('pending', 'running', 'dead')`,
            );
            return { sessions: sessions.rows, outbox: outbox.rows };
          };
          const settleDeadline = Date.now() + 45_000;
          let left = await stuck();
          while ((left.sessions.length > 0 || left.outbox.length > 0) && Date.now() < settleDeadline) {
            await delay(250);
            left = await stuck();
          }
          expect(left).toEqual({ sessions: [], outbox: [] });
          // Every incident was diagnosed, once, even one opened just as the server went away.
          const sessions = await db.query(
            `select incident_id, count(*)::int as n, count(*) filter (where status = 'concluded')::int as concluded
               from diagnosis_sessions group by incident_id`,
          );
          expect(sessions.rows).toHaveLength(GROUPS);
          expect(sessions.rows.every((row) => row.n === 1)).toBe(true);
          const concluded = sessions.rows.filter((row) => row.concluded === 1).length;
          console.info(
            `[fault] after the restart: ${concluded} diagnoses concluded, ${GROUPS - concluded} asked a person`,
          );
          const channels = await db.query(
            'select incident_id, channel_id from slack_incident_channels order by incident_id',
          );
          expect(channels.rows).toHaveLength(GROUPS);
          for (const row of channels.rows) {
            expect(findCard(emulator, row.channel_id, row.incident_id)).toBeDefined();
          }
          expect(emulator.messages(INCIDENTS_CHANNEL)).toHaveLength(GROUPS);
        } finally {
          await db.end();
        }
      } finally {
        await service?.stop();
        await server.destroy();
        await emulator.close();
        await prom.close();
      }
    });
  },
);
