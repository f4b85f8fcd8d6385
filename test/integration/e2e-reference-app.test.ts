import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/incidents/incident.js';
import type { FaultName } from '../../src/reference-app/catalog.js';
import { type ReferenceApp, startReferenceApp } from '../../src/reference-app/reference-app.js';
import { freePort, type RealPrometheus, startRealPrometheus } from '../support/real-prometheus.js';
import {
  findCard,
  incidentDetail,
  listIncidents,
  responseUrl,
  type SlackFlow,
  startSlackFlow,
} from '../support/slack-flow.js';
import { slashCommandBody } from '../support/slack-requests.js';
import { TEST_DB_KIND } from '../support/test-database.js';
import { ALERTMANAGER_TOKEN, API_TOKEN } from '../support/test-service.js';

// The whole story against real parts: the reference app, Debian's Prometheus and Alertmanager
// with the shipped rules, aisre on a real database, and the Slack emulator. Nothing is faked
// between the fault and the postmortem.

const RUNBOOKS = fileURLToPath(new URL('../../runbooks', import.meta.url));
const RESPONDER = { kind: 'slack', userId: 'U0ALICE' } as const;

/** What each fault's story must end in: the alert, the conclusion and the action. */
interface FaultStory {
  fault: FaultName;
  alert: string;
  layer: string;
  conclusion: string;
  action: string;
}

const STORIES: FaultStory[] = [
  {
    fault: 'prompt_regression',
    alert: 'EvalPassRateLow',
    layer: 'generation',
    conclusion: 'prompt_regression',
    action: 'prompt.rollback',
  },
];

let app: ReferenceApp;
let flow: SlackFlow;
let prometheus: RealPrometheus;

/** Polls `read` until it returns something, or fails saying what it waited for. */
async function waitFor<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const seconds = (fromMs: number, toMs: number) => `${((toMs - fromMs) / 1000).toFixed(1)} s`;

async function command(line: string, channelId: string): Promise<string> {
  const reply = responseUrl(flow.emulator);
  const response = await flow.slack(
    slashCommandBody({ text: line, userId: RESPONDER.userId, channelId, responseUrl: reply.url }),
  );
  expect(response.status).toBe(200);
  return ((await reply.reply()).body as { text: string }).text;
}

async function postmortem(id: number): Promise<string | undefined> {
  const response = await fetch(`${flow.service.url}/api/incidents/${id}/postmortem.md`, {
    headers: { authorization: `Bearer ${API_TOKEN}` },
  });
  const body = await response.text();
  return response.status === 200 ? body : undefined;
}

const incident = (id: number): Promise<Incident> => flow.service.aisre.incidents.get(id);

