import path from 'node:path';
import { healthyHistory } from '../reference-app/history.js';
import { REFERENCE_APP_RULES } from '../reference-app/prometheus-stack.js';
import { startReferenceApp } from '../reference-app/reference-app.js';
import { AlertmanagerStandIn } from './alertmanager-stand-in.js';
import { startDemoPrometheus } from './demo-prometheus.js';
import { type DemoWorld, type DemoWorldOptions, demoTokens, startDemoAisre, stopAll } from './demo-world.js';
import { PrometheusSimulation } from './prometheus-simulation.js';
import { loadAlertingRules, RuleEvaluator } from './rule-evaluator.js';
import { ScrapeStore } from './scrape-store.js';
import { SimulatedClock } from './simulated-clock.js';

/** Prometheus's usual scrape and evaluation interval. */
const INTERVAL_MS = 15_000;
/** Traffic before the first fault, so every 15-minute window of the runbook has data. */
const WARM_UP_MS = 15 * 60_000;
/** Yesterday's window loaded as the baseline, from a day before the story starts; the story is shorter. */
const BASELINE_MS = 60 * 60_000;
const DAY_MS = 86_400_000;
/** How far in the past the story starts: room for every skip without overtaking the wall clock. */
const HEAD_START_MS = 2 * 3_600_000;
/** How much simulated time one wait may take before the demo gives up. */
const WAIT_LIMIT_MS = 30 * 60_000;

const minutes = (ms: number) => `${(ms / 60_000).toFixed(1)} min`;

/**
 * The demo's world with no Prometheus binary: the reference app runs in-process on a simulated
 * clock that aisre shares; a stand-in for Prometheus scrapes it into memory, answers aisre's
 * PromQL with the built-in subset over HTTP and evaluates the shipped alert rules, and a stand-in
 * for Alertmanager posts the alerts to aisre. Waits are skipped in simulated time.
 */
export async function startBuiltInWorld(
  options: DemoWorldOptions & { rulesFile?: string },
): Promise<DemoWorld> {
  const say = options.print;
  const stops: Array<() => Promise<void>> = [];
  try {
    const clock = new SimulatedClock(Date.now() - HEAD_START_MS);
    const tokens = demoTokens();
    // The app posts each fault's change event to aisre, which starts after it: the URL is filled in then.
    const aisreTarget = { url: 'http://127.0.0.1:9', token: tokens.apiToken };
    // The app starts at the simulated time; afterwards its `now` only checks the timestamps of
    // signed webhooks, which aisre signs with the wall clock.
    let appNow = () => clock.nowMs();
    const app = await startReferenceApp({ trafficIntervalMs: 0, aisre: aisreTarget, now: () => appNow() });
    appNow = Date.now;
    stops.push(() => app.close());
    const startMs = app.state().clockMs;

    const store = new ScrapeStore();
    const target = { job: 'reference-app', instance: new URL(app.url).host };
    const baselineFrom = startMs - DAY_MS;
    const baselineTo = baselineFrom + BASELINE_MS;
    for (const scrape of await healthyHistory({
      fromMs: baselineFrom,
      toMs: baselineTo,
      stepMs: INTERVAL_MS,
    })) {
      store.ingest(scrape.exposition, scrape.atMs, target);
    }
    say(
      `Yesterday's baseline is simulated: ${minutes(BASELINE_MS)} of a healthy app's scrapes, ` +
        `${new Date(baselineFrom).toISOString()} to ${new Date(baselineTo).toISOString()}, ` +
        'for the checks that compare with 1d ago.',
    );

    const prometheus = await startDemoPrometheus({ source: store, now: () => clock.nowMs() });
    stops.push(() => prometheus.close());
    const rulesFile = options.rulesFile ?? REFERENCE_APP_RULES;
    const rules = new RuleEvaluator(await loadAlertingRules(rulesFile), store, prometheus.url);
    const aisre = await startDemoAisre({
      ...options,
      app,
      tokens,
      clock,
      env: { PROMETHEUS_URL: prometheus.url },
    });
    stops.push(() => aisre.stop());
    aisreTarget.url = aisre.url;

    let deliveries = 0;
    const alertmanager = new AlertmanagerStandIn({
      webhookUrl: `${aisre.url}/alertmanager`,
      bearerToken: tokens.alertmanagerToken,
      externalUrl: `${prometheus.url}/alertmanager`,
    });
    const simulation = new PrometheusSimulation({
      clock,
      app,
      store,
      rules,
      alertmanager,
      intervalMs: INTERVAL_MS,
      onDelivery: ({ payload, status, body }) => {
        deliveries++;
        const alerts = payload.alerts.map((a) => `${a.labels.alertname} ${a.status}`).join(', ');
        say(
          `\n» Alertmanager → POST /alertmanager (${payload.groupKey}): ${alerts} → ${status} ${JSON.stringify(body)}`,
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
      "Time is simulated: the app's traffic, the scrapes, the rules and aisre share one clock. It starts " +
        `${HEAD_START_MS / 3_600_000} hours ago, runs with the wall clock and skips ahead over waits ` +
        '(warm-up traffic, alert grouping, action settle times).',
    );
    await simulation.advance(WARM_UP_MS);
    say(
      `\nThe app served ${minutes(WARM_UP_MS)} of healthy traffic (${store.size()} series scraped); ` +
        `no alert fires: ${rules.firing().length === 0 ? 'yes' : `no (${rules.firing().join(', ')})`}.`,
    );
    simulation.start();

    return {
      app,
      aisre,
      apiToken: tokens.apiToken,
      timeKind: 'simulated',
      now: () => clock.nowMs(),
      async until(what, read, pauseMs = 0) {
        const limit = clock.nowMs() + WAIT_LIMIT_MS;
        for (;;) {
          const value = await read();
          if (value !== undefined) return value;
          if (clock.nowMs() > limit)
            throw new Error(`no ${what} within ${minutes(WAIT_LIMIT_MS)} of simulated time`);
          await simulation.advance(INTERVAL_MS);
          if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
        }
      },
      pass: (ms) => simulation.advance(ms),
      summary: () => [
        `${prometheus.queries()} PromQL queries answered by the built-in evaluator; ${deliveries} Alertmanager notifications; ` +
          `simulated time ran ${minutes(clock.skippedMs())} ahead of the wall clock.`,
      ],
      keepHints: () => [`   curl '${prometheus.url}/api/v1/query?query=avg(llm_eval_pass_ratio)'`],
      stop: () => stopAll(stops),
    };
  } catch (err) {
    await stopAll(stops);
    throw err;
  }
}
