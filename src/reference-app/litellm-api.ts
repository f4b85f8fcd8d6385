import { createHash } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { secretsEqual } from '../http/bearer-auth.js';
import { FALLBACK_TYPES, type FallbackType } from './catalog.js';
import { INVALID_JSON, isObject, jsonBody, readText, type StateStore, sendJson } from './http-support.js';
import {
  type Deployment,
  fallbacksOf,
  type GatewayKey,
  type GatewayTeam,
  type LimitFields,
  type ReferenceAppState,
  setFallbacks,
  setKeyBlocked,
  updateDeployment,
  updateKeyLimits,
  updateTeamLimits,
} from './state.js';

type Json = Record<string, unknown>;

/** `ProxyException`, as LiteLLM's exception handler renders it. */
function proxyError(message: unknown, type: string, param: string, code: number) {
  return { error: { message, type, param, code: String(code) } };
}

/** FastAPI's request validation error (422), as LiteLLM answers a body of the wrong shape. */
function validation(res: Response, field: string, msg: string, input: unknown) {
  sendJson(res, 422, { detail: [{ type: 'value_error', loc: ['body', field], msg, input }] });
}

const DURATION = /^\d+[smhd]$/;
const LIMIT_FIELDS = {
  rpm_limit: 'rpmLimit',
  tpm_limit: 'tpmLimit',
  max_budget: 'maxBudget',
  budget_duration: 'budgetDuration',
} as const;

function keyRecord(k: GatewayKey) {
  return {
    token: createHash('sha256').update(k.key).digest('hex'),
    key_name: `sk-...${k.key.slice(-4)}`,
    key_alias: k.alias,
    spend: k.spend,
    max_budget: k.maxBudget,
    budget_duration: k.budgetDuration,
    budget_reset_at: k.budgetResetAtMs === null ? null : new Date(k.budgetResetAtMs).toISOString(),
    rpm_limit: k.rpmLimit,
    tpm_limit: k.tpmLimit,
    blocked: k.blocked,
    team_id: k.teamId,
    models: [],
    metadata: {},
  };
}

function teamRecord(t: GatewayTeam) {
  return {
    team_id: t.teamId,
    team_alias: t.alias,
    rpm_limit: t.rpmLimit,
    tpm_limit: t.tpmLimit,
    max_budget: t.maxBudget,
    budget_duration: t.budgetDuration,
    blocked: false,
    spend: t.spend,
    models: [],
    members_with_roles: [],
    metadata: {},
  };
}

function deploymentRecord(d: Deployment) {
  return {
    model_name: d.modelName,
    litellm_params: { model: d.upstream },
    model_info: { id: d.modelId, db_model: true },
  };
}

/** The limit and budget fields of an update body, validated; undefined after answering 422. */
function limitFields(res: Response, body: Json): LimitFields | undefined {
  const fields: LimitFields = {};
  for (const field of ['rpm_limit', 'tpm_limit'] as const) {
    const value = body[field];
    if (value === undefined) continue;
    if (value !== null && !(Number.isInteger(value) && (value as number) >= 0)) {
      validation(res, field, 'Input should be a valid integer', value);
      return undefined;
    }
    fields[LIMIT_FIELDS[field]] = value as number | null;
  }
  const budget = body.max_budget;
  if (budget !== undefined) {
    if (budget !== null && typeof budget !== 'number') {
      validation(res, 'max_budget', 'Input should be a valid number', budget);
      return undefined;
    }
    fields.maxBudget = budget;
  }
  const duration = body.budget_duration;
  if (duration !== undefined) {
    if (duration !== null && (typeof duration !== 'string' || !DURATION.test(duration))) {
      validation(res, 'budget_duration', 'Invalid duration, expected e.g. 30s, 30m, 30h, 30d', duration);
      return undefined;
    }
    fields.budgetDuration = duration;
  }
  return fields;
}

function modelNames(state: ReferenceAppState): Set<string> {
  return new Set(state.gateway.deployments.map((d) => d.modelName));
}

function isFallbackType(value: unknown): value is FallbackType {
  return typeof value === 'string' && (FALLBACK_TYPES as readonly string[]).includes(value);
}

/**
 * The LiteLLM proxy's management API over the app's gateway state, behind `Authorization: Bearer
 * <master key>`: `GET /key/info?key=`, `POST /key/update` (rpm_limit, tpm_limit, max_budget,
 * budget_duration), `POST /key/block` and `/key/unblock`, `GET /team/info?team_id=`, `POST
 * /team/update`, `POST /fallback` and `GET|DELETE /fallback/{model}?fallback_type=`, `GET
 * /model/info[?litellm_model_id=]` and `POST /model/update`. Limits, budgets, blocks, fallbacks and
 * upstream models take effect on the next simulated request. Errors have LiteLLM's shapes.
 */
