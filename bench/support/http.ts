import { Agent, request } from 'node:http';

export interface PostResult {
  status: number;
  body: string;
  /** When the response had been read in full (performance.now() clock). */
  endedAt: number;
}

/** A keep-alive POST client for one origin; `maxSockets` bounds the connections it opens. */
export class KeepAliveClient {
  readonly agent: Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(
    baseUrl: string,
    private readonly headers: Record<string, string>,
    maxSockets: number,
  ) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' });
  }

  post(path: string, body: Buffer): Promise<PostResult> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.host,
          port: this.port,
          method: 'POST',
          path,
          headers: { ...this.headers, 'content-type': 'application/json', 'content-length': body.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              endedAt: performance.now(),
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * POSTs `body` on a connection of its own and hangs up `afterMs` after sending it, answer or not,
 * as a sender whose request timed out does (Alertmanager then retries the same body). The
 * server may or may not have stored it by then.
 */
export function postAndHangUp(
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer,
  afterMs: number,
): Promise<void> {
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    const req = request({
      agent: false,
      host: url.hostname,
      port: Number(url.port),
      method: 'POST',
      path,
      headers: { ...headers, 'content-type': 'application/json', 'content-length': body.length },
    });
    req.on('response', (res) => res.resume());
    req.on('error', () => {});
    req.end(body, () =>
      setTimeout(() => {
        req.destroy();
        resolve();
      }, afterMs),
    );
  });
}
