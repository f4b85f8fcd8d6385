import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpCheck } from '../../../src/checks/types/http-check.js';
import { run, testDeps, testIncident } from './fixtures.js';

const routes: Record<string, { status?: number; body: string }> = {
  '/status/rag-api': {
    body: JSON.stringify({
      index: { last_success: '2026-11-22T10:00:00Z', docs: 1200, healthy: true, failed: null },
      jobs: [{ finished_at: 1_795_347_000 }, { finished_at_ms: '1795347000000' }],
    }),
  },
  '/broken': { status: 500, body: '{"error":"db down"}' },
  '/html': { body: '<html>login</html>' },
};
const requests: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers });
    const route = routes[new URL(req.url ?? '/', 'http://x').pathname];
    res.writeHead(route?.status ?? (route ? 200 : 404), { 'content-type': 'application/json' });
    res.end(route?.body ?? '{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const deps = testDeps();

describe('http check', () => {
  it('turns a timestamp into its age and compares it', async () => {
    const result = await run(
      httpCheck,
      {
        url: `${base}/status/{{incident.service}}`,
        field: 'index.last_success',
        transform: 'age_seconds',
        healthy: { op: '<', value: 3600 },
        description: 'index age (s)',
      },
      deps,
    );
    expect(result).toMatchObject({ status: 'fail', value: 7200, summary: 'index age (s) 7200 >= 3600' });
    expect(result.evidence).toContainEqual({ label: 'timestamp', value: '2026-11-22T10:00:00.000Z' });
    expect(result.links).toEqual([{ label: 'endpoint', url: `${base}/status/rag-api` }]);
  });

  it('reads epoch seconds and milliseconds alike', async () => {
    // Both are 2026-11-22T11:30:00Z, half an hour before NOW.
    for (const field of ['jobs.0.finished_at', 'jobs.1.finished_at_ms']) {
      const result = await run(
        httpCheck,
        { url: `${base}/status/rag-api`, field, transform: 'age_seconds', healthy: { op: '<', value: 3600 } },
        deps,
      );
      expect(result).toMatchObject({ status: 'pass', value: 1800 });
    }
  });

  it('compares plain numbers and booleans', async () => {
    const docs = await run(
      httpCheck,
      { url: `${base}/status/rag-api`, field: 'index.docs', healthy: { op: '>', value: 1000 } },
      deps,
    );
    expect(docs).toMatchObject({ status: 'pass', value: 1200, summary: 'index.docs 1200 > 1000' });
    const healthy = await run(
      httpCheck,
      { url: `${base}/status/rag-api`, field: 'index.healthy', healthy: { op: '==', value: 1 } },
      deps,
    );
    expect(healthy.status).toBe('pass');
  });

  it('is inconclusive when the field is missing or null', async () => {
    for (const [field, state] of [
      ['index.last_failure', 'is missing'],
      ['index.failed', 'is null'],
      ['index.docs.__proto__', 'is missing'],
    ]) {
      const result = await run(
        httpCheck,
        { url: `${base}/status/rag-api`, field, healthy: { op: '<', value: 1 } },
        deps,
      );
      expect(result).toMatchObject({ status: 'inconclusive', summary: `${field} ${state} in the response` });
    }
  });

  it('errors on non-2xx, non-JSON and values of the wrong kind', async () => {
    const host = base.replace('http://', '');
    const broken = await run(
      httpCheck,
      { url: `${base}/broken`, field: 'x', healthy: { op: '<', value: 1 } },
      deps,
    );
    expect(broken).toMatchObject({ status: 'error', summary: `HTTP 500 from ${host}/broken` });
    const html = await run(
      httpCheck,
      { url: `${base}/html`, field: 'x', healthy: { op: '<', value: 1 } },
      deps,
    );
    expect(html).toMatchObject({ status: 'error', summary: `response from ${host}/html is not JSON` });
    const notTime = await run(
      httpCheck,
      {
        url: `${base}/status/rag-api`,
        field: 'index',
        transform: 'age_seconds',
        healthy: { op: '<', value: 1 },
      },
      deps,
    );
    expect(notTime.summary).toMatch(/^index is not a timestamp/);
  });

  it('URL-encodes substituted values and sends the given headers', async () => {
    const incident = testIncident({ labels: { service: 'a/b?c=1&d' } });
    await run(
      httpCheck,
      {
        url: `${base}/status/{{labels.service}}?env=prod`,
        field: 'x',
        healthy: { op: '<', value: 1 },
        headers: { 'x-api-key': 'k1' },
      },
      deps,
      { incident },
    );
    expect(requests.at(-1)).toMatchObject({
      url: '/status/a%2Fb%3Fc%3D1%26d?env=prod',
      headers: { 'x-api-key': 'k1', accept: 'application/json' },
    });
  });

  it('refuses URLs that are not http(s)', async () => {
    const result = await run(
      httpCheck,
      { url: 'file:///etc/passwd', field: 'x', healthy: { op: '<', value: 1 } },
      deps,
    );
    expect(result).toMatchObject({
      status: 'error',
      summary: 'url "file:///etc/passwd" is not http or https',
    });
  });
});