export function litellmRouter(options: { store: StateStore; masterKey: string }): Router {
  const { store } = options;
  const router = express.Router();

  const authenticate = (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization;
    if (!header || !secretsEqual(header, `Bearer ${options.masterKey}`)) {
      return sendJson(
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
    next();
  };
  /** A write's body; undefined after answering 422 as FastAPI does when it is no JSON object. */
  const objectBody = (req: Request, res: Response): Json | undefined => {
    const body = jsonBody(req);
    if (body === INVALID_JSON) {
      sendJson(res, 422, {
        detail: [{ type: 'json_invalid', loc: ['body', 0], msg: 'JSON decode error', input: {} }],
      });
      return undefined;
    }
    if (!isObject(body)) {
      sendJson(res, 422, {
        detail: [
          {
            type: 'model_attributes_type',
            loc: ['body'],
            msg: 'Input should be a valid dictionary or object to extract fields from',
            input: body ?? null,
          },
        ],
      });
      return undefined;
    }
    return body;
  };
  // Auth per route (not router.use): the router is mounted at the root, beside the app's other APIs.
  router.get('/key/info', readText, authenticate, (req, res) => {
    const key = typeof req.query.key === 'string' ? req.query.key : '';
    const keys = store.get().gateway.keys;
    const found = Object.hasOwn(keys, key) ? keys[key] : undefined;
    if (!found) return sendJson(res, 404, proxyError('Key not found in database', 'not_found', 'key', 404));
    sendJson(res, 200, { key, info: keyRecord(found) });
  });

  router.post('/key/update', readText, authenticate, (req, res) => {
    const json = objectBody(req, res);
    if (!json) return;
    if (typeof json.key !== 'string') return validation(res, 'key', 'Field required', null);
    if (!Object.hasOwn(store.get().gateway.keys, json.key)) {
      return sendJson(res, 404, proxyError(`Key ${json.key} not found`, 'not_found', 'key', 404));
    }
    const fields = limitFields(res, json);
    if (!fields) return;
    const next = updateKeyLimits(store.get(), json.key, fields)!;
    store.set(next);
    sendJson(res, 200, { key: json.key, ...keyRecord(next.gateway.keys[json.key]!) });
  });

  for (const [path, blocked] of [
    ['/key/block', true],
    ['/key/unblock', false],
  ] as const) {
    router.post(path, readText, authenticate, (req, res) => {
      const json = objectBody(req, res);
      if (!json) return;
      if (typeof json.key !== 'string') return validation(res, 'key', 'Field required', null);
      const next = setKeyBlocked(store.get(), json.key, blocked);
      if (!next)
        return sendJson(res, 404, proxyError(`Key ${json.key} not found`, 'bad_request_error', 'key', 404));
      store.set(next);
      sendJson(res, 200, keyRecord(next.gateway.keys[json.key]!));
    });
  }

  router.get('/team/info', readText, authenticate, (req, res) => {
    const teamId = typeof req.query.team_id === 'string' ? req.query.team_id : '';
    const { teams, keys } = store.get().gateway;
    const found = Object.hasOwn(teams, teamId) ? teams[teamId] : undefined;
    if (!found) return sendJson(res, 404, { detail: { error: `Team not found, passed team_id=${teamId}` } });
    sendJson(res, 200, {
      team_id: teamId,
      team_info: teamRecord(found),
      keys: Object.values(keys)
        .filter((k) => k.teamId === teamId)
        .map(keyRecord),
      team_memberships: [],
    });
  });

  router.post('/team/update', readText, authenticate, (req, res) => {
    const json = objectBody(req, res);
    if (!json) return;
    if (typeof json.team_id !== 'string')
      return sendJson(res, 400, { detail: { error: 'No team id passed in' } });
    if (!Object.hasOwn(store.get().gateway.teams, json.team_id)) {
      return sendJson(res, 404, { detail: { error: `Team not found, passed team_id=${json.team_id}` } });
    }
    const fields = limitFields(res, json);
    if (!fields) return;
    const next = updateTeamLimits(store.get(), json.team_id, fields)!;
    store.set(next);
    sendJson(res, 200, { team_id: json.team_id, data: teamRecord(next.gateway.teams[json.team_id]!) });
  });

  router.post('/fallback', readText, authenticate, (req, res) => {
    const json = objectBody(req, res);
    if (!json) return;
    const { model, fallback_models: models } = json;
    const type = json.fallback_type ?? 'general';
    if (typeof model !== 'string') return validation(res, 'model', 'Field required', null);
    if (!Array.isArray(models) || models.some((m) => typeof m !== 'string')) {
      return validation(res, 'fallback_models', 'Input should be a valid list of strings', models ?? null);
    }
    if (!isFallbackType(type)) {
      return validation(
        res,
        'fallback_type',
        "Input should be 'general', 'context_window' or 'content_policy'",
        type,
      );
    }
    const known = modelNames(store.get());
    if (!known.has(model)) {
      return sendJson(res, 404, {
        detail: { error: `Model '${model}' not found in router`, available_models: [...known].sort() },
      });
    }
    const unknown = (models as string[]).filter((m) => !known.has(m));
    if (unknown.length > 0) {
      return sendJson(res, 400, {
        detail: {
          error: `Invalid fallback models: [${unknown.map((m) => `'${m}'`).join(', ')}]`,
          available_models: [...known].sort(),
        },
      });
    }
    if ((models as string[]).includes(model)) {
      return sendJson(res, 400, { detail: { error: `Model '${model}' cannot be its own fallback` } });
    }
    const updated = fallbacksOf(store.get(), type, model) !== undefined;
    store.set(setFallbacks(store.get(), type, model, models as string[]));
    sendJson(res, 200, {
      model,
      fallback_models: models,
      fallback_type: type,
      message: `Fallback configuration ${updated ? 'updated' : 'created'} successfully`,
    });
  });

  const fallbackOf = (req: Request, res: Response) => {
    const model = String(req.params.model);
    const type = typeof req.query.fallback_type === 'string' ? req.query.fallback_type : 'general';
    if (!isFallbackType(type)) {
      sendJson(res, 422, {
        detail: [
          {
            type: 'literal_error',
            loc: ['query', 'fallback_type'],
            msg: "Input should be 'general', 'context_window' or 'content_policy'",
            input: type,
          },
        ],
      });
      return undefined;
    }
    const current = fallbacksOf(store.get(), type, model);
    if (!current || current.length === 0) {
      sendJson(res, 404, { detail: { error: `No ${type} fallbacks configured for model '${model}'` } });
      return undefined;
    }
    return { model, type, current };
  };
  router.get('/fallback/:model', readText, authenticate, (req, res) => {
    const found = fallbackOf(req, res);
    if (found)
      sendJson(res, 200, { model: found.model, fallback_models: found.current, fallback_type: found.type });
  });
  router.delete('/fallback/:model', readText, authenticate, (req, res) => {
    const found = fallbackOf(req, res);
    if (!found) return;
    store.set(setFallbacks(store.get(), found.type, found.model, null));
    sendJson(res, 200, {
      model: found.model,
      fallback_type: found.type,
      message: 'Fallback configuration deleted successfully',
    });
  });

  router.get('/model/info', readText, authenticate, (req, res) => {
    const deployments = store.get().gateway.deployments;
    const id = typeof req.query.litellm_model_id === 'string' ? req.query.litellm_model_id : null;
    if (id === null) return sendJson(res, 200, { data: deployments.map(deploymentRecord) });
    const found = deployments.find((d) => d.modelId === id);
    if (!found)
      return sendJson(res, 404, { detail: { error: `Model id = ${id} not found on litellm proxy` } });
    sendJson(res, 200, { data: [deploymentRecord(found)] });
  });

  router.post('/model/update', readText, authenticate, (req, res) => {
    const json = objectBody(req, res);
    if (!json) return;
    const info = isObject(json.model_info) ? json.model_info : undefined;
    const id = typeof info?.id === 'string' ? info.id : undefined;
    // LiteLLM wraps this HTTPException's detail into a ProxyException: the message is an object.
    if (!id)
      return sendJson(
        res,
        400,
        proxyError({ error: 'model_info.id is required' }, 'auth_error', 'None', 400),
      );
    const params = json.litellm_params;
    if (params !== undefined && !isObject(params)) {
      return validation(res, 'litellm_params', 'Input should be a valid dictionary', params);
    }
    const upstream = params?.model;
    if (upstream !== undefined && (typeof upstream !== 'string' || upstream === '')) {
      return validation(res, 'litellm_params.model', 'Input should be a valid string', upstream);
    }
    const next = updateDeployment(store.get(), id, {
      ...(typeof upstream === 'string' ? { upstream } : {}),
      ...(typeof json.model_name === 'string' ? { modelName: json.model_name } : {}),
    });
    if (!next) {
      return sendJson(
        res,
        400,
        proxyError({ error: `Model with id=${id} not found in db` }, 'auth_error', 'None', 400),
      );
    }
    store.set(next);
    sendJson(res, 200, deploymentRecord(next.gateway.deployments.find((d) => d.modelId === id)!));
  });

  return router;
}
