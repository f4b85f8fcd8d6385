import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { healthyHistory } from '../../src/reference-app/history.js';
import {
  freePort,
  type PrometheusStack,
  startPrometheusStack,
} from '../../src/reference-app/prometheus-stack.js';
import { type ReferenceApp, startReferenceApp } from '../../src/reference-app/reference-app.js';
import { writeShortWindowRunbook } from '../../src/reference-app/short-window-runbook.js';
import { type SlackFlow, startSlackFlow } from './slack-flow.js';
import { ALERTMANAGER_TOKEN, API_TOKEN } from './test-service.js';

const RUNBOOKS = fileURLToPath(new URL('../../runbooks', import.meta.url));
const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/**
 * One end-to-end world: the reference app, aisre (fresh database, Slack emulator, the shipped
 * runbook on a 1-minute window, diagnosis on by itself) and real Prometheus and Alertmanager with the shipped rules.
 * Each fault gets a world of its own, so no earlier fault's change events or counters mislead
 * its diagnosis.
 */
export interface E2eWorld {
  app: ReferenceApp;
  flow: SlackFlow;
  prometheus: PrometheusStack;
  stop(): Promise<void>;
}

/** Starts an end-to-end world; see E2eWorld. Everything started is stopped again if a part fails. */
export async function startE2eWorld(): Promise<E2eWorld> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const stopOne of stops.reverse()) await stopOne();
  };
  try {
    const dir = await mkdtemp(path.join(tmpdir(), 'aisre-e2e-'));
    stops.push(() => rm(dir, { recursive: true, force: true }));
    // The app posts each fault's change event to aisre, which starts after it (aisre needs the
    // app's URLs and credentials): the target is filled in once aisre is up.
    const aisreTarget = { url: 'http://127.0.0.1:9', token: API_TOKEN };
    const app = await startReferenceApp({ aisre: aisreTarget });
    stops.push(() => app.close());
    // aisre queries Prometheus, which alerts to aisre: Prometheus's port is chosen first.
    const prometheusPort = await freePort();
    const flow = await startSlackFlow({
      env: {
        ...app.aisreEnv(),
        PROMETHEUS_URL: `http://127.0.0.1:${prometheusPort}`,
        AISRE_RUNBOOKS_DIR: await writeShortWindowRunbook(RUNBOOKS, dir),
        AISRE_AUTO_DIAGNOSE: 'true',
        // Long enough for Prometheus (1 s scrapes) to see the app after an action on a busy machine.
        AISRE_ACTION_SETTLE: '3s',
      },
    });
    stops.push(() => flow.dispose());
    aisreTarget.url = flow.service.url;
    // Yesterday, healthy: what `offset 1d` compares with (a Prometheus started now has no past).
    // Only yesterday: a backfilled recent past would be series of its own, still current for
    // Prometheus's 5-minute lookback, and would hide gauges such as the index's last success.
    const now = Date.now();
    const history = await healthyHistory({
      fromMs: now - DAY_MS - 20 * MINUTE_MS,
      toMs: now - DAY_MS + 10 * MINUTE_MS,
      service: app.service,
    });
    const prometheus = await startPrometheusStack({
      scrapeTarget: new URL(app.url).host,
      aisreUrl: flow.service.url,
      alertmanagerToken: ALERTMANAGER_TOKEN,
      prometheusPort,
      history,
    });
    stops.push(() => prometheus.stop());
    return { app, flow, prometheus, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
