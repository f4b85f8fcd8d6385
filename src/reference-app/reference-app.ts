import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler } from 'express';
import { FAULTS, type FaultName, isFaultName, STEP_MS, WORKLOADS } from './catalog.js';
import { type ChangePost, postChange } from './change-reporter.js';
import { chatRouter } from './chat-api.js';
import { type ChangeEventBody, injectFault } from './faults.js';
import { hooksRouter } from './hooks-api.js';
import { createStateStore, isObject, jsonBody, readText, sendJson } from './http-support.js';
import { LANGFUSE_PREFIX, langfuseRouter } from './langfuse-api.js';
import { litellmRouter } from './litellm-api.js';
import { createReferenceAppMetrics } from './metrics.js';
import { clearFaults, evolve, initialState, type ReferenceAppState } from './state.js';
import { simulate } from './traffic.js';

export interface ReferenceAppOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** The `service` label of every metric and of the change events; rag-assistant by default. */
  service?: string;
  /** Where fault change events are posted (`POST {url}/changes`); without it none are sent. */
  aisre?: { url: string; token: string } | undefined;
  /** How often the traffic loop runs; 0 turns it off (advance with `tick`). 250 ms by default. */
  trafficIntervalMs?: number;
  /** Secret of the signed remedy webhook; random when not given. */
  hookSecret?: string;
  /** Langfuse key pair of the prompt API; random when not given. */
  langfuse?: { publicKey: string; secretKey: string };
  /** LiteLLM master key of the admin API; random when not given. */
  litellmMasterKey?: string;
  /** The wall clock, in ms: where simulated time starts and what the traffic loop follows. */
  now?: () => number;
  fetch?: typeof fetch;
}

/** A fault as injected: the change event a pipeline would have sent, and what became of it. */
export interface FaultReport {
  fault: FaultName;
  change: ChangeEventBody | null;
  posted: ChangePost;
}

export interface ReferenceAppCredentials {
  langfuse: { publicKey: string; secretKey: string };
  litellmMasterKey: string;
  hookSecret: string;
  /** The LiteLLM virtual keys of the app's workloads (alert labels name them as litellm_key). */
  keys: { rag: string; agent: string };
}

/** A running reference app. */
export interface ReferenceApp {
  url: string;
  service: string;
  credentials: ReferenceAppCredentials;
  /**
   * The environment that points aisre at this app: LLM_BASE_URL for golden sets, Langfuse and
   * LiteLLM for actions, and AISRE_WEBHOOKS for the runbook's reindex, cache_only_mode and
   * rules_based_mode webhooks. (PROMETHEUS_URL is Prometheus's, which scrapes `{url}/metrics`.)
   */
  aisreEnv(): Record<string, string>;
  state(): ReferenceAppState;
  /** Injects a fault and posts its change event to aisre, if any and if aisre's URL was given. */
  injectFault(fault: FaultName): Promise<FaultReport>;
  /** Back to the seeded healthy world (faults, remedies and limits alike). */
  clearFaults(): void;
  /**
   * Advances the simulation `steps` × 250 ms, whatever the wall clock says (the traffic loop, if
   * on, then waits for the wall clock to catch up). Tests run with the loop off and tick instead.
   */
  tick(steps?: number): void;
  /** The Prometheus exposition, as `GET /metrics` returns it. */
  metrics(): Promise<string>;
  close(): Promise<void>;
}

/** After a stall (a suspended laptop), the loop replays at most a minute and skips the rest. */
const MAX_CATCH_UP_STEPS = 240;
const DEFAULT_INTERVAL_MS = 250;

const secret = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;

/**
 * Starts the reference AI app on loopback: a simulated RAG assistant and support agent behind a
 * LiteLLM-style gateway, with Prometheus metrics (`/metrics`), an OpenAI-compatible chat endpoint
 * (`/v1/chat/completions`), Langfuse's prompt API (`/api/public/v2/prompts`), LiteLLM's admin API
 * (`/key/*`, `/team/*`, `/fallback`, `/model/*`), a signed remedy webhook (`/hooks/aisre`) and
 * fault injection (`GET|POST|DELETE /faults`). For game days, the end-to-end suite and the demo.
 */
