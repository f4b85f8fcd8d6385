import { fileURLToPath } from 'node:url';
import { type ReferenceApp, startReferenceApp } from '../../src/reference-app/reference-app.js';
import { freePort, type RealPrometheus, startRealPrometheus } from './real-prometheus.js';
import { type SlackFlow, startSlackFlow } from './slack-flow.js';
import { ALERTMANAGER_TOKEN, API_TOKEN } from './test-service.js';

const RUNBOOKS = fileURLToPath(new URL('../../runbooks', import.meta.url));

/**
 * One end-to-end world: the reference app, aisre (fresh database, Slack emulator, the shipped
 * runbooks, diagnosis on by itself) and real Prometheus and Alertmanager with the shipped rules.
 * Each fault gets a world of its own, so no earlier fault's change events or counters mislead
 * its diagnosis.
 */
export interface E2eWorld {
  app: ReferenceApp;
  flow: SlackFlow;
  prometheus: RealPrometheus;
  stop(): Promise<void>;
}

/** Starts an end-to-end world; see E2eWorld. Everything started is stopped again if a part fails. */
export async function startE2eWorld(): Promise<E2eWorld> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const stopOne of stops.reverse()) await stopOne();
  };
  try {
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
        AISRE_RUNBOOKS_DIR: RUNBOOKS,
        AISRE_AUTO_DIAGNOSE: 'true',
        // Long enough for Prometheus (1 s scrapes) to see the app after an action on a busy machine.
        AISRE_ACTION_SETTLE: '3s',
      },
    });
    stops.push(() => flow.dispose());
    aisreTarget.url = flow.service.url;
    const prometheus = await startRealPrometheus({
      scrapeTarget: new URL(app.url).host,
      aisreUrl: flow.service.url,
      alertmanagerToken: ALERTMANAGER_TOKEN,
      prometheusPort,
    });
    stops.push(() => prometheus.stop());
    return { app, flow, prometheus, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
