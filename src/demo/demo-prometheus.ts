import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { instantQuery, PromqlError, type SeriesSource } from './promql-subset.js';

/** The built-in query API, on loopback. */
export interface DemoPrometheus {
  url: string;
  /** Queries answered so far, to show how much of the story ran on PromQL. */
  queries(): number;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 256 * 1024;

/** Go's FormatFloat(v, 'f', -1, 64) spelling of special values, as Prometheus writes them. */
function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/** `time` as Prometheus accepts it: Unix seconds (with a fraction) or RFC 3339. */
function parseTime(text: string | null, now: number): number {
  if (text === null || text === '') return now;
  if (/^-?\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const parsed = Date.parse(text);
  if (Number.isNaN(parsed))
    throw new PromqlError(`cannot parse ${JSON.stringify(text)} to a valid timestamp`);
  return parsed;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
      if (body.length > MAX_BODY_BYTES) reject(new PromqlError('the request body is too large'));
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

/**
 * Prometheus's instant-query API (`GET|POST /api/v1/query`, form-encoded, the same JSON as
 * Prometheus, errors as `bad_data` with HTTP 400) answered by the built-in PromQL subset over
 * `source`. aisre's checks and postmortems talk to it exactly as to Prometheus; `now` is the
 * demo's simulated clock, used when a query gives no `time`.
 */
export async function startDemoPrometheus(options: {
  source: SeriesSource;
  now: () => number;
}): Promise<DemoPrometheus> {
  let answered = 0;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/-/ready' || url.pathname === '/-/healthy') {
      res.end('Prometheus (aisre demo: built-in PromQL subset) is Ready.\n');
      return;
    }
    if (url.pathname !== '/api/v1/query' || (req.method !== 'GET' && req.method !== 'POST')) {
      send(res, 404, {
        status: 'error',
        errorType: 'not_found',
        error: `the demo serves GET|POST /api/v1/query only, not ${req.method} ${url.pathname}`,
      });
      return;
    }
    const body = req.method === 'POST' ? readBody(req) : Promise.resolve('');
    body
      .then((text) => {
        const form = new URLSearchParams(text);
        const param = (name: string) => form.get(name) ?? url.searchParams.get(name);
        const query = param('query');
        if (!query) throw new PromqlError('no query given (the query parameter is empty)');
        const atMs = parseTime(param('time'), options.now());
        const value = instantQuery(query, atMs, options.source);
        answered++;
        const t = atMs / 1000;
        const data =
          value.type === 'scalar'
            ? { resultType: 'scalar', result: [t, formatValue(value.value)] }
            : value.type === 'vector'
              ? {
                  resultType: 'vector',
                  result: value.samples.map((s) => ({ metric: s.labels, value: [t, formatValue(s.value)] })),
                }
              : {
                  resultType: 'matrix',
                  result: value.series.map((s) => ({
                    metric: s.labels,
                    values: s.points.map((p) => [p.t / 1000, formatValue(p.v)]),
                  })),
                };
        send(res, 200, { status: 'success', data });
      })
      .catch((err: unknown) => {
        if (err instanceof PromqlError) {
          send(res, 400, { status: 'error', errorType: 'bad_data', error: err.message });
        } else {
          send(res, 500, { status: 'error', errorType: 'internal', error: (err as Error).message });
        }
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    queries: () => answered,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
