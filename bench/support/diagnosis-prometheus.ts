import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { serveScenarioMetrics } from '../../test/scenarios/scenario-runner.js';
import { type PrometheusStandIn, startPrometheusStandIn } from '../../test/support/prometheus-stand-in.js';
import type { ScenarioService } from './diagnosis-workload.js';

/**
 * Where the router sends aisre's queries: the scenario stand-ins (test/support/prometheus-stand-in.ts,
 * the real Prometheus HTTP API on loopback), answered after a uniformly random `minMs`–`maxMs` wait
 * like a Prometheus on the network, or a real Prometheus as it is.
 */
export type Upstream = { kind: 'standin'; minMs: number; maxMs: number } | { kind: 'real'; url: string };

/** One query aisre sent, on the wall clock (ms since the epoch, sub-millisecond). */
export interface QueryRecord {
  service: string | undefined;
  start: number;
  end: number;
  status: number;
}

/**
 * aisre's PROMETHEUS_URL for the bench: one loopback server in front of one stand-in per scenario
 * service (each answering from its scenario's metrics through `serveScenarioMetrics`, the scenario
 * runner's own logic), or in front of a real Prometheus. It routes on the query's `service="…"`
 * matcher, adds the configured latency, and records every query, so the bench can tell the time
 * aisre spent waiting for Prometheus from the rest. Switching upstream needs no aisre restart.
 */
export interface PrometheusRouter {
  url: string;
  queries: QueryRecord[];
  /** Queries sent to the upstream again after a stale kept-alive socket (see `forward`). */
  retries(): number;
  upstream(): Upstream;
  setUpstream(upstream: Upstream): void;
  /** The stand-in answering for a service, to compare a real Prometheus with. */
  standIn(service: string): PrometheusStandIn | undefined;
  close(): Promise<void>;
}

const wallNow = () => performance.timeOrigin + performance.now();

/** A small seeded generator (mulberry32), so latencies are the same from run to run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SERVICE_MATCHER = /\bservice\s*=\s*"((?:[^"\\]|\\.)*)"/;

function serviceOf(query: string | null): string | undefined {
  const match = query ? SERVICE_MATCHER.exec(query) : null;
  return match ? match[1]!.replace(/\\(.)/g, '$1') : undefined;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

interface Forwarded {
  status: number;
  type: string;
  body: Buffer;
}

/** Connection errors that mean nothing was answered: a kept-alive socket the upstream had closed. */
const STALE_SOCKET = new Set(['ECONNRESET', 'EPIPE']);

/**
 * Sends the query on to `target`. The upstream closes idle kept-alive sockets after 5 s (Node's
 * default), and as the stand-ins share this process's event loop, a socket can be picked for reuse
 * just as it is being closed, failing with ECONNRESET before anything was answered. The query is a
 * read, so it is sent again (twice at most); `onRetry` counts these, and they are reported.
 */
async function forward(
  agent: Agent,
  target: URL,
  req: IncomingMessage,
  body: Buffer,
  onRetry: () => void,
): Promise<Forwarded> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await forwardOnce(agent, target, req, body);
    } catch (err) {
      if (attempt >= 2 || !STALE_SOCKET.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
      onRetry();
    }
  }
}

function forwardOnce(agent: Agent, target: URL, req: IncomingMessage, body: Buffer): Promise<Forwarded> {
  return new Promise((resolve, reject) => {
    const upstream = request(
      {
        agent,
        host: target.hostname,
        port: Number(target.port),
        method: req.method,
        path: `${target.pathname.replace(/\/+$/, '')}${req.url ?? '/'}`,
        headers: {
          'content-type': req.headers['content-type'] ?? 'application/x-www-form-urlencoded',
          'content-length': body.length,
          accept: 'application/json',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 502,
            type: String(res.headers['content-type'] ?? 'application/json'),
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      },
    );
    upstream.on('error', reject);
    upstream.end(body);
  });
}

export async function startPrometheusRouter(options: {
  services: readonly ScenarioService[];
  /** When every scenario's incident started: earlier evaluation times get the baseline values. */
  cutoff: Date;
  upstream: Upstream;
  seed?: number;
}): Promise<PrometheusRouter> {
  const standIns = new Map<string, PrometheusStandIn>();
  const all: PrometheusStandIn[] = [];
  try {
    for (const entry of options.services) {
      const standIn = await startPrometheusStandIn();
      all.push(standIn);
      serveScenarioMetrics(standIn, entry.scenario, { service: entry.service, cutoff: options.cutoff });
      standIns.set(entry.service, standIn);
    }
    // Queries about no known service get what Prometheus answers for unknown series: nothing.
    all.push(await startPrometheusStandIn());
  } catch (err) {
    await Promise.allSettled(all.map((standIn) => standIn.close()));
    throw err;
  }
  const fallback = all.at(-1)!;
  // Idle sockets are dropped here after 2 s, before the stand-ins' 5 s keep-alive timeout closes them.
  const agent = new Agent({ keepAlive: true, maxSockets: 256, timeout: 2000 });
  let retries = 0;
  const random = seededRandom(options.seed ?? 1);
  const queries: QueryRecord[] = [];
  let upstream = options.upstream;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const start = wallNow();
    const body = await readBody(req);
    const form = new URLSearchParams(new URL(req.url ?? '/', 'http://router').search);
    if (req.method === 'POST')
      for (const [key, value] of new URLSearchParams(body.toString())) form.set(key, value);
    const service = serviceOf(form.get('query'));
    const current = upstream;
    let target: URL;
    if (current.kind === 'real') {
      target = new URL(current.url);
    } else {
      const wait = current.minMs + random() * (current.maxMs - current.minMs);
      if (wait > 0) await delay(wait);
      target = new URL((standIns.get(service ?? '') ?? fallback).url);
    }
    let status = 502;
    try {
      const answer = await forward(agent, target, req, body, () => {
        retries += 1;
      });
      status = answer.status;
      res.writeHead(answer.status, { 'content-type': answer.type });
      res.end(answer.body);
    } catch (err) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`bench router: ${String(err)}`);
    }
    queries.push({ service, start, end: wallNow(), status });
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    queries,
    retries: () => retries,
    upstream: () => upstream,
    setUpstream(next) {
      upstream = next;
    },
    standIn: (service) => standIns.get(service),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
      await Promise.allSettled(all.map((standIn) => standIn.close()));
    },
  };
}

/** Wall time during which at least one of the queries was in flight, and how many there were. */
export function queryActivity(
  queries: readonly QueryRecord[],
  from: number,
  to: number,
): { count: number; busyMs: number; failed: number } {
  const inWindow = queries.filter((query) => query.start >= from && query.start <= to);
  const sorted = [...inWindow].sort((a, b) => a.start - b.start);
  let busyMs = 0;
  let openStart = Number.NEGATIVE_INFINITY;
  let openEnd = Number.NEGATIVE_INFINITY;
  for (const query of sorted) {
    if (query.start > openEnd) {
      if (openEnd > openStart) busyMs += openEnd - openStart;
      openStart = query.start;
      openEnd = query.end;
    } else {
      openEnd = Math.max(openEnd, query.end);
    }
  }
  if (openEnd > openStart) busyMs += openEnd - openStart;
  return {
    count: inWindow.length,
    busyMs,
    failed: inWindow.filter((query) => query.status !== 200).length,
  };
}
