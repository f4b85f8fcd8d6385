import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ActionError } from '../../src/actions/action-error.js';
import { parseActionParams, renderActionParams } from '../../src/actions/action-params.js';
import type { ActionContext, ActionType, UndoContext } from '../../src/actions/action-type.js';
import { ActionRegistry } from '../../src/actions/built-in-actions.js';
import { integrationFactory } from '../../src/actions/integrations.js';
import { signWebhookBody } from '../../src/actions/webhook-signature.js';
import { createCheckRegistry } from '../../src/checks/built-in-checks.js';
import type { ChangeEventFact, CheckIncident, CheckResult } from '../../src/checks/check-type.js';
import { runChecks } from '../../src/checks/run-check.js';
import { templateValues } from '../../src/checks/templates.js';
import { goldenSetCheck } from '../../src/checks/types/golden-set-check.js';
import { evaluateCondition } from '../../src/diagnosis/conditions.js';
import { isConclusion, type Runbook, runbookSchema } from '../../src/diagnosis/runbook-schema.js';
import { type FaultName, WORKLOADS } from '../../src/reference-app/catalog.js';
import type { ChangeEventBody } from '../../src/reference-app/faults.js';
import { type ReferenceApp, startReferenceApp } from '../../src/reference-app/reference-app.js';
import { type PrometheusStandIn, startPrometheusStandIn } from '../support/prometheus-stand-in.js';
import { MemoryCheckpoints } from '../unit/actions/action-harness.js';
import { InMemoryChangeEvents, InMemoryGoldenBaselines, run } from '../unit/checks/fixtures.js';
import {
  parseExposition,
  type Sample,
  type Signal,
  type SignalValues,
  signalOf,
  windowSignals,
} from '../unit/reference-app/metrics-window.js';

// The reference app needs no database; this suite runs in both integration projects regardless.

const SERVICE = 'rag-assistant';
const AISRE_TOKEN = 'aisre-api-token-for-reference-app-tests';
const STEP_SECONDS = 0.25;
/** Ten simulated minutes of traffic per measured window. */
const WINDOW_STEPS = 2400;
const logger = pino({ level: 'silent' });

/** A stand-in for aisre's `POST /changes`: what the app posted, and with which credentials. */
interface ChangeSink {
  url: string;
  received: Array<{ authorization: string | undefined; body: ChangeEventBody }>;
  close(): Promise<void>;
}

