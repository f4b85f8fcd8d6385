import { afterEach, describe, expect, it } from 'vitest';
import type { FaultName } from '../../src/reference-app/catalog.js';
import { diagnosisRecords, statuses } from '../support/diagnosis-support.js';
import { type E2eWorld, startE2eWorld } from '../support/e2e-world.js';
import { eventually } from '../support/polling.js';
import {
  blocksText,
  clickOn,
  findCard,
  incidentDetail,
  listIncidents,
  previewButton,
  responseUrl,
  runButton,
  type SlackFlow,
  waitForThreadMessage,
} from '../support/slack-flow.js';
import { slashCommandBody } from '../support/slack-requests.js';
import { TEST_DB_KIND } from '../support/test-database.js';
import { API_TOKEN } from '../support/test-service.js';

// The whole story against real parts: the reference app, Debian's Prometheus and Alertmanager
// with the shipped rules, aisre on a real database, and the Slack emulator. Nothing is faked
// between the fault and the postmortem. Each fault runs in a world of its own (startE2eWorld).

const RESPONDER = 'U0ALICE';
/** A high-risk action waits for a second person. */
const APPROVER = 'U0BOB';

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
  {
    fault: 'embedding_swap',
    alert: 'RetrievalHitRatioLow',
    layer: 'retrieval',
    conclusion: 'embedding_model_changed',
    action: 'http.webhook',
  },
  {
    fault: 'stale_index',
    alert: 'IndexStale',
    layer: 'retrieval',
    conclusion: 'index_stale',
    action: 'http.webhook',
  },
  {
    fault: 'misrouting',
    alert: 'ModelMismatch',
    layer: 'routing',
    conclusion: 'route_changed',
    action: 'gateway.route',
  },
  {
    fault: 'provider_drift',
    alert: 'EvalPassRateLow',
    layer: 'provider_drift',
    conclusion: 'provider_model_update',
    action: 'gateway.fallback',
  },
  {
    fault: 'integration_mapping',
    alert: 'OutputSchemaErrors',
    layer: 'integration',
    conclusion: 'integration_broken',
    action: 'http.webhook',
  },
  {
    fault: 'cost_runaway',
    alert: 'LlmRetryRateHigh',
    layer: 'cost',
    conclusion: 'retry_loop',
    action: 'gateway.rate_limit',
  },
  {
    fault: 'agent_loop',
    alert: 'AgentStepsHigh',
    layer: 'cost',
    conclusion: 'agent_loop',
    action: 'gateway.budget_cap',
  },
  {
    fault: 'safety_regression',
    alert: 'RefusalRateHigh',
    layer: 'safety',
    conclusion: 'safety_regression',
    action: 'prompt.rollback',
  },
];

let world: E2eWorld | undefined;
afterEach(async () => {
  await world?.stop();
  world = undefined;
});

const seconds = (fromMs: number, toMs: number) => `${((toMs - fromMs) / 1000).toFixed(1)} s`;

async function command(flow: SlackFlow, line: string, channelId: string): Promise<string> {
  const reply = responseUrl(flow.emulator);
  const response = await flow.slack(
    slashCommandBody({ text: line, userId: RESPONDER, channelId, responseUrl: reply.url }),
  );
  expect(response.status).toBe(200);
  return ((await reply.reply()).body as { text: string }).text;
}

async function postmortem(flow: SlackFlow, id: number): Promise<string | undefined> {
  const response = await fetch(`${flow.service.url}/api/incidents/${id}/postmortem.md`, {
    headers: { authorization: `Bearer ${API_TOKEN}` },
  });
  const body = await response.text();
  return response.status === 200 ? body : undefined;
}

/**
 * Prometheus has loaded the shipped rules without errors, every alert carries the labels the
 * incident and the runbook's action templates need, and 20 s of healthy scrapes are in, with no
 * alert firing: rates then have samples from before the fault.
 */
async function expectHealthyStart({ app, flow, prometheus }: E2eWorld): Promise<void> {
  const rules = await eventually('every rule to be evaluated', async () => {
    const all = await prometheus.rules();
    return all.length > 0 && all.every((rule) => rule.health === 'ok') ? all : undefined;
  });
  expect(rules.map((rule) => rule.name)).toContain('EvalPassRateLow');
  expect(rules.filter((rule) => rule.lastError)).toEqual([]);
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
  // 1-minute rates read off a few seconds of scrapes are noise (one refusal among a dozen requests
  // looks like a refusal storm): the fault comes after 20 healthy seconds.
  await eventually('20 s of healthy scrapes', async () => {
    const [sample] = await prometheus.query('count_over_time(llm_eval_pass_ratio[1m])');
    return sample && Number(sample.value[1]) >= 20 ? sample : undefined;
  });
  expect(await prometheus.query('ALERTS')).toEqual([]);
  expect(await listIncidents(flow.service)).toEqual([]);
}

