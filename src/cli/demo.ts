import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../config.js';
import { startAisre } from '../main.js';
import { startDemoPrometheus } from './demo-prometheus.js';
import { sampleDelivery } from './sample-alerts.js';

interface IncidentDetail {
  incident: {
    id: number;
    title: string;
    status: string;
    severity: string;
    alertsFiring: number;
    alertsResolved: number;
    diagnosis: { sessionId: number; conclusion: { layer: string; hypothesis: string } | null } | null;
  };
  timeline: Array<{ at: string; actor: string; summary: string }>;
  slack: { channelName: string | null } | null;
}

const say = (text: string) => process.stdout.write(`${text}\n`);

/**
 * `npm run demo`: runs aisre on embedded PGlite with Slack printed to the terminal. CI records a
 * prompt deploy, Alertmanager sends alerts over HTTP, the diagnosis tree finds the failed layer
 * from canned metrics, the alerts resolve, a responder resolves the incident, its postmortem is
 * drafted, and the incident is shown from the JSON API.
 * `--keep` leaves the service running for you to poke at.
 */
export async function runDemo(options: { keep: boolean; dataDir: string }): Promise<void> {
  const dataDir = path.join(options.dataDir, 'demo');
  await rm(dataDir, { recursive: true, force: true });
  const prometheus = await startDemoPrometheus();
  const alertmanagerToken = randomBytes(16).toString('hex');
  const apiToken = randomBytes(16).toString('hex');
  const config = loadConfig({
    DATABASE_URL: '',
    AISRE_DATA_DIR: dataDir,
    SLACK_BOT_TOKEN: '',
    SLACK_APP_TOKEN: '',
    ALERTMANAGER_TOKEN: alertmanagerToken,
    AISRE_API_TOKEN: apiToken,
    HOST: '127.0.0.1',
    PORT: options.keep ? undefined : '0',
    LOG_LEVEL: 'warn',
    PROMETHEUS_URL: prometheus.url,
    AISRE_AUTO_DIAGNOSE: 'true',
  });

  say('aisre demo: starting on embedded PGlite, Slack messages are printed below.');
  const aisre = await startAisre(config, { print: say });
  try {
    say(`Service up at ${aisre.url}; canned metrics for the diagnosis at ${prometheus.url}\n`);
    const startsAt = new Date(Date.now() - 3 * 60_000);

    say('0. CI records a prompt deploy 40 minutes earlier with POST /changes');
    const change = await post(aisre.url, '/changes', apiToken, {
      service: 'rag-assistant',
      kind: 'prompt',
      from: 'answer-v12',
      to: 'answer-v13',
      author: 'alice',
      summary: 'Shorter, more assertive answers',
      at: new Date(Date.now() - 40 * 60_000).toISOString(),
      id: 'demo-prompt-v13',
    });
    say(`   → ${change.status}`);

    say('\n1. Alertmanager posts two firing alerts for rag-assistant to POST /alertmanager');
    const opened = await post(
      aisre.url,
      '/alertmanager',
      alertmanagerToken,
      sampleDelivery({ startsAt, status: 'firing' }),
    );
    say(`   → ${opened.status} ${JSON.stringify(opened.body)}`);
    const id = (opened.body as { incidentId: number }).incidentId;

    say(
      '\n   AISRE_AUTO_DIAGNOSE is on: the diagnosis tree runs its checks and posts each step in the thread',
    );
    const sessionId = await waitForDiagnosis(aisre.url, apiToken, id);
    await aisre.diagnosis.settled(sessionId);
    await aisre.outbox.drain(20_000);

    say('\n2. Alertmanager repeats the same notification byte for byte (repeat_interval)');
    const repeat = await post(
      aisre.url,
      '/alertmanager',
      alertmanagerToken,
      sampleDelivery({ startsAt, status: 'firing' }),
    );
    say(`   → ${repeat.status} ${JSON.stringify(repeat.body)} (nothing new)`);

    say('\n3. Both alerts resolve');
    const resolved = await post(
      aisre.url,
      '/alertmanager',
      alertmanagerToken,
      sampleDelivery({ startsAt, status: 'resolved' }),
    );
    say(`   → ${resolved.status} ${JSON.stringify(resolved.body)}`);
    await aisre.outbox.drain(20_000);

    say('\n4. A responder resolves the incident (as /aisre resolve does); aisre drafts the postmortem');
    say(`   → ${(await aisre.incidents.resolve(id, { kind: 'slack', userId: 'U0DEMO' })).message}`);
    await aisre.postmortems.draftDue();
    await aisre.outbox.drain(20_000);
    const postmortem = await fetch(`${aisre.url}/api/incidents/${id}/postmortem.md`, {
      headers: { authorization: `Bearer ${apiToken}` },
    });
    say(
      `   GET /api/incidents/${id}/postmortem.md → ${postmortem.status}, ${(await postmortem.text()).length} characters of Markdown`,
    );

    const detail = await getIncident(aisre.url, apiToken, id);
    const { incident } = detail;
    say(`\n5. The incident as GET /api/incidents/${id} returns it:`);
    say(`   INC-${incident.id} [${incident.severity}] ${incident.title}`);
    say(`   status ${incident.status}; ${incident.alertsFiring} firing, ${incident.alertsResolved} resolved`);
    if (detail.slack?.channelName) say(`   Slack channel #${detail.slack.channelName}`);
    const conclusion = incident.diagnosis?.conclusion;
    if (conclusion) say(`   diagnosis: ${conclusion.layer} layer. ${conclusion.hypothesis}`);
    say('   timeline:');
    for (const entry of detail.timeline) say(`     ${entry.at}  ${entry.actor.padEnd(20)} ${entry.summary}`);

    if (options.keep) {
      say(`\n--keep: aisre keeps running at ${aisre.url}. Try:`);
      say(`   curl -H 'Authorization: Bearer ${apiToken}' ${aisre.url}/api/incidents`);
      say(`   curl ${aisre.url}/metrics`);
      say('Press Ctrl-C to stop.');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
    } else {
      say('\nDone. Run `npm run demo -- --keep` to leave the service running.');
    }
  } finally {
    await aisre.stop();
    await prometheus.close();
  }
}

async function getIncident(url: string, token: string, id: number): Promise<IncidentDetail> {
  const response = await fetch(`${url}/api/incidents/${id}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return (await response.json()) as IncidentDetail;
}

/** Auto-diagnosis starts just after the delivery commits; wait until the incident shows it. */
async function waitForDiagnosis(url: string, token: string, incidentId: number): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const { incident } = await getIncident(url, token, incidentId);
    if (incident.diagnosis) return incident.diagnosis.sessionId;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the diagnosis did not start');
}

async function post(
  url: string,
  path: string,
  token: string,
  body: unknown,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
      'user-agent': 'aisre-demo',
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}
