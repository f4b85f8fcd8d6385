import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type FailureMatch, matchesRequest, type QueuedFailure, takeFailure } from './fake-failures.js';

/** A request as the fake received it (headers included, to assert on auth). */
export interface LangfuseFakeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface FakePromptVersion {
  version: number;
  prompt: string;
  labels: string[];
}

export interface LangfuseFake {
  url: string;
  publicKey: string;
  secretKey: string;
  requests: LangfuseFakeRequest[];
  /**
   * Creates (or replaces) a text prompt with versions 1..n (`versions[i]` is v(i+1)'s text) and puts
   * each label on the version given, e.g. `{ production: 2, staging: 3 }`. Like Langfuse, `latest`
   * is on the highest version.
   */
  seedPrompt(name: string, versions: string[], labels?: Record<string, number>): void;
  /** A copy of the prompt's versions, or undefined. */
  prompt(name: string): { name: string; versions: FakePromptVersion[] } | undefined;
  /** The version that has `label`, or undefined. */
  labelled(name: string, label: string): number | undefined;
  /** The next request (or the next one `when` matches) is answered with `status` and a Langfuse-like error. */
  failNext(status: number, body?: unknown, when?: FailureMatch): void;
  /**
   * Carries out the next request `when` matches but never answers it, as if the caller died
   * before it heard back; resolves once that request has been carried out.
   */
  applyNextWithoutAnswer(when: FailureMatch): Promise<void>;
  close(): Promise<void>;
}

// Langfuse's label rule (PromptLabelSchema): lowercase letters, digits, _ - . ; at most 36.
const LABEL = /^[a-z0-9_\-.]{1,36}$/;
const PREFIX = '/api/public/v2/prompts';
const INVALID_JSON = Symbol('invalid json');