describe(`end to end: reference app, real Prometheus and Alertmanager (${TEST_DB_KIND})`, () => {
  for (const story of STORIES) {
    it(`${story.fault}: alert, incident, diagnosis, action, recovery, resolution and postmortem`, {
      timeout: 300_000,
    }, async () => {
      world = await startE2eWorld();
      const { app, flow } = world;
      const { incidents, actions, outbox } = flow.service.aisre;
      await expectHealthyStart(world);

      // 1. The fault, with the change event its pipeline posts.
      const injectedAt = Date.now();
      const report = await app.injectFault(story.fault);
      // Provider drift is the silent one: no pipeline of ours changed anything.
      if (story.fault === 'provider_drift') expect(report.change).toBeNull();
      else expect(report.posted).toMatchObject({ status: 'posted' });

      // 2. The real alert fires and the incident opens in Slack.
      // Rates need seconds to cross, ratio alerts wait 15 s, Alertmanager groups for 10 s, and
      // a looping agent session must end before the steps histogram shows it.
      const opened = await eventually(
        'the incident to open',
        async () => (await listIncidents(flow.service)).find((i) => i.status !== 'resolved'),
        90_000,
      );
      const id = opened.id;
      expect(opened.source).toBe('alertmanager');
      await eventually(
        `${story.alert} on the incident`,
        async () => {
          const alerts = await incidents.alerts(id);
          return alerts.some((alert) => alert.labels.alertname === story.alert) ? alerts : undefined;
        },
        90_000,
      );
      expect(await incidents.get(id)).toMatchObject({ service: app.service, source: 'alertmanager' });
      await outbox.drain();
      const slack = (await incidentDetail(flow.service, id)).slack;
      expect(slack).not.toBeNull();
      const channelId = slack!.channelId;
      expect(findCard(flow.emulator, channelId, id)).toBeDefined();

      // 3. The diagnosis, started by itself, concludes the layer from real PromQL.
      const diagnosed = await eventually(
        'the diagnosis to conclude',
        async () => {
          const current = await incidents.get(id);
          return current.diagnosis?.conclusion ? current.diagnosis : undefined;
        },
        60_000,
      );
      const diagnosedAt = Date.now();
      // On a wrong turn, the message shows the path and what each check said.
      const path = (await diagnosisRecords(flow.service.aisre.db.knex, id)).flatMap(({ steps }) =>
        steps.map((step) => `${step.nodeId} -> ${step.nextNode}: ${JSON.stringify(statuses(step))}`),
      );
      expect(diagnosed.conclusion, path.join('\n')).toMatchObject({
        node: story.conclusion,
        layer: story.layer,
      });

      // 4. In the card's thread, the responder previews the recommended action and executes it;
      //    a high-risk one waits for a second person's approval. Every click is a signed request.
      const recommendations = await actions.recommendations(id);
      expect(recommendations!.items[0]).toMatchObject({ actionId: story.action, error: null });
      await outbox.drain();
      const cardTs = findCard(flow.emulator, channelId, id)!.ts;
      const conclusion = await waitForThreadMessage(
        flow.emulator,
        channelId,
        cardTs,
        'Diagnosis concluded',
        (m) => blocksText(m.blocks).includes('action.preview'),
      );
      await flow.slack(clickOn(conclusion, channelId, RESPONDER, previewButton(conclusion, 0)));
      const preview = await eventually('the preview', async () => (await actions.runs(id))[0]);
      expect(preview.status, preview.error ?? '').toBe('previewed');
      const runPrefix = `${story.action} (A-${preview.id})`;
      const previewed = await waitForThreadMessage(flow.emulator, channelId, cardTs, runPrefix);
      await flow.slack(clickOn(previewed, channelId, RESPONDER, runButton(previewed, 'action.execute')));
      if (preview.risk === 'high') {
        const waiting = await waitForThreadMessage(flow.emulator, channelId, cardTs, runPrefix, (m) =>
          blocksText(m.blocks).includes('action.approve'),
        );
        await flow.slack(clickOn(waiting, channelId, APPROVER, runButton(waiting, 'action.approve')));
      }

      // 5. Verification reads the metrics again, sees recovery, and marks the incident mitigated.
      // Rates over the runbook's 1-minute window hold the fault for up to a minute after the fix;
      // verification checks again until they pass.
      const verified = await eventually(
        'the action to be verified',
        async () => {
          const run = await actions.get(preview.id);
          const pending = ['previewed', 'awaiting_approval', 'executing', 'verifying'];
          return pending.includes(run.status) ? undefined : run;
        },
        90_000,
      );
      const recoveredAt = Date.now();
      expect(verified.status, JSON.stringify(verified.verification ?? verified.error)).toBe('recovered');
      expect((await incidents.get(id)).status).toBe('mitigated');

      // 6. The alerts resolve (Alertmanager sends resolved), and the responder resolves the incident.
      await eventually(
        'the alerts to resolve',
        async () => (await incidents.get(id)).allAlertsResolvedAt ?? undefined,
        90_000,
      );
      expect(await command(flow, 'resolve', channelId)).toContain('resolved');
      expect((await incidents.get(id)).status).toBe('resolved');

      // 7. The postmortem is drafted with the layer and the action taken.
      const markdown = await eventually('the postmortem draft', () => postmortem(flow, id));
      expect(markdown).toContain(`**Layer:** ${story.layer.replace('_', ' ')}`);
      expect(markdown).toContain(story.action);

      console.log(
        `scoreboard | ${story.fault} | layer ${diagnosed.conclusion!.layer} | diagnosed in ${seconds(injectedAt, diagnosedAt)} | recovered in ${seconds(injectedAt, recoveredAt)}`,
      );
    });
  }
});
