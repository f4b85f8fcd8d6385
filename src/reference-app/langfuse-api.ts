import express, { type Request, type Response, type Router } from 'express';
import { secretsEqual } from '../http/bearer-auth.js';
import { INVALID_JSON, isObject, jsonBody, readText, type StateStore, sendJson } from './http-support.js';
import { moveLabels, type PromptVersion } from './state.js';

/** Where Langfuse serves its public prompt API. */
export const LANGFUSE_PREFIX = '/api/public/v2/prompts';

// Langfuse's label rule (PromptLabelSchema): lowercase letters, digits, _ - . ; at most 36.
const LABEL = /^[a-z0-9_\-.]{1,36}$/;

function promptRecord(name: string, v: PromptVersion) {
  const at = new Date(v.createdAtMs).toISOString();
  return {
    id: `prompt-${name}-${v.version}`,
    name,
    version: v.version,
    type: 'text',
    prompt: v.text,
    config: {},
    labels: [...v.labels],
    tags: [],
    commitMessage: v.commitMessage,
    createdAt: at,
    updatedAt: at,
    createdBy: 'API',
  };
}

/** A zod-like issue list, as Langfuse answers invalid requests (`{message, error: issues}`). */
function invalid(res: Response, path: Array<string | number>, message: string) {
  sendJson(res, 400, { message: 'Invalid request data', error: [{ code: 'custom', path, message }] });
}

const notAllowed = (res: Response) =>
  sendJson(res, 405, { message: 'Method not allowed', error: 'MethodNotAllowedError' });

/**
 * The Langfuse public prompt API over the app's prompts, with Basic auth (public key : secret key):
 * - `GET /api/public/v2/prompts?name=` lists prompts with their versions and labels;
 * - `GET /api/public/v2/prompts/{name}?label=|version=` returns one version (production by default);
 * - `PATCH /api/public/v2/prompts/{name}/versions/{v}` with `{"newLabels": [...]}` moves those labels
 *   onto version v and off every other version, as Langfuse does. Moving `production` back is a
 *   prompt rollback: RAG answers use the production version from the next request on.
 * Names may be URL-encoded folders (`a%2Fb`). Errors have Langfuse's shapes and statuses.
 */
export function langfuseRouter(options: {
  store: StateStore;
  credentials: { publicKey: string; secretKey: string };
}): Router {
  const { store } = options;
  const expected = `Basic ${Buffer.from(`${options.credentials.publicKey}:${options.credentials.secretKey}`).toString('base64')}`;
  const router = express.Router();

  const list = (req: Request, res: Response) => {
    const name = typeof req.query.name === 'string' ? req.query.name : null;
    const entries = Object.entries(store.get().prompts)
      .filter(([promptName]) => name === null || promptName === name)
      .map(([promptName, versions]) => ({
        name: promptName,
        type: 'text',
        versions: versions.map((v) => v.version).sort((a, b) => a - b),
        labels: [...new Set(versions.flatMap((v) => v.labels))].sort(),
        tags: [],
        lastUpdatedAt: versions.at(-1) ? new Date(versions.at(-1)!.createdAtMs).toISOString() : null,
        lastConfig: {},
      }));
    sendJson(res, 200, {
      data: entries,
      meta: { page: 1, limit: 50, totalItems: entries.length, totalPages: entries.length > 0 ? 1 : 0 },
    });
  };

  const patch = (req: Request, res: Response, segments: string[]) => {
    const at = segments.lastIndexOf('versions');
    if (at <= 0 || at !== segments.length - 2) return notAllowed(res);
    const name = segments.slice(0, at).join('/');
    const version = Number(segments[at + 1]);
    const body = jsonBody(req);
    if (body === undefined || body === INVALID_JSON) return invalid(res, [], 'Invalid JSON body');
    if (!isObject(body)) return invalid(res, [], 'Expected object');
    const labels = body.newLabels;
    if (!Array.isArray(labels)) return invalid(res, ['newLabels'], 'Required array of strings');
    for (const [index, label] of labels.entries()) {
      if (typeof label !== 'string' || !LABEL.test(label)) {
        return invalid(
          res,
          ['newLabels', index],
          'Label must be lowercase alphanumeric with optional underscores, hyphens, or periods',
        );
      }
      if (label === 'latest') {
        return invalid(
          res,
          ['newLabels', index],
          'Label "latest" is always assigned to the latest prompt version',
        );
      }
    }
    const next = Number.isInteger(version)
      ? moveLabels(store.get(), name, version, labels as string[])
      : undefined;
    if (!next) return sendJson(res, 404, { message: `Prompt not found: ${name}` });
    store.set(next);
    const updated = next.prompts[name]!.find((v) => v.version === version)!;
    sendJson(res, 200, promptRecord(name, updated));
  };

  const get = (req: Request, res: Response, segments: string[]) => {
    const name = segments.join('/');
    const versionParam = typeof req.query.version === 'string' ? req.query.version : null;
    const labelParam = typeof req.query.label === 'string' ? req.query.label : null;
    if (versionParam !== null && labelParam !== null) {
      return sendJson(res, 400, {
        message: 'Cannot specify both version and label',
        error: 'InvalidRequestError',
      });
    }
    if (versionParam !== null && !/^\d+$/.test(versionParam))
      return invalid(res, ['version'], 'Expected number');
    const label = labelParam ?? 'production';
    const prompts = store.get().prompts;
    const versions = Object.hasOwn(prompts, name) ? prompts[name] : undefined;
    const found = versions?.find((v) =>
      versionParam !== null ? v.version === Number(versionParam) : v.labels.includes(label),
    );
    if (!found) {
      const which = versionParam !== null ? `version ${versionParam}` : `label '${label}'`;
      return sendJson(res, 404, {
        message: `Prompt not found: '${name}' with ${which}`,
        error: 'LangfuseNotFoundError',
      });
    }
    sendJson(res, 200, promptRecord(name, found));
  };

  router.use(readText, (req, res) => {
    if (!req.headers.authorization || !secretsEqual(req.headers.authorization, expected)) {
      return sendJson(res, 401, {
        message: 'Invalid credentials. Confirm that you have configured the correct host.',
        error: 'UnauthorizedError',
      });
    }
    // req.path is relative to the prefix and still percent-encoded.
    if (req.path === '/' || req.path === '') return req.method === 'GET' ? list(req, res) : notAllowed(res);
    let segments: string[];
    try {
      segments = req.path
        .slice(1)
        .split('/')
        .map((segment) => decodeURIComponent(segment));
    } catch {
      return sendJson(res, 404, { message: 'Prompt not found', error: 'LangfuseNotFoundError' });
    }
    if (req.method === 'PATCH') return patch(req, res, segments);
    if (req.method !== 'GET') return notAllowed(res);
    return get(req, res, segments);
  });
  return router;
}
