import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { ActionRun } from '../actions/action-run.js';
import { loadConfig } from '../config.js';
import type { Actor } from '../incidents/incident.js';
import { type RunningAisre, startAisre } from '../main.js';
import type { FaultName } from '../reference-app/catalog.js';
import { healthyHistory } from '../reference-app/history.js';
import { missingPrometheusBinaries, REFERENCE_APP_RULES } from '../reference-app/prometheus-stack.js';
import { type ReferenceApp, startReferenceApp } from '../reference-app/reference-app.js';
import { AlertmanagerStandIn, type Delivery } from './alertmanager-stand-in.js';
import { type DemoPrometheus, startDemoPrometheus } from './demo-prometheus.js';
import { PrometheusSimulation } from './prometheus-simulation.js';
import { loadAlertingRules, RuleEvaluator } from './rule-evaluator.js';
import { ScrapeStore } from './scrape-store.js';
import { SimulatedClock } from './simulated-clock.js';

/** The faults the demo walks through, in an order where no earlier change event misleads a later diagnosis. */
export const DEMO_FAULTS: readonly FaultName[] = ['prompt_regression', 'stale_index', 'embedding_swap'];

export interface DemoStoryOptions {
  /** PGlite's directory; the demo works in a fresh `demo` folder inside it. */
  dataDir: string;
  /** Leave everything running after the story (Ctrl-C stops it). */
  keep: boolean;
  print: (line: string) => void;
  faults?: readonly FaultName[];
  /** The rules file evaluated in place of Prometheus's rule manager. */
  rulesFile?: string;
}

/** One fault's story as it happened, in simulated time. */
export interface FaultOutcome {
  fault: FaultName;
  incidentId: number;
  alerts: string[];
  layer: string;
  conclusion: string;
  action: string;
  approvedBy: string | null;
  verification: string;
  diagnosedAfterMs: number;
  recoveredAfterMs: number;
  postmortemLayer: boolean;
}

const RESPONDER: Actor = { kind: 'slack', userId: 'U0ALICE' };
const APPROVER: Actor = { kind: 'slack', userId: 'U0BOB' };
/** Prometheus's usual scrape and evaluation interval. */
const INTERVAL_MS = 15_000;
/** Traffic before the first fault, so every 15-minute window of the runbook has data. */
const WARM_UP_MS = 15 * 60_000;
/** Yesterday's window loaded as the baseline, from a day before the story starts; the story is shorter. */
const BASELINE_MS = 60 * 60_000;
const DAY_MS = 86_400_000;
/** How far in the past the story starts: room for every skip without overtaking the wall clock. */
const HEAD_START_MS = 2 * 3_600_000;
/** How long, in simulated time, the demo lets one step of the story take before it gives up. */
const STEP_LIMIT_MS = 30 * 60_000;
/** A little over aisre's action poll (every second), so each verification instant is looked at. */
const VERIFY_POLL_MS = 1_100;

const minutes = (ms: number) => `${(ms / 60_000).toFixed(1)} min`;

/** Polls `read` every 100 ms of wall time until it returns something. */
async function waitFor<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`the demo waited ${timeoutMs / 1000} s for ${what} in vain`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The parts of the demo's world, for the story and for stopping them. */
interface World {
  clock: SimulatedClock;
  app: ReferenceApp;
  store: ScrapeStore;
  prometheus: DemoPrometheus;
  simulation: PrometheusSimulation;
  aisre: RunningAisre;
  apiToken: string;
  deliveries: Delivery[];
}

/**
 * `npm run demo`: the whole story on embedded defaults. The reference AI app runs in-process;
 * a built-in stand-in for Prometheus and Alertmanager scrapes it, evaluates the shipped alert
 * rules and answers aisre's PromQL; aisre runs on PGlite with Slack printed to the terminal. For
 * each fault: inject it, let the real alert condition fire, let aisre diagnose it, execute the
 * recommended action (approved by a second person when high risk), verify recovery on the app's
 * metrics, see the alerts resolve, resolve the incident and print its postmortem.
 */
