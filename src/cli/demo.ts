import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../config.js';
import { startAisre } from '../main.js';
import { sampleDelivery } from './sample-alerts.js';

interface IncidentDetail {
  incident: {
    id: number;
    title: string;
    status: string;
    severity: string;
    alertsFiring: number;
    alertsResolved: number;
  };
  timeline: Array<{ at: string; actor: string; summary: string }>;
  slack: { channelName: string | null } | null;
}

const say = (text: string) => process.stdout.write(`${text}\n`);

/**
 * `npm run demo`: runs aisre on embedded PGlite with Slack printed to the terminal, sends it an
 * Alertmanager delivery over HTTP, shows the incident and its Slack messages, then resolves the
 * alerts and exits. `--keep` leaves the service running for you to poke at.
 */
export async function runDemo(options: { keep: boolean; dataDir: string }): Promise<void> {
  const dataDir = path.join(options.dataDir, 'demo');
  await rm(dataDir, { recursive: true, force: true });
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
  });

  say('aisre demo: starting on embedded PGlite, Slack messages are printed below.');
  const aisre = await startAisre(config, { print: say });
  try {
    say(`Service up at ${aisre.url}\n`);
    const startsAt = new Date(Date.now() - 3 * 60_000);

    say('1. Alertmanager posts two firing alerts for rag-assistant to POST /alertmanager');
    const opened = await postDelivery(
      aisre.url,
      alertmanagerToken,
      sampleDelivery({ startsAt, status: 'firing' }),
    );
    say(`   → ${opened.status} ${JSON.stringify(opened.body)}`);
    await aisre.outbox.drain();

    say('\n2. Alertmanager repeats the same notification byte for byte (repeat_interval)');
    const repeat = await postDelivery(
      aisre.url,
      alertmanagerToken,
      sampleDelivery({ startsAt, status: 'firing' }),
    );
    say(`   → ${repeat.status} ${JSON.stringify(repeat.body)} (nothing new)`);

    say('\n3. Both alerts resolve');
    const resolved = await postDelivery(
      aisre.url,
      alertmanagerToken,
      sampleDelivery({ startsAt, status: 'resolved' }),
    );
    say(`   → ${resolved.status} ${JSON.stringify(resolved.body)}`);
    await aisre.outbox.drain();

    const id = (opened.body as { incidentId: number }).incidentId;
    const detail = (await (
      await fetch(`${aisre.url}/api/incidents/${id}`, { headers: { authorization: `Bearer ${apiToken}` } })
    ).json()) as IncidentDetail;
    const { incident } = detail;
    say(`\n4. The incident as GET /api/incidents/${id} returns it:`);
    say(`   INC-${incident.id} [${incident.severity}] ${incident.title}`);
    say(`   status ${incident.status}; ${incident.alertsFiring} firing, ${incident.alertsResolved} resolved`);
    if (detail.slack?.channelName) say(`   Slack channel #${detail.slack.channelName}`);
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
  }
}

async function postDelivery(
  url: string,
  token: string,
  body: unknown,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}/alertmanager`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
      'user-agent': 'Alertmanager/0.25.0',
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}
