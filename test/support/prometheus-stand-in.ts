import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/** A sample value: numbers are sent as Prometheus spells them; strings (`"6e-01"`) go as they are. */
export type SampleValue = number | string;

/** What the stand-in answers to a query. An empty array is an empty vector: "no data". */
export type PromAnswer =
  | Array<{ labels: Record<string, string>; value: SampleValue }>
  | { scalar: SampleValue }
  | { errorType: string; error: string; status?: number }
  | { delayMs: number; answer?: PromAnswer }
  /** Any body at all (a matrix, a proxy's HTML error page), for shapes checks must refuse. */
  | { raw: string | object; status?: number };

export type QueryMatcher = string | RegExp | ((query: string, time: Date) => boolean);

/** A query as the stand-in received it, to assert on escaping and evaluation times. */
export interface ReceivedQuery {
  method: string;
  query: string;
  time: Date;
  headers: Record<string, string | string[] | undefined>;
}

export interface PrometheusStandIn {
  /** Base URL, as `deps.prometheus.url` takes it. */
  url: string;
  queries: ReceivedQuery[];
  /** Answers queries that match; the latest matching registration wins. Others get an empty vector. */
  respond(matcher: QueryMatcher, answer: PromAnswer): void;
  /** Answers `baseline` when the query is evaluated before `cutoff` (an offset look-back), else `now`. */
  respondAt(matcher: QueryMatcher, answers: { cutoff: Date; now: PromAnswer; baseline: PromAnswer }): void;
  close(): Promise<void>;
}

/** Prometheus prints floats this way (Go's 'f', -1 format plus its names for special values). */
function promValue(value: SampleValue): string {
  if (typeof value === 'string') return value;
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  return String(value);
}

function matches(matcher: QueryMatcher, query: string, time: Date): boolean {
  if (typeof matcher === 'string') return query.includes(matcher);
  if (matcher instanceof RegExp) return matcher.test(query);
  return matcher(query, time);
}

/** Prometheus accepts RFC 3339 or unix seconds with a fraction; absent means now. */
function parseTime(text: string | null): Date | undefined {
  if (!text) return new Date();
  const date = /^\d+(\.\d+)?$/.test(text) ? new Date(Number(text) * 1000) : new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: string | object): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/html' : 'application/json' });
  res.end(text);
}

/** A loopback server speaking Prometheus's `/api/v1/query` with its real response shapes. */
export async function startPrometheusStandIn(): Promise<PrometheusStandIn> {
  const rules: Array<{ matcher: QueryMatcher; answer: (time: Date) => PromAnswer }> = [];
  const queries: ReceivedQuery[] = [];

  async function answer(res: ServerResponse, reply: PromAnswer, time: Date): Promise<void> {
    const at = time.getTime() / 1000;
    if (Array.isArray(reply)) {
      const result = reply.map((sample) => ({ metric: sample.labels, value: [at, promValue(sample.value)] }));
      return send(res, 200, { status: 'success', data: { resultType: 'vector', result } });
    }
    if ('scalar' in reply) {
      return send(res, 200, {
        status: 'success',
        data: { resultType: 'scalar', result: [at, promValue(reply.scalar)] },
      });
    }
    if ('errorType' in reply) {
      return send(res, reply.status ?? 400, {
        status: 'error',
        errorType: reply.errorType,
        error: reply.error,
      });
    }
    if ('raw' in reply) return send(res, reply.status ?? 200, reply.raw);
    await delay(reply.delayMs);
    if (!res.destroyed) await answer(res, reply.answer ?? [], time);
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    if (url.pathname !== '/api/v1/query' || (req.method !== 'GET' && req.method !== 'POST')) {
      return send(res, 404, '404 page not found');
    }
    const form = new URLSearchParams(url.search);
    if (req.method === 'POST') {
      for (const [key, value] of new URLSearchParams(await readBody(req))) form.append(key, value);
    }
    const query = form.get('query');
    const time = parseTime(form.get('time'));
    if (!query || !time) {
      return send(res, 400, {
        status: 'error',
        errorType: 'bad_data',
        error: !query
          ? 'invalid parameter "query": unknown position: parse error: no expression found in input'
          : 'invalid parameter "time": cannot parse',
      });
    }
    queries.push({ method: req.method, query, time, headers: req.headers });
    const rule = rules.findLast((candidate) => matches(candidate.matcher, query, time));
    await answer(res, rule ? rule.answer(time) : [], time);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    queries,
    respond(matcher, reply) {
      rules.push({ matcher, answer: () => reply });
    },
    respondAt(matcher, { cutoff, now, baseline }) {
      rules.push({ matcher, answer: (time) => (time < cutoff ? baseline : now) });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