export async function startReferenceApp(options: ReferenceAppOptions = {}): Promise<ReferenceApp> {
  const now = options.now ?? Date.now;
  const credentials: ReferenceAppCredentials = {
    langfuse: options.langfuse ?? { publicKey: secret('pk-lf-'), secretKey: secret('sk-lf-') },
    litellmMasterKey: options.litellmMasterKey ?? secret('sk-master-'),
    hookSecret: options.hookSecret ?? secret('whsec-'),
    keys: { rag: WORKLOADS.rag.key, agent: WORKLOADS.agent.key },
  };
  const store = createStateStore(
    initialState({ nowMs: now(), ...(options.service ? { service: options.service } : {}) }),
  );
  const metrics = createReferenceAppMetrics(store.get);
  const reports: FaultReport[] = [];

  const tick = (steps = 1) => {
    const { state, events } = simulate(store.get(), steps);
    store.set(state);
    metrics.record(events);
  };
  const inject = async (fault: FaultName): Promise<FaultReport> => {
    const injected = injectFault(store.get(), fault);
    store.set(injected.state);
    const posted = await postChange(options.aisre, injected.change, options.fetch);
    const report = { fault, change: injected.change, posted };
    reports.push(report);
    return report;
  };
  const clear = () => {
    store.set(clearFaults(store.get()));
  };

  const app = express();
  app.disable('x-powered-by');
  app.get('/', (_req, res) => {
    sendJson(res, 200, {
      app: 'aisre reference AI app',
      service: store.get().service,
      endpoints: {
        metrics: 'GET /metrics',
        chat: 'POST /v1/chat/completions',
        langfuse: `GET|PATCH ${LANGFUSE_PREFIX}`,
        litellm:
          'GET /key/info, POST /key/update, /key/block, /key/unblock, /team/update, /fallback, /model/update',
        hooks: 'POST /hooks/aisre/{reindex|cache_only|rules_based} (signed)',
        faults: 'GET|POST|DELETE /faults',
      },
      faults: FAULTS,
    });
  });
  app.get('/healthz', (_req, res) => sendJson(res, 200, { status: 'ok' }));
  app.get('/metrics', async (_req, res) => {
    res.set('content-type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });
  app.get('/faults', (_req, res) => {
    sendJson(res, 200, { active: store.get().faults, available: FAULTS, injected: reports });
  });
  app.post('/faults', readText, async (req, res) => {
    const body = jsonBody(req);
    const fault = isObject(body) ? body.fault : undefined;
    if (!isFaultName(fault)) {
      return sendJson(res, 400, {
        error: `send {"fault": <name>} with one of ${FAULTS.join(', ')}`,
        available: FAULTS,
      });
    }
    sendJson(res, 200, await inject(fault));
  });
  app.delete('/faults', (_req, res) => {
    const cleared = store.get().faults;
    clear();
    sendJson(res, 200, { cleared });
  });
  app.use(LANGFUSE_PREFIX, langfuseRouter({ store, credentials: credentials.langfuse }));
  app.use(litellmRouter({ store, masterKey: credentials.litellmMasterKey }));
  app.use(chatRouter({ store, masterKey: credentials.litellmMasterKey }));
  app.use(hooksRouter({ store, secret: credentials.hookSecret, now: () => new Date(now()) }));
  app.use((req, res) => sendJson(res, 404, { error: `no route for ${req.method} ${req.path}` }));
  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    const status = (err as { status?: number }).status;
    if (res.headersSent) return;
    if (status && status < 500) return sendJson(res, status, { error: (err as Error).message });
    sendJson(res, 500, { error: 'internal error in the reference app' });
  };
  app.use(onError);

  const server: Server = await new Promise((resolve, reject) => {
    const listening = app.listen(options.port ?? 0, options.host ?? '127.0.0.1', (err?: Error) =>
      err ? reject(err) : resolve(listening),
    );
  });
  // Node closes idle keep-alive connections after 5 s; a client reusing one as it closes gets
  // ECONNRESET on a request that never arrived. Clients' own idle limits are shorter than this.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  const url = `http://${host}:${port}`;

  const interval = options.trafficIntervalMs ?? DEFAULT_INTERVAL_MS;
  const timer =
    interval > 0
      ? setInterval(() => {
          const steps = Math.floor((now() - store.get().clockMs) / STEP_MS);
          if (steps <= 0) return;
          if (steps > MAX_CATCH_UP_STEPS) {
            const skipped = (steps - MAX_CATCH_UP_STEPS) * STEP_MS;
            store.set(
              evolve(store.get(), (draft) => {
                draft.clockMs += skipped;
              }),
            );
          }
          tick(Math.min(steps, MAX_CATCH_UP_STEPS));
        }, interval)
      : undefined;
  timer?.unref();

  return {
    url,
    service: store.get().service,
    credentials,
    aisreEnv: () => ({
      LLM_BASE_URL: `${url}/v1`,
      LANGFUSE_URL: url,
      LANGFUSE_PUBLIC_KEY: credentials.langfuse.publicKey,
      LANGFUSE_SECRET_KEY: credentials.langfuse.secretKey,
      LITELLM_URL: url,
      LITELLM_API_KEY: credentials.litellmMasterKey,
      AISRE_WEBHOOKS: JSON.stringify(
        Object.fromEntries(
          ['reindex', 'cache_only_mode', 'rules_based_mode'].map((name) => [
            name,
            { url: `${url}/hooks/aisre/${name}`, secret: credentials.hookSecret },
          ]),
        ),
      ),
    }),
    state: store.get,
    injectFault: inject,
    clearFaults: clear,
    tick,
    metrics: () => metrics.registry.metrics(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        if (timer) clearInterval(timer);
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