interface StoredVersion {
  version: number;
  prompt: string;
  labels: string[];
  createdAt: string;
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

/** A zod-like issue list, as Langfuse answers invalid bodies (`{message, error: issues}`). */
function invalid(res: ServerResponse, path: Array<string | number>, message: string) {
  send(res, 400, { message: 'Invalid request data', error: [{ code: 'custom', path, message }] });
}

/**
 * A loopback Langfuse speaking the public prompt API: `GET /api/public/v2/prompts/{name}` (with
 * `?label=` or `?version=`, production by default), `GET /api/public/v2/prompts?name=` and
 * `PATCH /api/public/v2/prompts/{name}/versions/{version}` with `{"newLabels": […]}`, which adds
 * the labels to that version and removes them from every other version, as Langfuse does. Basic
 * auth with the project's public and secret key is required (401 otherwise).
 */
export async function startLangfuseFake(
  options: { publicKey?: string; secretKey?: string } = {},
): Promise<LangfuseFake> {
  const publicKey = options.publicKey ?? 'pk-lf-fake-public';
  const secretKey = options.secretKey ?? 'sk-lf-fake-secret-0123456789';
  const expectedAuth = `Basic ${Buffer.from(`${publicKey}:${secretKey}`).toString('base64')}`;
  const prompts = new Map<string, StoredVersion[]>();
  const requests: LangfuseFakeRequest[] = [];
  const failures: QueuedFailure[] = [];
  const unanswered: Array<{ when: FailureMatch; applied: () => void }> = [];
  /** Takes what `handle` answers and drops it. */
  const nobody = { writeHead: () => nobody, end: () => nobody } as unknown as ServerResponse;

  const resolveLatest = (versions: StoredVersion[]) => {
    const highest = Math.max(...versions.map((v) => v.version));
    for (const v of versions) {
      v.labels = v.labels.filter((label) => label !== 'latest');
      if (v.version === highest) v.labels.push('latest');
    }
  };

  const toPrompt = (name: string, v: StoredVersion) => ({
    id: `prompt-${name}-${v.version}`,
    name,
    version: v.version,
    type: 'text',
    prompt: v.prompt,
    config: {},
    labels: [...v.labels],
    tags: [],
    commitMessage: null,
    createdAt: v.createdAt,
    updatedAt: v.createdAt,
    createdBy: 'API',
  });

  function handle(req: IncomingMessage, res: ServerResponse, url: URL, body: unknown, rawBody: string) {
    if (req.headers.authorization !== expectedAuth) {
      return send(res, 401, {
        message: 'Invalid credentials. Confirm that you have configured the correct host.',
        error: 'UnauthorizedError',
      });
    }
    if (url.pathname === PREFIX) {
      if (req.method !== 'GET')
        return send(res, 405, { message: 'Method not allowed', error: 'MethodNotAllowedError' });
      const name = url.searchParams.get('name');
      const entries = [...prompts.entries()]
        .filter(([promptName]) => name === null || promptName === name)
        .map(([promptName, versions]) => ({
          name: promptName,
          type: 'text',
          versions: versions.map((v) => v.version).sort((a, b) => a - b),
          labels: [...new Set(versions.flatMap((v) => v.labels))].sort(),
          tags: [],
          lastUpdatedAt: versions.at(-1)?.createdAt,
          lastConfig: {},
        }));
      return send(res, 200, {
        data: entries,
        meta: { page: 1, limit: 50, totalItems: entries.length, totalPages: entries.length > 0 ? 1 : 0 },
      });
    }
    if (!url.pathname.startsWith(`${PREFIX}/`))
      return send(res, 404, { message: 'Not found', error: 'LangfuseNotFoundError' });
    // Names may be URL-encoded folders (`a%2Fb`) or plain segments; `/versions/{n}` ends a PATCH path.
    const segments = url.pathname
      .slice(PREFIX.length + 1)
      .split('/')
      .map((segment) => decodeURIComponent(segment));
    if (req.method === 'PATCH') {
      const at = segments.lastIndexOf('versions');
      if (at <= 0 || at !== segments.length - 2) {
        return send(res, 405, { message: 'Method not allowed', error: 'MethodNotAllowedError' });
      }
      const name = segments.slice(0, at).join('/');
      const version = Number(segments[at + 1]);
      if (rawBody.trim() === '' || body === INVALID_JSON) return invalid(res, [], 'Invalid JSON body');
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        return invalid(res, [], 'Expected object');
      const labels = (body as { newLabels?: unknown }).newLabels;
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
      const versions = prompts.get(name);
      const target = Number.isInteger(version) ? versions?.find((v) => v.version === version) : undefined;
      if (!versions || !target) return send(res, 404, { message: `Prompt not found: ${name}` });
      for (const v of versions) {
        if (v !== target) v.labels = v.labels.filter((label) => !labels.includes(label));
      }
      target.labels = [...new Set([...(labels as string[]), ...target.labels])];
      return send(res, 200, toPrompt(name, target));
    }
    if (req.method !== 'GET')
      return send(res, 405, { message: 'Method not allowed', error: 'MethodNotAllowedError' });
    const name = segments.join('/');
    const versionParam = url.searchParams.get('version');
    const labelParam = url.searchParams.get('label');
    if (versionParam !== null && labelParam !== null) {
      return send(res, 400, {
        message: 'Cannot specify both version and label',
        error: 'InvalidRequestError',
      });
    }
    if (versionParam !== null && !/^\d+$/.test(versionParam))
      return invalid(res, ['version'], 'Expected number');
    const label = labelParam ?? 'production';
    const found = prompts
      .get(name)
      ?.find((v) => (versionParam !== null ? v.version === Number(versionParam) : v.labels.includes(label)));
    if (!found) {
      const which = versionParam !== null ? `version ${versionParam}` : `label '${label}'`;
      return send(res, 404, {
        message: `Prompt not found: '${name}' with ${which}`,
        error: 'LangfuseNotFoundError',
      });
    }
    return send(res, 200, toPrompt(name, found));
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://langfuse.fake');
    const rawBody = await readBody(req);
    let body: unknown;
    if (rawBody.trim() !== '') {
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = INVALID_JSON;
      }
    }
    requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body: body === INVALID_JSON ? rawBody : body,
    });
    const failure = takeFailure(failures, req.method ?? 'GET', url.pathname);
    if (failure) return send(res, failure.status, failure.body);
    const silent = unanswered.findIndex(({ when }) =>
      matchesRequest(when, req.method ?? 'GET', url.pathname),
    );
    if (silent !== -1) {
      handle(req, nobody, url, body, rawBody);
      unanswered.splice(silent, 1)[0]?.applied();
      return;
    }
    handle(req, res, url, body, rawBody);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    publicKey,
    secretKey,
    requests,
    seedPrompt(name, texts, labels = {}) {
      const createdAt = new Date().toISOString();
      const versions = texts.map((prompt, index) => ({
        version: index + 1,
        prompt,
        labels: [] as string[],
        createdAt,
      }));
      for (const [label, version] of Object.entries(labels)) {
        const target = versions.find((v) => v.version === version);
        if (!target) throw new Error(`seedPrompt: ${name} has no version ${version} for label ${label}`);
        target.labels.push(label);
      }
      if (versions.length > 0) resolveLatest(versions);
      prompts.set(name, versions);
    },
    prompt(name) {
      const versions = prompts.get(name);
      return versions
        ? {
            name,
            versions: versions.map((v) => ({
              version: v.version,
              prompt: v.prompt,
              labels: [...v.labels].sort(),
            })),
          }
        : undefined;
    },
    labelled(name, label) {
      return prompts.get(name)?.find((v) => v.labels.includes(label))?.version;
    },
    failNext(status, body, when) {
      failures.push({
        when,
        status,
        body:
          body ??
          (status >= 500
            ? { message: 'Internal Server Error', error: 'An unknown error occurred' }
            : { message: `Request failed with status ${status}`, error: 'InvalidRequestError' }),
      });
    },
    applyNextWithoutAnswer(when) {
      return new Promise<void>((applied) => unanswered.push({ when, applied }));
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