async function startChangeSink(): Promise<ChangeSink> {
  const received: ChangeSink['received'] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || req.url !== '/changes') {
      res.writeHead(404).end();
      return;
    }
    received.push({
      authorization: req.headers.authorization,
      body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChangeEventBody,
    });
    res.writeHead(201, { 'content-type': 'application/json' }).end('{"created":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

let app: ReferenceApp;
let sink: ChangeSink;
let prometheus: PrometheusStandIn;
let runbook: Runbook;
const checks = createCheckRegistry();
const actions = new ActionRegistry();
const goldenBaselines = new InMemoryGoldenBaselines();
const changeFacts: ChangeEventFact[] = [];
let healthy: SignalValues;

async function scrape(): Promise<Sample[]> {
  const response = await fetch(`${app.url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  return parseExposition(await response.text());
}

/**
 * Lets the app settle for a simulated 100 s, then measures a window of traffic as Prometheus
 * would see it: the signals every runbook query computes.
 */
async function measure(): Promise<SignalValues> {
  app.tick(400);
  const before = await scrape();
  app.tick(WINDOW_STEPS);
  const after = await scrape();
  return windowSignals(before, after, {
    service: SERVICE,
    seconds: WINDOW_STEPS * STEP_SECONDS,
    nowSeconds: app.state().clockMs / 1000,
  });
}

const FINGERPRINT_LABELS: Partial<Record<Signal, string>> = {
  response_models: 'gen_ai_response_model',
  fingerprints: 'system_fingerprint',
};

function answerFor(signal: Signal, values: SignalValues) {
  const value = values[signal];
  if (Array.isArray(value))
    return value.map((v) => ({ labels: { [FINGERPRINT_LABELS[signal]!]: v }, value: 1 }));
  return Number.isNaN(value) ? [] : [{ labels: {}, value }];
}

/** Prometheus answers the runbook's queries with `now`, and with the healthy window a day back. */
function serve(now: SignalValues): void {
  const cutoff = new Date(app.state().clockMs - 3_600_000);
  for (const signal of Object.keys(now) as Signal[]) {
    prometheus.respondAt((query) => signalOf(query) === signal, {
      cutoff,
      now: answerFor(signal, now),
      baseline: answerFor(signal, healthy),
    });
  }
}

function incidentFor(labels: Record<string, string> = {}): CheckIncident {
  return {
    id: 1,
    title: 'reference app incident',
    service: SERVICE,
    layerHint: null,
    labels: {
      service: SERVICE,
      prompt: 'rag-answer',
      gen_ai_request_model: WORKLOADS.rag.model,
      model_id: 'gpt-4o-primary',
      litellm_key: WORKLOADS.rag.key,
      ...labels,
    },
    startedAt: new Date(app.state().clockMs),
  };
}

function checkContext(incident: CheckIncident) {
  return {
    incident,
    now: new Date(app.state().clockMs),
    logger,
    deps: {
      prometheus: { url: prometheus.url, publicUrl: undefined, headers: {} },
      llm: { baseUrl: `${app.url}/v1`, apiKey: undefined },
      changes: new InMemoryChangeEvents(changeFacts),
      goldenBaselines,
      fetch: globalThis.fetch,
    },
  };
}

function statuses(results: Record<string, CheckResult>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(results).map(([id, result]) => [id, `${result.status}: ${result.summary}`]),
  );
}

/** Walks the runbook as the diagnosis engine does: run a node's checks, take the first outcome that holds. */
async function diagnose(incident: CheckIncident): Promise<{ path: string[]; conclusion: string }> {
  const visited: string[] = [];
  let id = runbook.start;
  for (let hop = 0; hop < 10; hop++) {
    visited.push(id);
    const node = runbook.nodes[id]!;
    if (isConclusion(node)) return { path: visited, conclusion: id };
    const results = await runChecks(checks, node.checks, checkContext(incident), { vars: runbook.vars });
    const next =
      node.outcomes.find((outcome) => evaluateCondition(outcome.when, results))?.next ?? node.otherwise;
    if (!next)
      throw new Error(`the diagnosis stopped at ${id} for a person: ${JSON.stringify(statuses(results))}`);
    id = next;
  }
  throw new Error(`no conclusion after ${visited.join(' → ')}`);
}

function actionContext<P>(type: ActionType<P>, params: unknown): ActionContext<P> & UndoContext<P> {
  const integrations = integrationFactory({
    langfuse: { url: app.url, ...app.credentials.langfuse },
    litellm: { url: app.url, apiKey: app.credentials.litellmMasterKey },
    webhooks: JSON.parse(app.aisreEnv().AISRE_WEBHOOKS!) as Record<string, { url: string; secret: string }>,
  });
  const signal = new AbortController().signal;
  return {
    params: type.params.parse(params),
    isDryRun: false,
    signal,
    logger,
    actor: 'U0GAMEDAY',
    checkpoint: new MemoryCheckpoints().checkpoint,
    recordPreviousState: async () => {},
    integration: (name) => integrations(name, { signal, record: () => {} }),
    previousState: undefined,
  };
}

/** Runs one of a conclusion's recommended actions against the app, params filled in from the incident. */
async function act(conclusion: string, incident: CheckIncident, index = 0) {
  const node = runbook.nodes[conclusion]!;
  if (!isConclusion(node)) throw new Error(`${conclusion} is not a conclusion`);
  const recommendation = node.conclusion.actions[index]!;
  const type = actions.get(recommendation.action);
  const values = templateValues(incident, runbook.vars);
  const params = parseActionParams(type.id, type.params, renderActionParams(recommendation.params, values));
  const outcome = await type.run(actionContext(type, params));
  return { type, params, outcome };
}

/** A conclusion's recovery checks (the checks of the node that decided it when it has none). */
async function verify(conclusion: string, incident: CheckIncident): Promise<Record<string, CheckResult>> {
  const node = runbook.nodes[conclusion]!;
  const decider = Object.values(runbook.nodes).find(
    (candidate) =>
      !isConclusion(candidate) && candidate.outcomes.some((outcome) => outcome.next === conclusion),
  );
  const specs = node.checks.length > 0 ? node.checks : (decider?.checks ?? []);
  expect(specs.length).toBeGreaterThan(0);
  return runChecks(checks, specs, checkContext(incident), { vars: runbook.vars });
}

beforeAll(async () => {
  runbook = runbookSchema.parse(
    parseYaml(await readFile(path.resolve(import.meta.dirname, '../../runbooks/ai-incident.yaml'), 'utf8')),
  ) as Runbook;
  [sink, prometheus] = await Promise.all([startChangeSink(), startPrometheusStandIn()]);
  app = await startReferenceApp({ trafficIntervalMs: 0, aisre: { url: sink.url, token: AISRE_TOKEN } });
  healthy = await measure();
  // The golden set's baseline, recorded while the app is healthy, as a first diagnosis would.
  const golden = runbook.nodes.provider_drift?.checks.find((check) => check.type === 'golden_set');
  await run(goldenSetCheck, golden?.params, checkContext(incidentFor()).deps, { vars: runbook.vars });
});

afterAll(async () => {
  await app?.close();
  await Promise.all([sink?.close(), prometheus?.close()]);
});

describe('the reference app’s metrics and the default runbook', () => {
  it('exports every series the runbook’s queries select, with the service label', async () => {
    const samples = await scrape();
    const queries = Object.values(runbook.nodes)
      .flatMap((node) => node.checks)
      .map((check) => check.params.query)
      .filter((query): query is string => typeof query === 'string');
    expect(queries.length).toBeGreaterThan(20);
    const rendered = queries.map((template) =>
      template
        .replace(/\{\{\s*vars\.svc\s*\}\}/g, `service="${SERVICE}"`)
        .replace(/\{\{\s*vars\.window\s*\}\}/g, '15m'),
    );
    expect(rendered.filter((query) => signalOf(query) === undefined)).toEqual([]);
    // The postmortem's impact section reads these two as well.
    rendered.push(
      `llm_cost_usd_total{service="${SERVICE}"}`,
      `gen_ai_client_token_usage_sum{service="${SERVICE}"}`,
    );
    const missing: string[] = [];
    for (const query of rendered) {
      for (const selector of query.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}/g)) {
        const matchers = [...selector[2]!.matchAll(/([a-zA-Z_]+)\s*=\s*"([^"]*)"/g)].map(
          (m) => [m[1]!, m[2]!] as const,
        );
        expect(matchers).toContainEqual(['service', SERVICE]);
        const found = samples.some(
          (sample) =>
            sample.name === selector[1] && matchers.every(([name, value]) => sample.labels[name] === value),
        );
        if (!found) missing.push(`${selector[0]} (in ${query})`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('is healthy by every check of the triage', async () => {
    serve(healthy);
    const results = await runChecks(checks, runbook.nodes.triage!.checks, checkContext(incidentFor()), {
      vars: runbook.vars,
    });
    const failing = Object.entries(results).filter(([, result]) => result.status === 'fail');
    expect(failing.map(([id, result]) => `${id}: ${result.summary}`)).toEqual([]);
    expect(results.eval_pass?.status).toBe('pass');
    expect(results.refusals?.status).toBe('pass');
    expect(healthy.steps_per_session).toBeLessThanOrEqual(20);
  });
});

const CASES: Array<{
  fault: FaultName;
  conclusion: string;
  layer: string;
  change: ChangeEventBody['kind'] | null;
  labels?: Record<string, string>;
}> = [
  { fault: 'prompt_regression', conclusion: 'prompt_regression', layer: 'generation', change: 'prompt' },
  { fault: 'embedding_swap', conclusion: 'embedding_model_changed', layer: 'retrieval', change: 'embedding' },
  { fault: 'stale_index', conclusion: 'index_stale', layer: 'retrieval', change: 'index' },
  { fault: 'misrouting', conclusion: 'route_changed', layer: 'routing', change: 'config' },
  { fault: 'provider_drift', conclusion: 'provider_model_update', layer: 'provider_drift', change: null },
  { fault: 'integration_mapping', conclusion: 'integration_broken', layer: 'integration', change: 'code' },
  {
    fault: 'cost_runaway',
    conclusion: 'retry_loop',
    layer: 'cost',
    change: 'code',
    labels: { litellm_key: WORKLOADS.agent.key },
  },
  {
    fault: 'agent_loop',
    conclusion: 'agent_loop',
    layer: 'cost',
    change: 'code',
    labels: { litellm_key: WORKLOADS.agent.key },
  },
  { fault: 'safety_regression', conclusion: 'safety_regression', layer: 'safety', change: 'prompt' },
];

describe('each fault: injected, diagnosed from the metrics, remedied through the app’s APIs', () => {
  beforeEach(() => {
    app.clearFaults();
    changeFacts.length = 0;
    sink.received.length = 0;
    prometheus.queries.length = 0;
  });

  for (const { fault, conclusion, layer, change, labels } of CASES) {
    it(`${fault} → ${conclusion} (${layer}); its first action restores the recovery checks`, async () => {
      const report = await app.injectFault(fault);
      if (change === null) {
        expect(report.change).toBeNull();
        expect(report.posted.status).toBe('not_sent');
        expect(sink.received).toEqual([]);
      } else {
        expect(report.posted).toEqual({ status: 'posted', httpStatus: 201 });
        expect(sink.received).toEqual([
          {
            authorization: `Bearer ${AISRE_TOKEN}`,
            body: expect.objectContaining({ service: SERVICE, kind: change }),
          },
        ]);
        const body = sink.received[0]!.body;
        changeFacts.push({
          id: 1,
          service: body.service,
          kind: body.kind,
          fromVersion: body.from,
          toVersion: body.to,
          author: body.author,
          at: new Date(body.at),
          link: null,
          summary: body.summary,
        });
      }

      serve(await measure());
      const incident = incidentFor(labels);
      const diagnosis = await diagnose(incident);
      expect(diagnosis.conclusion).toBe(conclusion);
      const node = runbook.nodes[conclusion]!;
      expect(isConclusion(node) && node.conclusion.layer).toBe(layer);
      const unknown = prometheus.queries.map((q) => q.query).filter((query) => signalOf(query) === undefined);
      expect(unknown).toEqual([]);

      const before = await verify(conclusion, incident);
      expect(Object.values(before).some((result) => result.status === 'fail')).toBe(true);

      const { outcome } = await act(conclusion, incident);
      expect(outcome.changes.length).toBeGreaterThan(0);
      serve(await measure());
      const after = await verify(conclusion, incident);
      expect(statuses(after)).toEqual(
        Object.fromEntries(Object.keys(after).map((id) => [id, expect.stringMatching(/^pass: /)])),
      );
    });
  }

  it('agent_loop: the circuit breaker (blocking the key) stops it too, and its undo lets it loop again', async () => {
    await app.injectFault('agent_loop');
    const incident = incidentFor({ litellm_key: WORKLOADS.agent.key });
    const { type, params, outcome } = await act('agent_loop', incident, 1);
    expect(type.id).toBe('gateway.block');
    expect(app.state().gateway.keys[WORKLOADS.agent.key]?.blocked).toBe(true);
    serve(await measure());
    expect(statuses(await verify('agent_loop', incident))).toEqual({
      steps_per_session: expect.stringMatching(/^pass: /),
      token_spend: expect.stringMatching(/^pass: /),
    });
    await type.undo({ ...actionContext(type, params), previousState: outcome.previousState });
    expect(app.state().gateway.keys[WORKLOADS.agent.key]?.blocked).toBe(false);
    expect((await measure()).steps_per_session).toBeGreaterThan(20);
  });

  it('rules-based mode: the webhook undo turns it off and the schema errors come back', async () => {
    await app.injectFault('integration_mapping');
    const incident = incidentFor();
    const { type, params, outcome } = await act('integration_broken', incident);
    expect(app.state().modes.rulesBased).toBe(true);
    expect(outcome.previousState).toMatchObject({ previous: { action: 'rules_based', enabled: false } });
    await type.undo({ ...actionContext(type, params), previousState: outcome.previousState });
    expect(app.state().modes.rulesBased).toBe(false);
    expect((await measure()).schema_errors).toBeGreaterThan(0.3);
  });

  it('a reindex cannot be undone, and says so', async () => {
    await app.injectFault('stale_index');
    const { type, params, outcome } = await act('index_stale', incidentFor());
    const error = await type
      .undo({ ...actionContext(type, params), previousState: outcome.previousState })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(error).toBeInstanceOf(ActionError);
    expect((error as ActionError).message).toContain('cannot be undone');
  });
});

describe('golden sets against the app’s chat endpoint', () => {
  const golden = () => runbook.nodes.provider_drift!.checks.find((check) => check.type === 'golden_set')!;
  /** The runbook's golden set, aimed at the model the RAG answers use. */
  const probe = (set: string) =>
    run(
      goldenSetCheck,
      { ...golden().params, set, model: WORKLOADS.rag.model },
      checkContext(incidentFor()).deps,
      {
        vars: runbook.vars,
      },
    );

  beforeEach(() => app.clearFaults());

  it('records a baseline when healthy, then passes while the app stays healthy', async () => {
    expect(await probe('primary-healthy')).toMatchObject({ status: 'inconclusive', value: 1 });
    const again = await probe('primary-healthy');
    expect(again).toMatchObject({ status: 'pass', value: 1 });
    expect(again.evidence).toContainEqual({ label: 'models', value: 'gpt-4o-2024-08-06' });
  });

  it('fails under provider drift: answers drift and the fingerprint changed since the baseline', async () => {
    await probe('primary-drift');
    await app.injectFault('provider_drift');
    const result = await probe('primary-drift');
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('fingerprint changed since baseline');
    expect(result.evidence).toContainEqual({ label: 'models vs baseline', value: 'same' });
  });

  it('fails under a prompt regression', async () => {
    await probe('primary-prompt');
    await app.injectFault('prompt_regression');
    expect(await probe('primary-prompt')).toMatchObject({ status: 'fail', value: 0 });
  });

  it('passes under an integration mapping error: the model is fine in isolation', async () => {
    await probe('primary-mapping');
    await app.injectFault('integration_mapping');
    expect(await probe('primary-mapping')).toMatchObject({ status: 'pass', value: 1 });
  });

  it('sees the misrouted model answer', async () => {
    await app.injectFault('misrouting');
    const response = await fetch(`${app.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'What is 17 + 25?' }] }),
    });
    expect(await response.json()).toMatchObject({
      model: 'gpt-3.5-turbo-0613',
      choices: [{ message: { role: 'assistant', content: '42' } }],
    });
  });
});