describe(`end to end: reference app, real Prometheus and Alertmanager (${TEST_DB_KIND})`, () => {
  beforeAll(async () => {
    // The app posts each fault's change event to aisre, which starts after it (aisre needs the
    // app's URLs and credentials): the target is filled in once aisre is up.
    const aisreTarget = { url: 'http://127.0.0.1:9', token: API_TOKEN };
    app = await startReferenceApp({ aisre: aisreTarget });
    // aisre queries Prometheus, which alerts to aisre: Prometheus's port is chosen first.
    const prometheusPort = await freePort();
    flow = await startSlackFlow({
      env: {
        ...app.aisreEnv(),
        PROMETHEUS_URL: `http://127.0.0.1:${prometheusPort}`,
        AISRE_RUNBOOKS_DIR: RUNBOOKS,
        AISRE_AUTO_DIAGNOSE: 'true',
        // Long enough for Prometheus to scrape the app after the action (1 s) on a busy machine.
        AISRE_ACTION_SETTLE: '3s',
      },
    });
    aisreTarget.url = flow.service.url;
    prometheus = await startRealPrometheus({
      scrapeTarget: new URL(app.url).host,
      aisreUrl: flow.service.url,
      alertmanagerToken: ALERTMANAGER_TOKEN,
      prometheusPort,
    });
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await flow?.dispose();
    await app?.close();
  });

  it('loads the shipped rules without errors and scrapes the healthy app without alerts', {
    timeout: 60_000,
  }, async () => {
    const rules = await waitFor('every rule to be evaluated', async () => {
      const all = await prometheus.rules();
      return all.length > 0 && all.every((rule) => rule.health === 'ok') ? all : undefined;
    });
    expect(rules.map((rule) => rule.name)).toContain('EvalPassRateLow');
    expect(rules.filter((rule) => rule.lastError)).toEqual([]);
    // Every alert carries what the incident and the runbook's action templates need.
    for (const rule of rules) {
      expect(Object.keys(rule.labels ?? {}), rule.name).toEqual(
        expect.arrayContaining([
          'severity',
          'layer',
          'prompt',
          'litellm_key',
          'model_id',
          'gen_ai_request_model',
        ]),
      );
      expect(Object.keys(rule.annotations ?? {}), rule.name).toEqual(
        expect.arrayContaining(['summary', 'runbook_url']),
      );
    }
    expect(rules.find((rule) => rule.name === 'AgentStepsHigh')?.labels).toMatchObject({
      layer: 'cost',
      litellm_key: app.credentials.keys.agent,
    });
    // A few scrapes of healthy traffic, so rates have samples from before the fault.
    await waitFor('three healthy scrapes', async () => {
      const [sample] = await prometheus.query('count_over_time(llm_eval_pass_ratio[1m])');
      return sample && Number(sample.value[1]) >= 3 ? sample : undefined;
    });
    expect(await prometheus.query('ALERTS')).toEqual([]);
    expect(await listIncidents(flow.service)).toEqual([]);
  });

  for (const story of STORIES) {
    it(`${story.fault}: alert, incident, diagnosis, action, recovery, resolution and postmortem`, {
      timeout: 180_000,
    }, async () => {
      // 1. The fault, with the change event its pipeline posts.
      const injectedAt = Date.now();
      const report = await app.injectFault(story.fault);
      expect(report.posted).toMatchObject({ status: 'posted' });

      // 2. The real alert fires and the incident opens in Slack.
      const opened = await waitFor('the incident to open', async () =>
        (await listIncidents(flow.service)).find((i) => i.status !== 'resolved'),
      );
      const id = opened.id;
      expect(opened.source).toBe('alertmanager');
      const alerts = await flow.service.aisre.incidents.alerts(id);
      expect(alerts.map((alert) => alert.labels.alertname)).toContain(story.alert);
      const opening = await incident(id);
      expect(opening).toMatchObject({ service: app.service, layerHint: story.layer });
      await flow.service.aisre.outbox.drain();
      const slack = (await incidentDetail(flow.service, id)).slack;
      expect(slack).not.toBeNull();
      const channelId = slack!.channelId;
      expect(findCard(flow.emulator, channelId, id)).toBeDefined();

      // 3. The diagnosis, started by itself, concludes the layer from real PromQL.
      const diagnosed = await waitFor('the diagnosis to conclude', async () => {
        const current = await incident(id);
        return current.diagnosis?.conclusion ? current.diagnosis : undefined;
      });
      const diagnosedAt = Date.now();
      expect(diagnosed.conclusion).toMatchObject({ node: story.conclusion, layer: story.layer });

      // 4. The recommended action is previewed and executed.
      const recommendations = await flow.service.aisre.actions.recommendations(id);
      const recommended = recommendations!.items[0]!;
      expect(recommended).toMatchObject({ actionId: story.action, error: null });
      const preview = await flow.service.aisre.actions.preview(
        { incidentId: id, recommendation: { sessionId: recommendations!.sessionId, index: 0 } },
        RESPONDER,
      );
      expect(preview.status).toBe('previewed');
      const executed = await flow.service.aisre.actions.execute(preview.id, RESPONDER);
      expect(executed.accepted).toBe(true);

      // 5. Verification reads the metrics again, sees recovery, and marks the incident mitigated.
      const verified = await waitFor('the action to be verified', async () => {
        const run = await flow.service.aisre.actions.get(preview.id);
        return ['executing', 'verifying'].includes(run.status) ? undefined : run;
      });
      const recoveredAt = Date.now();
      expect(verified.status, JSON.stringify(verified.verification ?? verified.error)).toBe('recovered');
      expect((await incident(id)).status).toBe('mitigated');

      // 6. The alert resolves (Alertmanager sends resolved), and the responder resolves the incident.
      await waitFor(
        'the alerts to resolve',
        async () => (await incident(id)).allAlertsResolvedAt ?? undefined,
      );
      expect(await command('resolve', channelId)).toContain('resolved');
      expect((await incident(id)).status).toBe('resolved');

      // 7. The postmortem is drafted with the layer and the action taken.
      const markdown = await waitFor('the postmortem draft', () => postmortem(id));
      expect(markdown).toContain(`**Layer:** ${story.layer}`);
      expect(markdown).toContain(story.action);

      console.log(
        `scoreboard | ${story.fault} | layer ${diagnosed.conclusion!.layer} | diagnosed in ${seconds(injectedAt, diagnosedAt)} | recovered in ${seconds(injectedAt, recoveredAt)}`,
      );
    });
  }
});