export async function runDemoStory(options: DemoStoryOptions): Promise<FaultOutcome[]> {
  const say = options.print;
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop();
  };
  try {
    const world = await startWorld(options, stops);
    const outcomes: FaultOutcome[] = [];
    const faults = options.faults ?? DEMO_FAULTS;
    for (const [index, fault] of faults.entries()) {
      outcomes.push(await faultStory(world, fault, `${index + 1}/${faults.length}`, say));
    }
    printScoreboard(world, outcomes, say);
    if (options.keep) {
      world.simulation.start();
      say(`\n--keep: aisre keeps running at ${world.aisre.url}, the reference app at ${world.app.url}`);
      say(`   curl -H 'Authorization: Bearer ${world.apiToken}' ${world.aisre.url}/api/incidents`);
      say(`   curl '${world.prometheus.url}/api/v1/query?query=avg(llm_eval_pass_ratio)'`);
      say(`   curl -X POST -d '{"fault":"misrouting"}' ${world.app.url}/faults`);
      say('Press Ctrl-C to stop.');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
    }
    return outcomes;
  } finally {
    await stopAll();
  }
}

async function startWorld(options: DemoStoryOptions, stops: Array<() => Promise<void>>): Promise<World> {
  const say = options.print;
  const dataDir = path.join(options.dataDir, 'demo');
  await rm(dataDir, { recursive: true, force: true });
  const clock = new SimulatedClock(Date.now() - HEAD_START_MS);
  const apiToken = randomBytes(16).toString('hex');
  const alertmanagerToken = randomBytes(16).toString('hex');

  say('aisre demo: the reference AI app, aisre on embedded PGlite, and Slack printed in this terminal.');
  const missing = await missingPrometheusBinaries();
  say(
    `${missing.length > 0 ? 'No Prometheus binary found' : 'Prometheus is installed, but this demo does not start it'}: ` +
      "answering the runbook's PromQL from the reference app's own metrics with aisre's built-in " +
      'evaluator (a subset of PromQL), which also evaluates the shipped alert rules and stands in for Alertmanager.',
  );
  // The app posts each fault's change event to aisre, which starts after it: the URL is filled in then.
  const aisreTarget = { url: 'http://127.0.0.1:9', token: apiToken };
  // The app starts at the simulated time; afterwards its `now` only checks the timestamps of
  // signed webhooks, which aisre signs with the wall clock.
  let appNow = () => clock.nowMs();
  const app = await startReferenceApp({ trafficIntervalMs: 0, aisre: aisreTarget, now: () => appNow() });
  appNow = Date.now;
  stops.push(() => app.close());
  const startMs = app.state().clockMs;

  const store = new ScrapeStore();
  const baselineFrom = startMs - DAY_MS;
  const baselineTo = baselineFrom + BASELINE_MS;
  const instance = new URL(app.url).host;
  for (const scrape of await healthyHistory({
    fromMs: baselineFrom,
    toMs: baselineTo,
    stepMs: INTERVAL_MS,
  })) {
    store.ingest(scrape.exposition, scrape.atMs, { job: 'reference-app', instance });
  }
  say(
    `Yesterday's baseline is simulated: ${minutes(baselineTo - baselineFrom)} of a healthy app's scrapes, ` +
      `${new Date(baselineFrom).toISOString()} to ${new Date(baselineTo).toISOString()}, ` +
      'for the checks that compare with 1d ago.',
  );

  const prometheus = await startDemoPrometheus({ source: store, now: () => clock.nowMs() });
  stops.push(() => prometheus.close());
  const rulesFile = options.rulesFile ?? REFERENCE_APP_RULES;
  const rules = new RuleEvaluator(await loadAlertingRules(rulesFile), store, prometheus.url);

  const config = loadConfig({
    ...app.aisreEnv(),
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
  const aisre = await startAisre(config, { print: say, clock });
  stops.push(() => aisre.stop());
  aisreTarget.url = aisre.url;

  const deliveries: Delivery[] = [];
  const alertmanager = new AlertmanagerStandIn({
    webhookUrl: `${aisre.url}/alertmanager`,
    bearerToken: alertmanagerToken,
    externalUrl: `${prometheus.url}/alertmanager`,
  });
  const simulation = new PrometheusSimulation({
    clock,
    app,
    store,
    rules,
    alertmanager,
    intervalMs: INTERVAL_MS,
    onDelivery: (delivery) => {
      deliveries.push(delivery);
      const alerts = delivery.payload.alerts.map((a) => `${a.labels.alertname} ${a.status}`).join(', ');
      say(
        `\n» Alertmanager → POST /alertmanager (${delivery.payload.groupKey}): ${alerts} → ${delivery.status} ${JSON.stringify(delivery.body)}`,
      );
    },
  });
  stops.push(() => simulation.stop());

  say(`aisre at ${aisre.url}; reference app at ${app.url}; PromQL API at ${prometheus.url}/api/v1/query`);
  say(
    `Alert rules: ${path.relative(process.cwd(), rulesFile)} (${rules.ruleCount()} rules), evaluated every ${INTERVAL_MS / 1000} s after each scrape`,
  );
  say(`Alertmanager stand-in: ${alertmanager.describe()}`);
  say(
    `Time is simulated: the app's traffic, the scrapes, the rules and aisre share one clock. It starts ` +
      `${HEAD_START_MS / 3_600_000} hours ago, runs with the wall clock and skips ahead over waits ` +
      '(warm-up traffic, alert grouping, action settle times).',
  );
  await simulation.advance(WARM_UP_MS);
  say(
    `\nThe app served ${minutes(WARM_UP_MS)} of healthy traffic (${store.size()} series scraped); ` +
      `no alert fires: ${rules.firing().length === 0 ? 'yes' : `no (${rules.firing().join(', ')})`}.`,
  );
  simulation.start();
  return { clock, app, store, prometheus, simulation, aisre, apiToken, deliveries };
}

/**
 * Skips simulated time, one interval at a time, until `read` returns something. `pauseMs` of
 * wall time between skips lets aisre's own pollers (every second) act at each instant.
 */
async function skipUntil<T>(
  world: World,
  what: string,
  read: () => Promise<T | undefined>,
  pauseMs = 0,
): Promise<T> {
  const limit = world.clock.nowMs() + STEP_LIMIT_MS;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (world.clock.nowMs() > limit)
      throw new Error(`no ${what} within ${minutes(STEP_LIMIT_MS)} of simulated time`);
    await world.simulation.advance(INTERVAL_MS);
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}

async function faultStory(
  world: World,
  fault: FaultName,
  counter: string,
  say: (line: string) => void,
): Promise<FaultOutcome> {
  const { aisre, app, clock, simulation } = world;
  const { incidents, actions, outbox } = aisre;
  say(`\n${'═'.repeat(100)}\nFault ${counter}: ${fault}\n${'═'.repeat(100)}`);
  await simulation.catchUp();
  const injectedAt = clock.nowMs();
  const report = await app.injectFault(fault);
  say(
    report.change
      ? `The ${report.change.author} pipeline changed ${report.change.kind}: ${report.change.summary} (POST /changes → ${report.posted.status})`
      : 'The change is silent: no pipeline posts a change event.',
  );

  const seen = world.deliveries.length;
  const delivery = await skipUntil(world, 'alert notification', async () =>
    world.deliveries.slice(seen).find((d) => d.payload.status === 'firing' && d.status === 200),
  );
  const incidentId = (delivery.body as { incidentId?: number }).incidentId;
  if (typeof incidentId !== 'number')
    throw new Error(`aisre answered the alert with ${JSON.stringify(delivery.body)}`);
  say(
    `\nINC-${incidentId} opened ${minutes(clock.nowMs() - injectedAt)} after the fault; the diagnosis starts by itself.`,
  );

  const diagnosis = await waitFor('the diagnosis to conclude', async () => {
    const current = (await incidents.get(incidentId)).diagnosis;
    if (current && current.status !== 'running' && !current.conclusion) {
      throw new Error(
        `the diagnosis stopped at "${current.nodeTitle}" (${current.status}) without a conclusion`,
      );
    }
    return current?.conclusion ? current : undefined;
  });
  const diagnosedAt = clock.nowMs();
  await outbox.drain(20_000);
  const conclusion = diagnosis.conclusion!;
  say(`\n» Diagnosis: ${conclusion.layer} layer, ${diagnosis.nodeTitle}. ${conclusion.hypothesis}`);

  const recommendations = await actions.recommendations(incidentId);
  const recommended = recommendations?.items[0];
  if (!recommendations || !recommended || recommended.error) {
    throw new Error(`no usable recommendation: ${recommended?.error ?? 'none'}`);
  }
  const { run: executedRun, approvedBy } = await executeRecommendation(
    world,
    incidentId,
    recommendations.sessionId,
    recommended,
    say,
  );
  await outbox.drain(20_000);
  const settle = (executedRun.verifyAt?.getTime() ?? clock.nowMs()) - clock.nowMs();
  say(
    `\n» The action is done; its recovery checks run after the settle time (${minutes(Math.max(0, settle))} of simulated time).`,
  );
  await simulation.advance(Math.max(0, settle));
  const verified = await skipUntil(
    world,
    'verification',
    async () => {
      const run = await actions.get(executedRun.id);
      return run.status === 'verifying' ? undefined : run;
    },
    VERIFY_POLL_MS,
  );
  const recoveredAt = clock.nowMs();
  await outbox.drain(20_000);
  if (verified.status !== 'recovered') {
    throw new Error(
      `the action was not verified as recovered: ${verified.status} ${verified.verification?.summary ?? ''}`,
    );
  }
  say(
    `\n» Verified on the app's metrics: ${verified.verification?.summary}. INC-${incidentId} is ${(await incidents.get(incidentId)).status}.`,
  );

  await skipUntil(
    world,
    'resolved alerts',
    async () => (await incidents.get(incidentId)).allAlertsResolvedAt ?? undefined,
  );
  await outbox.drain(20_000);
  say('\n» Every alert resolved. alice resolves the incident; aisre drafts the postmortem.');
  const resolved = await incidents.resolve(incidentId, RESPONDER);
  say(`   ${resolved.message}`);
  await aisre.postmortems.draftDue();
  await outbox.drain(20_000);
  const markdown = await waitFor('the postmortem', async () => {
    const response = await fetch(`${aisre.url}/api/incidents/${incidentId}/postmortem.md`, {
      headers: { authorization: `Bearer ${world.apiToken}` },
    });
    return response.status === 200 ? response.text() : undefined;
  });
  say(`\n» The postmortem, as GET /api/incidents/${incidentId}/postmortem.md serves it:\n`);
  say(markdown);

  const alerts = [...new Set((await incidents.alerts(incidentId)).map((a) => a.alertname))];
  return {
    fault,
    incidentId,
    alerts,
    layer: conclusion.layer,
    conclusion: conclusion.node,
    action: recommended.actionId,
    approvedBy,
    verification: verified.verification?.summary ?? verified.status,
    diagnosedAfterMs: diagnosedAt - injectedAt,
    recoveredAfterMs: recoveredAt - injectedAt,
    postmortemLayer: markdown.includes(`**Layer:** ${conclusion.layer}`),
  };
}

/**
 * alice previews and executes the recommendation; bob approves it when it is high risk. A run
 * that fails (the app unreachable for a moment) is tried once more, as a responder would.
 */
async function executeRecommendation(
  world: World,
  incidentId: number,
  sessionId: number,
  recommended: { actionId: string; params: Record<string, unknown> | null },
  say: (line: string) => void,
  attempt = 1,
): Promise<{ run: ActionRun; approvedBy: string | null }> {
  const { actions } = world.aisre;
  say(`» alice previews ${recommended.actionId} ${JSON.stringify(recommended.params)} and executes it`);
  const preview = await actions.preview({ incidentId, recommendation: { sessionId, index: 0 } }, RESPONDER);
  if (preview.status !== 'previewed')
    throw new Error(`the preview failed: ${preview.error ?? preview.status}`);
  const executed = await actions.execute(preview.id, RESPONDER);
  if (!executed.accepted) throw new Error(`execution was refused: ${executed.message}`);
  let approvedBy: string | null = null;
  if (executed.run.status === 'awaiting_approval') {
    say(`» ${recommended.actionId} is high risk: it waits for a second person. bob approves it.`);
    const approved = await actions.approve(preview.id, APPROVER);
    if (!approved.accepted) throw new Error(`the approval was refused: ${approved.message}`);
    approvedBy = 'bob';
  }
  const run = await waitFor('the action to execute', async () => {
    const current = await actions.get(preview.id);
    return current.status === 'executing' ? undefined : current;
  });
  if (run.status === 'verifying') return { run, approvedBy };
  if (run.status === 'failed' && attempt === 1) {
    say(`» ${recommended.actionId} failed (${run.error}); alice tries again.`);
    return executeRecommendation(world, incidentId, sessionId, recommended, say, attempt + 1);
  }
  throw new Error(`the action ended ${run.status}: ${run.error}`);
}

function printScoreboard(world: World, outcomes: readonly FaultOutcome[], say: (line: string) => void): void {
  say(`\n${'═'.repeat(100)}\nScoreboard (simulated time since each fault was injected)\n${'═'.repeat(100)}`);
  say('| fault | alerts | layer found | conclusion | action | diagnosed | recovered |');
  say('|---|---|---|---|---|---|---|');
  for (const o of outcomes) {
    const action = `${o.action}${o.approvedBy ? ` (approved by ${o.approvedBy})` : ''}`;
    say(
      `| ${o.fault} | ${o.alerts.join(', ')} | ${o.layer} | ${o.conclusion} | ${action} | ${minutes(o.diagnosedAfterMs)} | ${minutes(o.recoveredAfterMs)} |`,
    );
  }
  say(
    `\n${world.prometheus.queries()} PromQL queries answered by the built-in evaluator; ` +
      `${world.deliveries.length} Alertmanager notifications; simulated time ran ${minutes(world.clock.skippedMs())} ahead of the wall clock.`,
  );
}
