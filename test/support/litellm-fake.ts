import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type FailureMatch, type QueuedFailure, takeFailure } from './fake-failures.js';

/** A request as the fake received it (headers included, to assert on auth and attribution). */
export interface LiteLLMFakeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface FakeKey {
  key: string;
  key_alias: string | null;
  team_id: string | null;
  rpm_limit: number | null;
  tpm_limit: number | null;
  max_budget: number | null;
  budget_duration: string | null;
  blocked: boolean | null;
  spend: number;
}

export interface FakeTeam {
  team_id: string;
  team_alias: string | null;
  rpm_limit: number | null;
  tpm_limit: number | null;
  max_budget: number | null;
  budget_duration: string | null;
  blocked: boolean;
  spend: number;
}

export interface FakeDeployment {
  model_id: string;
  model_name: string;
  litellm_params: { model: string; api_base?: string; api_key?: string };
}

export type FallbackType = 'general' | 'context_window' | 'content_policy';

export interface LiteLLMFake {
  url: string;
  masterKey: string;
  requests: LiteLLMFakeRequest[];
  seedKey(key: string, fields?: Partial<Omit<FakeKey, 'key'>>): void;
  seedTeam(teamId: string, fields?: Partial<Omit<FakeTeam, 'team_id'>>): void;
  seedDeployment(deployment: {
    model_id: string;
    model_name: string;
    model: string;
    api_base?: string;
  }): void;
  seedFallbacks(model: string, fallbacks: string[], type?: FallbackType): void;
  key(key: string): FakeKey | undefined;
  team(teamId: string): FakeTeam | undefined;
  deployment(modelId: string): FakeDeployment | undefined;
  /** The fallbacks configured for a model group, or undefined when none. */
  fallbacks(model: string, type?: FallbackType): string[] | undefined;
  /** `litellm-changed-by` of every write (POST/PATCH/DELETE), in order; null when absent. */
  changedBy(): Array<{ path: string; changedBy: string | null }>;
  /** The next request (or the next one `when` matches) is answered with `status` and a LiteLLM-like error. */
  failNext(status: number, body?: unknown, when?: FailureMatch): void;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

/** `ProxyException`, as the proxy's exception handler renders it. */
function proxyError(message: unknown, type: string, param: string, code: number) {
  return { error: { message, type, param, code: String(code) } };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** FastAPI's request validation error (422), as LiteLLM answers a body of the wrong shape. */
function validation(res: ServerResponse, field: string, msg: string, input: unknown) {
  send(res, 422, { detail: [{ type: 'value_error', loc: ['body', field], msg, input }] });
}

const DURATION = /^\d+[smhd]$/;
const MASTER_KEY = 'sk-fake-master-key-0123456789';

/**
 * A loopback LiteLLM proxy with the management endpoints runbook actions use: `/key/info`,
 * `/key/update`, `/key/block`, `/key/unblock`, `/team/info`, `/team/update`, `/fallback`
 * (POST, `GET|DELETE /fallback/{model}?fallback_type=`), `/model/info` and `/model/update`.
 * Requests need `Authorization: Bearer <master key>`; unknown keys, teams and models get the 4xx
 * bodies LiteLLM sends (ProxyException `{"error":{…}}` or FastAPI `{"detail":…}`).
 */
export async function startLiteLLMFake(options: { masterKey?: string } = {}): Promise<LiteLLMFake> {
  const masterKey = options.masterKey ?? MASTER_KEY;
  const keys = new Map<string, FakeKey>();
  const teams = new Map<string, FakeTeam>();
  const deployments = new Map<string, FakeDeployment>();
  const fallbacks: Record<FallbackType, Map<string, string[]>> = {
    general: new Map(),
    context_window: new Map(),
    content_policy: new Map(),
  };
  const requests: LiteLLMFakeRequest[] = [];
  const failures: QueuedFailure[] = [];

  const keyName = (key: string) => `sk-...${key.slice(-4)}`;
  const keyRecord = (k: FakeKey) => ({
    token: createHash('sha256').update(k.key).digest('hex'),
    key_name: keyName(k.key),
    key_alias: k.key_alias,
    spend: k.spend,
    max_budget: k.max_budget,
    budget_duration: k.budget_duration,
    rpm_limit: k.rpm_limit,
    tpm_limit: k.tpm_limit,
    blocked: k.blocked,
    team_id: k.team_id,
    models: [],
    metadata: {},
  });
  const teamRecord = (t: FakeTeam) => ({ ...t, models: [], members_with_roles: [], metadata: {} });
  const deploymentRecord = (d: FakeDeployment) => {
    const { api_key: _hidden, ...params } = d.litellm_params;
    return {
      model_name: d.model_name,
      litellm_params: params,
      model_info: { id: d.model_id, db_model: true },
    };
  };
  const modelNames = () => new Set([...deployments.values()].map((d) => d.model_name));

  /** Validates the fields /key/update and /team/update accept for limits and budgets. */
  function checkSettings(res: ServerResponse, body: Json): boolean {
    for (const field of ['rpm_limit', 'tpm_limit'] as const) {
      const value = body[field];
      if (value !== undefined && value !== null && !(Number.isInteger(value) && (value as number) >= 0)) {
        validation(res, field, 'Input should be a valid integer', value);
        return false;
      }
    }
    const budget = body.max_budget;
    if (budget !== undefined && budget !== null && typeof budget !== 'number') {
      validation(res, 'max_budget', 'Input should be a valid number', budget);
      return false;
    }
    const duration = body.budget_duration;
    if (
      duration !== undefined &&
      duration !== null &&
      (typeof duration !== 'string' || !DURATION.test(duration))
    ) {
      validation(res, 'budget_duration', 'Invalid duration, expected e.g. 30s, 30m, 30h, 30d', duration);
      return false;
    }
    return true;
  }

  function applySettings(target: FakeKey | FakeTeam, body: Json): void {
    for (const field of ['rpm_limit', 'tpm_limit', 'max_budget', 'budget_duration'] as const) {
      if (field in body) (target as unknown as Json)[field] = body[field] ?? null;
    }
  }

  function handle(req: IncomingMessage, res: ServerResponse, url: URL, body: unknown) {
    if (req.headers.authorization !== `Bearer ${masterKey}`) {
      return send(
        res,
        401,
        proxyError(
          'Authentication Error, Invalid proxy server token passed. Unable to find token in cache or `LiteLLM_VerificationTokenTable`',
          'auth_error',
          'None',
          401,
        ),
      );
    }
    const method = req.method ?? 'GET';
    const path = url.pathname;
    if (
      method !== 'GET' &&
      method !== 'DELETE' &&
      (typeof body !== 'object' || body === null || Array.isArray(body))
    ) {
      return send(res, 422, {
        detail: [
          {
            type: 'model_attributes_type',
            loc: ['body'],
            msg: 'Input should be a valid dictionary or object to extract fields from',
            input: body ?? null,
          },
        ],
      });
    }
    const json = (body ?? {}) as Json;

    if (method === 'GET' && path === '/key/info') {
      const key = url.searchParams.get('key') ?? '';
      const found = keys.get(key);
      if (!found) return send(res, 404, proxyError('Key not found in database', 'not_found', 'key', 404));
      return send(res, 200, { key, info: keyRecord(found) });
    }
    if (method === 'POST' && path === '/key/update') {
      if (typeof json.key !== 'string') return validation(res, 'key', 'Field required', null);
      const found = keys.get(json.key);
      if (!found) return send(res, 404, proxyError(`Key ${json.key} not found`, 'not_found', 'key', 404));
      if (!checkSettings(res, json)) return;
      applySettings(found, json);
      return send(res, 200, { key: json.key, ...keyRecord(found) });
    }
    if (method === 'POST' && (path === '/key/block' || path === '/key/unblock')) {
      if (typeof json.key !== 'string') return validation(res, 'key', 'Field required', null);
      const found = keys.get(json.key);
      if (!found)
        return send(res, 404, proxyError(`Key ${json.key} not found`, 'bad_request_error', 'key', 404));
      found.blocked = path === '/key/block';
      return send(res, 200, keyRecord(found));
    }
    if (method === 'GET' && path === '/team/info') {
      const teamId = url.searchParams.get('team_id') ?? '';
      const found = teams.get(teamId);
      if (!found) return send(res, 404, { detail: { error: `Team not found, passed team_id=${teamId}` } });
      const teamKeys = [...keys.values()].filter((k) => k.team_id === teamId).map(keyRecord);
      return send(res, 200, {
        team_id: teamId,
        team_info: teamRecord(found),
        keys: teamKeys,
        team_memberships: [],
      });
    }
    if (method === 'POST' && path === '/team/update') {
      if (typeof json.team_id !== 'string')
        return send(res, 400, { detail: { error: 'No team id passed in' } });
      const found = teams.get(json.team_id);
      if (!found)
        return send(res, 404, { detail: { error: `Team not found, passed team_id=${json.team_id}` } });
      if (!checkSettings(res, json)) return;
      applySettings(found, json);
      return send(res, 200, { team_id: json.team_id, data: teamRecord(found) });
    }
    if (method === 'POST' && path === '/fallback') {
      const model = json.model;
      const models = json.fallback_models;
      const type = (json.fallback_type ?? 'general') as FallbackType;
      if (typeof model !== 'string') return validation(res, 'model', 'Field required', null);
      if (!Array.isArray(models) || models.some((m) => typeof m !== 'string')) {
        return validation(res, 'fallback_models', 'Input should be a valid list of strings', models ?? null);
      }
      if (!(type in fallbacks)) {
        return validation(
          res,
          'fallback_type',
          "Input should be 'general', 'context_window' or 'content_policy'",
          type,
        );
      }
      const known = modelNames();
      if (!known.has(model)) {
        return send(res, 404, {
          detail: { error: `Model '${model}' not found in router`, available_models: [...known].sort() },
        });
      }
      const unknown = (models as string[]).filter((m) => !known.has(m));
      if (unknown.length > 0) {
        return send(res, 400, {
          detail: {
            error: `Invalid fallback models: [${unknown.map((m) => `'${m}'`).join(', ')}]`,
            available_models: [...known].sort(),
          },
        });
      }
      if ((models as string[]).includes(model)) {
        return send(res, 400, { detail: { error: `Model '${model}' cannot be its own fallback` } });
      }
      const updated = fallbacks[type].has(model);
      fallbacks[type].set(model, [...(models as string[])]);
      return send(res, 200, {
        model,
        fallback_models: models,
        fallback_type: type,
        message: `Fallback configuration ${updated ? 'updated' : 'created'} successfully`,
      });
    }
    if ((method === 'GET' || method === 'DELETE') && path.startsWith('/fallback/')) {
      const model = decodeURIComponent(path.slice('/fallback/'.length));
      const type = (url.searchParams.get('fallback_type') ?? 'general') as FallbackType;
      if (!(type in fallbacks)) {
        return send(res, 422, {
          detail: [
            {
              type: 'literal_error',
              loc: ['query', 'fallback_type'],
              msg: "Input should be 'general', 'context_window' or 'content_policy'",
              input: type,
            },
          ],
        });
      }
      const current = fallbacks[type].get(model);
      if (!current || current.length === 0) {
        return send(res, 404, { detail: { error: `No ${type} fallbacks configured for model '${model}'` } });
      }
      if (method === 'GET') return send(res, 200, { model, fallback_models: current, fallback_type: type });
      fallbacks[type].delete(model);
      return send(res, 200, {
        model,
        fallback_type: type,
        message: 'Fallback configuration deleted successfully',
      });
    }
    if (method === 'GET' && path === '/model/info') {
      const id = url.searchParams.get('litellm_model_id');
      if (id === null) return send(res, 200, { data: [...deployments.values()].map(deploymentRecord) });
      const found = deployments.get(id);
      if (!found) {
        return send(res, 404, { detail: { error: `Model id = ${id} not found on litellm proxy` } });
      }
      return send(res, 200, { data: [deploymentRecord(found)] });
    }
    if (method === 'POST' && path === '/model/update') {
      const info = json.model_info as Json | undefined;
      const id = typeof info?.id === 'string' ? info.id : undefined;
      // LiteLLM wraps this HTTPException's detail into a ProxyException: the message is an object.
      if (!id)
        return send(res, 400, proxyError({ error: 'model_info.id is required' }, 'auth_error', 'None', 400));
      const found = deployments.get(id);
      if (!found)
        return send(
          res,
          400,
          proxyError({ error: `Model with id=${id} not found in db` }, 'auth_error', 'None', 400),
        );
      const params = json.litellm_params as Json | undefined;
      if (params !== undefined && (typeof params !== 'object' || params === null)) {
        return validation(res, 'litellm_params', 'Input should be a valid dictionary', params);
      }
      if (params?.model !== undefined && (typeof params.model !== 'string' || params.model === '')) {
        return validation(res, 'litellm_params.model', 'Input should be a valid string', params.model);
      }
      if (typeof params?.model === 'string') found.litellm_params.model = params.model;
      if (typeof json.model_name === 'string') found.model_name = json.model_name;
      return send(res, 200, deploymentRecord(found));
    }
    return send(res, 404, { detail: 'Not Found' });
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://litellm.fake');
    const raw = await readBody(req);
    let body: unknown;
    let parseError = false;
    if (raw.trim() !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        parseError = true;
      }
    }
    requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body: parseError ? raw : body,
    });
    const failure = takeFailure(failures, req.method ?? 'GET', url.pathname);
    if (failure) return send(res, failure.status, failure.body);
    if (parseError) {
      return send(res, 422, {
        detail: [{ type: 'json_invalid', loc: ['body', 0], msg: 'JSON decode error', input: {} }],
      });
    }
    handle(req, res, url, body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    masterKey,
    requests,
    seedKey(key, fields = {}) {
      keys.set(key, {
        key,
        key_alias: null,
        team_id: null,
        rpm_limit: null,
        tpm_limit: null,
        max_budget: null,
        budget_duration: null,
        blocked: null,
        spend: 0,
        ...fields,
      });
    },
    seedTeam(teamId, fields = {}) {
      teams.set(teamId, {
        team_id: teamId,
        team_alias: null,
        rpm_limit: null,
        tpm_limit: null,
        max_budget: null,
        budget_duration: null,
        blocked: false,
        spend: 0,
        ...fields,
      });
    },
    seedDeployment({ model_id, model_name, model, api_base }) {
      deployments.set(model_id, {
        model_id,
        model_name,
        litellm_params: { model, ...(api_base ? { api_base } : {}), api_key: 'sk-upstream-provider-secret' },
      });
    },
    seedFallbacks(model, models, type = 'general') {
      fallbacks[type].set(model, [...models]);
    },
    key: (key) => {
      const found = keys.get(key);
      return found ? { ...found } : undefined;
    },
    team: (teamId) => {
      const found = teams.get(teamId);
      return found ? { ...found } : undefined;
    },
    deployment: (modelId) => {
      const found = deployments.get(modelId);
      return found ? { ...found, litellm_params: { ...found.litellm_params } } : undefined;
    },
    fallbacks: (model, type = 'general') => {
      const found = fallbacks[type].get(model);
      return found ? [...found] : undefined;
    },
    changedBy: () =>
      requests
        .filter((request) => request.method !== 'GET')
        .map((request) => {
          const header = request.headers['litellm-changed-by'];
          return { path: request.path, changedBy: typeof header === 'string' ? header : null };
        }),
    failNext(status, body, when) {
      failures.push({
        when,
        status,
        body:
          body ??
          (status >= 500
            ? proxyError(
                'Internal Server Error, upstream database unavailable',
                'internal_server_error',
                'None',
                status,
              )
            : proxyError(`Request failed with status ${status}`, 'bad_request_error', 'None', status)),
      });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