describe('the app’s HTTP contracts', () => {
  const post = (route: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${app.url}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  beforeEach(() => app.clearFaults());

  it('injects and clears faults over HTTP', async () => {
    const bad = await post('/faults', { fault: 'gremlins' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ available: expect.arrayContaining(['provider_drift']) });
    const injected = await post('/faults', { fault: 'embedding_swap' });
    expect(await injected.json()).toMatchObject({
      fault: 'embedding_swap',
      change: { kind: 'embedding' },
      posted: { status: 'posted' },
    });
    expect(await (await fetch(`${app.url}/faults`)).json()).toMatchObject({ active: ['embedding_swap'] });
    const cleared = await fetch(`${app.url}/faults`, { method: 'DELETE' });
    expect(await cleared.json()).toEqual({ cleared: ['embedding_swap'] });
    expect(app.state().faults).toEqual([]);
  });

  it('refuses the admin APIs without their credentials, as Langfuse and LiteLLM do', async () => {
    const langfuse = await fetch(`${app.url}/api/public/v2/prompts/rag-answer`);
    expect(langfuse.status).toBe(401);
    expect(await langfuse.json()).toMatchObject({ error: 'UnauthorizedError' });
    const litellm = await fetch(`${app.url}/key/info?key=${WORKLOADS.rag.key}`, {
      headers: { authorization: 'Bearer wrong' },
    });
    expect(litellm.status).toBe(401);
    expect(await litellm.json()).toMatchObject({ error: { type: 'auth_error', code: '401' } });
  });

  it('serves prompts by label and version, and moves labels with PATCH', async () => {
    const basic = `Basic ${Buffer.from(`${app.credentials.langfuse.publicKey}:${app.credentials.langfuse.secretKey}`).toString('base64')}`;
    const get = (query: string) =>
      fetch(`${app.url}/api/public/v2/prompts/rag-answer${query}`, { headers: { authorization: basic } });
    expect(await (await get('')).json()).toMatchObject({ version: 2, labels: ['production', 'latest'] });
    expect(await (await get('?version=1')).json()).toMatchObject({ version: 1, labels: [] });
    expect((await get('?label=staging')).status).toBe(404);
    const patched = await fetch(`${app.url}/api/public/v2/prompts/rag-answer/versions/1`, {
      method: 'PATCH',
      headers: { authorization: basic, 'content-type': 'application/json' },
      body: JSON.stringify({ newLabels: ['production'] }),
    });
    expect(await patched.json()).toMatchObject({ version: 1, labels: ['production'] });
    expect(await (await get('')).json()).toMatchObject({ version: 1 });
  });

  it('answers LiteLLM’s validation errors for bad limits and unknown models', async () => {
    const auth = { authorization: `Bearer ${app.credentials.litellmMasterKey}` };
    const badLimit = await post('/key/update', { key: WORKLOADS.rag.key, rpm_limit: 'lots' }, auth);
    expect(badLimit.status).toBe(422);
    const badFallback = await post('/fallback', { model: 'gpt-4o', fallback_models: ['gpt-5'] }, auth);
    expect(badFallback.status).toBe(400);
    expect(await badFallback.json()).toMatchObject({
      detail: { error: "Invalid fallback models: ['gpt-5']" },
    });
    const notJson = await post('/key/block', '{', auth);
    expect(notJson.status).toBe(422);
  });

  it('refuses webhook deliveries that are unsigned or for another service, and repeats answers per delivery id', async () => {
    const hook = `${app.url}/hooks/aisre/cache_only_mode`;
    const unsigned = await fetch(hook, { method: 'POST', body: '{}' });
    expect(unsigned.status).toBe(401);
    const signed = (body: string, delivery: string) =>
      fetch(hook, {
        method: 'POST',
        headers: {
          'x-aisre-signature': signWebhookBody(app.credentials.hookSecret, body),
          'x-aisre-delivery': delivery,
        },
        body,
      });
    expect((await signed(JSON.stringify({ service: 'billing' }), 'd-0')).status).toBe(404);
    const first = await signed(JSON.stringify({ service: SERVICE, enabled: true }), 'd-1');
    expect(await first.json()).toMatchObject({
      status: 'done',
      previous: { action: 'cache_only', enabled: false },
    });
    const repeat = await signed(JSON.stringify({ service: SERVICE, enabled: true }), 'd-1');
    expect(await repeat.json()).toMatchObject({ previous: { action: 'cache_only', enabled: false } });
    expect(app.state().modes.cacheOnly).toBe(true);
  });

  it('refuses a blocked key and an unknown model on the chat endpoint', async () => {
    const chat = (model: string, headers: Record<string, string> = {}) =>
      post('/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }] }, headers);
    expect((await chat('gpt-5')).status).toBe(400);
    await post(
      '/key/block',
      { key: WORKLOADS.agent.key },
      { authorization: `Bearer ${app.credentials.litellmMasterKey}` },
    );
    const blocked = await chat('gpt-4o-mini', { authorization: `Bearer ${WORKLOADS.agent.key}` });
    expect(blocked.status).toBe(401);
    expect((await chat('gpt-4o-mini', { authorization: `Bearer ${WORKLOADS.rag.key}` })).status).toBe(200);
  });
});

describe('the traffic loop and change events without aisre', () => {
  it('advances with the clock on its own timer, and posts no change events without aisre’s URL', async () => {
    let now = Date.parse('2026-11-22T12:00:00Z');
    const own = await startReferenceApp({ trafficIntervalMs: 10, now: () => now });
    try {
      const report = await own.injectFault('prompt_regression');
      expect(report.posted).toEqual({ status: 'not_sent', reason: 'no aisre URL was given' });
      now += 5_000;
      await expect
        .poll(() => own.state().clockMs, { timeout: 10_000 })
        .toBeGreaterThanOrEqual(Date.parse('2026-11-22T12:00:05Z'));
      const operations = parseExposition(await own.metrics()).filter(
        (sample) => sample.name === 'gen_ai_client_operation_duration_seconds_count',
      );
      expect(operations.reduce((sum, sample) => sum + sample.value, 0)).toBeGreaterThanOrEqual(20);
      // After a long stall only a minute is replayed.
      now += 3_600_000;
      await expect.poll(() => own.state().clockMs, { timeout: 10_000 }).toBeGreaterThanOrEqual(now - 250);
      expect(own.state().sim.step).toBeLessThanOrEqual(20 + 240 + 1);
    } finally {
      await own.close();
    }
  });
});
