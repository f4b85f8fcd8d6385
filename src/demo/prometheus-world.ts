import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { healthyHistory } from '../reference-app/history.js';
import { freePort, REFERENCE_APP_RULES, startPrometheusStack } from '../reference-app/prometheus-stack.js';
import { startReferenceApp } from '../reference-app/reference-app.js';
import { writeShortWindowRunbook } from '../reference-app/short-window-runbook.js';
import { type DemoWorld, type DemoWorldOptions, demoTokens, startDemoAisre, stopAll } from './demo-world.js';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
/** How long one wait may take on the wall clock before the demo gives up. */
const WAIT_LIMIT_MS = 90_000;
const POLL_MS = 250;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The demo's world on Debian's Prometheus and Alertmanager: the reference app serves traffic on
 * the wall clock, Prometheus (with a simulated healthy yesterday backfilled) scrapes it every
 * second and evaluates the shipped rules, and Alertmanager posts to aisre, as in the end-to-end
 * suite. Nothing is skipped: waits take real seconds.
 */
export async function startPrometheusWorld(
  options: DemoWorldOptions & { runbooksDir: string },
): Promise<DemoWorld> {
  const say = options.print;
  const stops: Array<() => Promise<void>> = [];
  try {
    const tokens = demoTokens();
    const dir = await mkdtemp(path.join(tmpdir(), 'aisre-demo-'));
    stops.push(() => rm(dir, { recursive: true, force: true }));
    const aisreTarget = { url: 'http://127.0.0.1:9', token: tokens.apiToken };
    const app = await startReferenceApp({ aisre: aisreTarget });
    stops.push(() => app.close());
    // aisre queries Prometheus, which alerts to aisre: Prometheus's port is chosen first.
    const prometheusPort = await freePort();
    const aisre = await startDemoAisre({
      ...options,
      app,
      tokens,
      env: {
        PROMETHEUS_URL: `http://127.0.0.1:${prometheusPort}`,
        AISRE_RUNBOOKS_DIR: await writeShortWindowRunbook(options.runbooksDir, dir),
        AISRE_ACTION_SETTLE: '3s',
      },
    });
    stops.push(() => aisre.stop());
    aisreTarget.url = aisre.url;
    say(
      'The runbook is the shipped one with vars.window set to 1m: on the wall clock a 15-minute rate would hold the fault long after the fix.',
    );

    const now = Date.now();
    const history = await healthyHistory({
      fromMs: now - DAY_MS - 20 * MINUTE_MS,
      toMs: now - DAY_MS + 10 * MINUTE_MS,
      service: app.service,
    });
    say(
      "Yesterday's baseline is simulated: a healthy half hour of the same app, backfilled into Prometheus with promtool.",
    );
    const stack = await startPrometheusStack({
      scrapeTarget: new URL(app.url).host,
      aisreUrl: aisre.url,
      alertmanagerToken: tokens.alertmanagerToken,
      prometheusPort,
      history,
    });
    stops.push(() => stack.stop());
    say(
      `aisre at ${aisre.url}; reference app at ${app.url}; Prometheus at ${stack.prometheusUrl}; Alertmanager at ${stack.alertmanagerUrl}`,
    );
    say(
      `Alert rules: ${path.relative(process.cwd(), REFERENCE_APP_RULES)}, evaluated every second; Alertmanager groups by service and sends resolved alerts.`,
    );

    const until: DemoWorld['until'] = async (what, read) => {
      const deadline = Date.now() + WAIT_LIMIT_MS;
      for (;;) {
        const value = await read();
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error(`no ${what} within ${WAIT_LIMIT_MS / 1000} s`);
        await sleep(POLL_MS);
      }
    };
    await until('three healthy scrapes', async () => {
      const [sample] = await stack.query('count_over_time(llm_eval_pass_ratio[1m])');
      return sample && Number(sample.value[1]) >= 3 ? sample : undefined;
    });
    say(`\nPrometheus has scraped the healthy app; alerts firing: ${(await stack.query('ALERTS')).length}.`);

    return {
      app,
      aisre,
      apiToken: tokens.apiToken,
      timeKind: 'wall-clock',
      now: Date.now,
      until,
      pass: (ms) => sleep(ms),
      summary: () => ['Every query was answered by Prometheus; every notification came from Alertmanager.'],
      keepHints: () => [`   open ${stack.prometheusUrl}/alerts and ${stack.alertmanagerUrl}`],
      stop: () => stopAll(stops),
    };
  } catch (err) {
    await stopAll(stops);
    throw err;
  }
}
