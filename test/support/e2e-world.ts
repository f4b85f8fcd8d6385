import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { healthyHistory } from '../../src/reference-app/history.js';
import {
  freePort,
  type PrometheusStack,
  startPrometheusStack,
} from '../../src/reference-app/prometheus-stack.js';
import { type ReferenceApp, startReferenceApp } from '../../src/reference-app/reference-app.js';
import { type SlackFlow, startSlackFlow } from './slack-flow.js';
import { ALERTMANAGER_TOKEN, API_TOKEN } from './test-service.js';

const RUNBOOK = fileURLToPath(new URL('../../runbooks/ai-incident.yaml', import.meta.url));
const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/**
 * One end-to-end world: the reference app, aisre (fresh database, Slack emulator, the shipped
 * runbook, diagnosis on by itself) and real Prometheus and Alertmanager with the shipped rules.
 * Each fault gets a world of its own, so no earlier fault's change events or counters mislead
 * its diagnosis.
 */
export interface E2eWorld {
  app: ReferenceApp;
  flow: SlackFlow;
  prometheus: PrometheusStack;
  stop(): Promise<void>;
}

/**
 * The shipped runbook with one change: rates over 1 minute instead of 15. The app changes state
 * in seconds, and a 15-minute rate would still hold the fault minutes after the fix, so recovery
 * could not be seen within a test. Queries, thresholds and the tree are the shipped ones.
 */
async function runbookWithShortWindow(dir: string): Promise<string> {
  const doc = parseDocument(await readFile(RUNBOOK, 'utf8'));
  doc.setIn(['vars', 'window'], '1m');
  const runbooks = path.join(dir, 'runbooks');
  await mkdir(runbooks);
  await writeFile(path.join(runbooks, 'ai-incident.yaml'), doc.toString());
  return runbooks;
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
        AISRE_RUNBOOKS_DIR: await runbookWithShortWindow(dir),
        AISRE_AUTO_DIAGNOSE: 'true',
        // Long enough for Prometheus (1 s scrapes) to see the app after an action on a busy machine.
        AISRE_ACTION_SETTLE: '3s',
      },
    });
    stops.push(() => flow.dispose());
    aisreTarget.url = flow.service.url;
    // A healthy past, as a production Prometheus has one: yesterday, which `offset 1d` compares
    // with, and the last ten minutes, so the first 1-minute rates are not read off a few seconds
    // of scrapes (one refusal among a dozen requests looks like a refusal storm).
    const now = Date.now();
    const history = [
      ...(await healthyHistory({
        fromMs: now - DAY_MS - 20 * MINUTE_MS,
        toMs: now - DAY_MS + 10 * MINUTE_MS,
        service: app.service,
      })),
      ...(await healthyHistory({ fromMs: now - 10 * MINUTE_MS, toMs: now - 5_000, service: app.service })),
    ];
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
