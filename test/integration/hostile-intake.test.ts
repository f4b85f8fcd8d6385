import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANGE_KINDS } from '../../src/changes/change-event.js';
import { alertmanagerPayloadSchema } from '../../src/intake/alertmanager-payload.js';
import { alertmanagerBody } from '../support/alertmanager-payloads.js';
import {
  alertmanagerDelivery,
  FUZZ,
  garbage,
  isoDate,
  type JsonPath,
  mutate,
  mutation,
  weirdString,
} from '../support/hostile-values.js';
import { tableSnapshot } from '../support/table-snapshot.js';
import { TEST_DB_KIND } from '../support/test-database.js';
import {
  ALERTMANAGER_TOKEN,
  API_TOKEN,
  startTestService,
  type TestService,
} from '../support/test-service.js';

let service: TestService;
beforeAll(async () => {
  service = await startTestService();
  // Nothing delivers the Slack outbox, so the only writes between two snapshots are the request's.
  await service.aisre.outbox.stop();
});
afterAll(async () => {
  await service.dispose();
});

interface Answer {
  status: number;
  body: { error?: string; message?: string; [key: string]: unknown };
}

async function send(
  path: string,
  body: string | undefined,
  authorization: string | undefined,
  method = 'POST',
): Promise<Answer> {
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(authorization === undefined ? {} : { authorization }),
    },
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Answer['body']) : {} };
}

const HEADERS_TOO_LARGE = 431;

/** A document to send: generated whole, a valid one with one mutation, or not JSON at all. */
interface Input {
  raw: string;
  /** Where a mutation struck, when it did. */
  path: JsonPath | undefined;
}

function inputs(valid: fc.Arbitrary<unknown>): fc.Arbitrary<Input> {
  return fc.oneof(
    { weight: 3, arbitrary: valid.map((document) => ({ raw: JSON.stringify(document), path: undefined })) },
    {
      weight: 4,
      arbitrary: fc.tuple(valid, mutation).map(([document, change]) => {
        const mutated = mutate(document, change);
        return { raw: JSON.stringify(mutated.document) ?? 'undefined', path: mutated.path };
      }),
    },
    { weight: 1, arbitrary: garbage.map((document) => ({ raw: JSON.stringify(document), path: undefined })) },
    {
      weight: 1,
      arbitrary: fc.tuple(valid, fc.nat()).map(([document, cut]) => {
        const raw = JSON.stringify(document);
        return { raw: raw.slice(0, cut % raw.length), path: undefined };
      }),
    },
  );
}

/**
 * The properties every intake shares: never a 5xx, a refusal says what was wrong (naming the
 * top-level field a mutation struck, when it struck one the schema knows), and a refused request
 * leaves every table as it was.
 */
async function expectRefusedCleanly(
  answer: Answer,
  input: Input,
  before: Record<string, string[]>,
  fields: readonly string[],
): Promise<void> {
  expect(answer.status, answer.body.message).toBeLessThan(500);
  if (answer.status < 400) return;
  expect(await tableSnapshot(service.aisre.db.knex)).toEqual(before);
  // Node's HTTP server refuses a request line over 16 KB itself, before any route.
  if (answer.status === HEADERS_TOO_LARGE) return;
  expect(answer.body.error).toBe(answer.status === 413 ? 'payload_too_large' : 'validation_failed');
  expect(answer.body.message).toMatch(/^(Invalid [\w ]+: .+|The body is not valid JSON: .+)$/s);
  const field = input.path?.[0];
  if (
    typeof field === 'string' &&
    fields.includes(field) &&
    !answer.body.message!.includes('not valid JSON')
  ) {
    expect(answer.body.message).toMatch(/^Invalid [\w ]+: .*\w/);
  }
}

const ALERTMANAGER_FIELDS = Object.keys(alertmanagerPayloadSchema.shape);

/**
 * Sends each generated request and checks its answer against a snapshot of the tables taken just
 * before it; returns the statuses seen, so a test can show its generators reach both sides.
 */
async function postEach(
  requests: fc.Arbitrary<{ path: string; input: Input }>,
  token: string,
  check: (answer: Answer, input: Input, before: Record<string, string[]>) => Promise<void>,
): Promise<number[]> {
  const statuses = new Set<number>();
  await fc.assert(
    fc.asyncProperty(requests, async ({ path, input }) => {
      const before = await tableSnapshot(service.aisre.db.knex);
      const answer = await send(path, input.raw, `Bearer ${token}`);
      statuses.add(answer.status);
      await check(answer, input, before);
    }),
    FUZZ,
  );
  return [...statuses].sort();
}

/**
 * A change sender's answer: 201 with the stored change and a timeline entry on each incident it
 * names; 200 (a repeat, or a Langfuse event not recorded) leaves every table as it was.
 */
async function expectRecorded(
  answer: Answer,
  input: Input,
  before: Record<string, string[]>,
  fields: readonly string[],
): Promise<void> {
  await expectRefusedCleanly(answer, input, before, fields);
  if (answer.status === 200) expect(await tableSnapshot(service.aisre.db.knex)).toEqual(before);
  if (answer.status !== 201) return;
  const { change, incidentIds } = answer.body as unknown as { change: { id: number }; incidentIds: number[] };
  const knex = service.aisre.db.knex;
  expect(await knex('change_events').where({ id: change.id }).first()).toBeDefined();
  for (const incidentId of incidentIds) {
    const entries: Array<{ data: unknown }> = await knex('incident_timeline').where({
      incident_id: incidentId,
      kind: 'change.recorded',
    });
    const changeIds = entries.map(
      (entry) => (typeof entry.data === 'string' ? JSON.parse(entry.data) : entry.data).changeId,
    );
    expect(changeIds).toContain(change.id);
  }
}

/** Percent-encodes the UTF-8 of `text` (unpaired surrogates become U+FFFD, as a browser sends them). */
function percentEncoded(text: string): string {
  return Array.from(Buffer.from(text, 'utf8'), (byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');
}

/** Characters a header value can carry. */
const printable = fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code));

const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });

const changeDocument = fc.record(
  {
    service: fc.oneof(fc.constantFrom('rag-assistant', 'billing-bot'), weirdString),
    kind: fc.oneof(fc.constantFrom(...CHANGE_KINDS), weirdString),
    from: fc.option(weirdString),
    to: fc.option(weirdString),
    author: fc.option(weirdString),
    at: fc.option(
      fc.oneof(
        isoDate,
        isoDate.map((date) => date.replace('Z', '+14:00')),
      ),
    ),
    summary: fc.option(weirdString),
    diff: fc.option(weirdString),
    link: fc.option(fc.oneof(fc.webUrl(), weirdString)),
    id: fc.option(fc.oneof(fc.constantFrom('deploy-1', 'deploy-2'), weirdString)),
  },
  { requiredKeys: ['service', 'kind'] },
);
const CHANGE_FIELDS = ['service', 'kind', 'from', 'to', 'author', 'at', 'summary', 'diff', 'link', 'id'];

/** The payload Langfuse documents for prompt webhooks, as `changes.test.ts` sends it. */
function langfuseWebhook(id: string) {
  return {
    id,
    timestamp: '2026-11-22T10:30:00.000Z',
    type: 'prompt-version',
    apiVersion: 'v1',
    action: 'created',
    prompt: {
      name: 'rag-answer',
      version: 13,
      labels: ['production'],
      commitMessage: 'Cite sources',
      tags: [],
    },
    user: { id: 'u1', name: 'Alice', email: 'alice@example.com' },
  };
}

const langfuseDocument = fc
  .record({
    id: fc.oneof(fc.constantFrom('evt-1', 'evt-2'), weirdString),
    timestamp: fc.oneof(isoDate, weirdString),
    action: fc.oneof(fc.constantFrom('created', 'updated', 'deleted'), weirdString),
    name: weirdString,
    version: fc.oneof(fc.integer(), fc.constantFrom(2 ** 53, 1.5, -1)),
    labels: fc.array(weirdString, { maxLength: 3 }),
    commitMessage: maybe(weirdString),
    email: maybe(weirdString),
  })
  .map(({ id, timestamp, action, name, version, labels, commitMessage, email }) => {
    const webhook = langfuseWebhook(id);
    return {
      ...webhook,
      timestamp,
      action,
      prompt: { ...webhook.prompt, name, version, labels, commitMessage },
      user: { ...webhook.user, email },
    };
  });
const LANGFUSE_FIELDS = ['id', 'timestamp', 'type', 'action', 'prompt', 'user'];

describe(`hostile input at the HTTP intake (${TEST_DB_KIND})`, { timeout: 60_000 }, () => {
  it('POST /alertmanager: no generated delivery gets a 5xx; refused ones write nothing, accepted ones are stored whole', async () => {
    const requests = inputs(alertmanagerDelivery).map((input) => ({ path: '/alertmanager', input }));
    const statuses = await postEach(requests, ALERTMANAGER_TOKEN, async (answer, input, before) => {
      await expectRefusedCleanly(answer, input, before, ALERTMANAGER_FIELDS);
      if (answer.status !== 200) return;

      // Accepted: every firing alert of the delivery is an occurrence (unless the same delivery
      // also says it resolved, which wins), and every incident's tallies agree with its occurrences.
      const payload = alertmanagerPayloadSchema.parse(JSON.parse(input.raw));
      const knex = service.aisre.db.knex;
      const key = (alert: { fingerprint: string; startsAt: Date }) =>
        `${alert.fingerprint}@${alert.startsAt.toISOString()}`;
      const resolved = new Set(payload.alerts.filter((a) => a.status === 'resolved').map(key));
      for (const alert of payload.alerts.filter((a) => a.status === 'firing' && !resolved.has(key(a)))) {
        const stored = await knex('alert_occurrences')
          .where({ receiver: payload.receiver, fingerprint: alert.fingerprint, starts_at: alert.startsAt })
          .first();
        expect(stored, key(alert)).toBeDefined();
      }
      const tallies: Array<{ id: number; alerts_firing: number; firing: number | string }> = await knex(
        'incidents',
      )
        .leftJoin('alert_occurrences', function join() {
          this.on('alert_occurrences.incident_id', 'incidents.id').andOnVal(
            'alert_occurrences.status',
            'firing',
          );
        })
        .groupBy('incidents.id', 'incidents.alerts_firing')
        .select('incidents.id', 'incidents.alerts_firing', knex.raw('count(alert_occurrences.id) as firing'));
      for (const tally of tallies) expect(tally.alerts_firing, `INC-${tally.id}`).toBe(Number(tally.firing));
    });
    // The generators reach both sides of the schema.
    expect(statuses).toEqual([200, 400]);
  });
  it('refuses what the database could not hold with a 400 naming the field, and keeps text with NUL or lone surrogates', async () => {
    const base = alertmanagerBody({ alerts: [{ name: 'A', fingerprint: 'dddddddddddddd01' }] });
    const alert = base.alerts[0]!;
    const outOfRange = 'must lie between the years 0001 and 9999';
    const refusals: Array<[string, string, unknown, string]> = [
      [
        '/alertmanager',
        ALERTMANAGER_TOKEN,
        { ...base, truncatedAlerts: 2 ** 31 },
        'truncatedAlerts: Too big',
      ],
      [
        '/alertmanager',
        ALERTMANAGER_TOKEN,
        { ...base, alerts: [{ ...alert, startsAt: '0000-01-01T00:00:00Z' }] },
        `alerts[0].startsAt: ${outOfRange}`,
      ],
      [
        '/alertmanager',
        ALERTMANAGER_TOKEN,
        { ...base, alerts: [{ ...alert, startsAt: '9999-12-31T23:59:59-23:59' }] },
        `alerts[0].startsAt: ${outOfRange}`,
      ],
      [
        '/changes',
        API_TOKEN,
        { service: 'svc', kind: 'code', at: '0000-12-31T23:59:59Z' },
        `at: ${outOfRange}`,
      ],
    ];
    const before = await tableSnapshot(service.aisre.db.knex);
    for (const [path, token, body, problem] of refusals) {
      const answer = await send(path, JSON.stringify(body), `Bearer ${token}`);
      expect(answer.status, problem).toBe(400);
      expect(answer.body.message).toContain(problem);
    }
    for (const path of [
      '/api/incidents/99999999999',
      '/api/incidents?before=2147483648',
      '/api/changes?since=9999999999999m',
    ]) {
      const answer = await send(path, undefined, `Bearer ${API_TOKEN}`, 'GET');
      expect(answer.status, path).toBe(400);
      expect(answer.body.message).toMatch(/^Invalid (incident id|query): (id|before|since): /);
    }
    expect(await tableSnapshot(service.aisre.db.knex)).toEqual(before);

    const nul = await send(
      '/alertmanager',
      JSON.stringify({
        ...base,
        alerts: [{ ...alert, labels: { ...alert.labels, 'mod\u0000el': 'gpt\ud800' } }],
      }),
      `Bearer ${ALERTMANAGER_TOKEN}`,
    );
    expect(nul.status).toBe(200);
    const stored = await service.aisre.db
      .knex('alert_occurrences')
      .where({ fingerprint: 'dddddddddddddd01' })
      .first();
    const labels = typeof stored.labels === 'string' ? JSON.parse(stored.labels) : stored.labels;
    expect(labels['mod\ufffdel']).toBe('gpt\ufffd');
    const change = await send(
      '/changes',
      JSON.stringify({ service: 'svc\u0000', kind: 'code' }),
      `Bearer ${API_TOKEN}`,
    );
    expect(change).toMatchObject({ status: 201, body: { change: { service: 'svc\ufffd' } } });
  });

  it('POST /changes: no generated change gets a 5xx; refused ones and repeats write nothing', async () => {
    const requests = inputs(changeDocument).map((input) => ({ path: '/changes', input }));
    const statuses = await postEach(requests, API_TOKEN, (answer, input, before) =>
      expectRecorded(answer, input, before, CHANGE_FIELDS),
    );
    expect(statuses).toEqual([200, 201, 400]);
  });

  it('POST /changes/langfuse: no generated webhook gets a 5xx; refused and ignored ones write nothing', async () => {
    const requests = fc
      .tuple(inputs(langfuseDocument), fc.oneof(fc.constant('rag-assistant'), weirdString))
      .map(([input, name]) => ({ path: `/changes/langfuse?service=${percentEncoded(name)}`, input }));
    const statuses = await postEach(requests, API_TOKEN, (answer, input, before) =>
      expectRecorded(answer, input, before, LANGFUSE_FIELDS),
    );
    expect(statuses).toEqual(expect.arrayContaining([201, 400]));
  });

  it('GET /api: no generated incident id or query gets a 5xx, and a refusal names the parameter', async () => {
    const id = fc.oneof(
      weirdString,
      fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String),
      fc.constant('INC-2147483648'),
    );
    const paths = fc.oneof(
      id.map((value) => `/api/incidents/${percentEncoded(value)}`),
      id.map((value) => `/api/incidents/${percentEncoded(value)}/actions`),
      fc
        .tuple(id, weirdString)
        .map(
          ([value, version]) =>
            `/api/incidents/${percentEncoded(value)}/postmortem.md?version=${percentEncoded(version)}`,
        ),
      fc
        .tuple(weirdString, id, id)
        .map(
          ([status, limit, before]) =>
            `/api/incidents?status=${percentEncoded(status)}&limit=${percentEncoded(limit)}&before=${percentEncoded(before)}`,
        ),
      fc
        .tuple(weirdString, weirdString, weirdString, weirdString)
        .map(
          ([svc, kind, since, until]) =>
            `/api/changes?service=${percentEncoded(svc)}&kind=${percentEncoded(kind)}&since=${percentEncoded(since)}&until=${percentEncoded(until)}`,
        ),
      fc.bigInt({ min: 0n, max: 10n ** 15n }).map((minutes) => `/api/changes?since=${minutes}m`),
    );
    const before = await tableSnapshot(service.aisre.db.knex);
    await fc.assert(
      fc.asyncProperty(paths, async (path) => {
        const answer = await send(path, undefined, `Bearer ${API_TOKEN}`, 'GET');
        expect(answer.status, `${path}: ${answer.body.message}`).toBeLessThan(500);
        if (answer.status >= 400 && answer.status !== HEADERS_TOO_LARGE) {
          expect(answer.body.error).toMatch(/^(validation_failed|not_found)$/);
          expect(answer.body.message).toMatch(/^(Invalid [\w ]+: \w+|There is no incident)/);
        }
      }),
      FUZZ,
    );
    expect(await tableSnapshot(service.aisre.db.knex)).toEqual(before);
  });

  it('refuses every wrong or missing credential with 401 on /alertmanager, /changes and /api, and changes nothing', async () => {
    const basic = (user: string, password: string) =>
      `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    const nearMiss = (token: string) =>
      fc.tuple(fc.nat(), fc.constantFrom('swap', 'drop', 'append'), printable).map(([at, how, char]) => {
        const i = at % token.length;
        if (how === 'drop') return token.slice(0, i) + token.slice(i + 1);
        if (how === 'append') return token + char;
        return token.slice(0, i) + (token[i] === char ? '_' : char) + token.slice(i + 1);
      });
    const wrong = (token: string) =>
      fc.oneof(
        fc.string({ unit: printable, maxLength: 60 }),
        fc.constantFrom(
          '',
          'Bearer',
          'Bearer ',
          `Basic ${Buffer.from(':').toString('base64')}`,
          'Basic !!!',
          `Token ${token}`,
          token,
        ),
        nearMiss(token).map((near) => `Bearer ${near}`),
        nearMiss(token).map((near) => basic('alertmanager', near)),
      );
    const endpoints = [
      {
        method: 'POST',
        path: '/alertmanager',
        token: ALERTMANAGER_TOKEN,
        names: 'ALERTMANAGER_TOKEN',
        body: JSON.stringify(alertmanagerBody({ alerts: [{ name: 'A', fingerprint: 'bbbbbbbbbbbbbbb1' }] })),
      },
      {
        method: 'POST',
        path: '/changes',
        token: API_TOKEN,
        names: 'AISRE_API_TOKEN',
        body: JSON.stringify({ service: 'svc', kind: 'code' }),
      },
      {
        method: 'POST',
        path: '/changes/langfuse?service=svc',
        token: API_TOKEN,
        names: 'AISRE_API_TOKEN',
        body: '{}',
      },
      { method: 'GET', path: '/api/incidents', token: API_TOKEN, names: 'AISRE_API_TOKEN', body: undefined },
      { method: 'GET', path: '/api/changes', token: API_TOKEN, names: 'AISRE_API_TOKEN', body: undefined },
      {
        method: 'GET',
        path: '/api/incidents/1/postmortem.md',
        token: API_TOKEN,
        names: 'AISRE_API_TOKEN',
        body: undefined,
      },
    ] as const;
    const attempts = fc.oneof(
      ...endpoints.map((endpoint) =>
        fc
          .oneof(wrong(endpoint.token), fc.constant(undefined))
          .map((authorization) => ({ endpoint, authorization })),
      ),
    );
    const before = await tableSnapshot(service.aisre.db.knex);
    const refuse = async (endpoint: (typeof endpoints)[number], authorization: string | undefined) => {
      const answer = await send(endpoint.path, endpoint.body, authorization, endpoint.method);
      expect(answer.status, `${endpoint.path} with ${authorization}`).toBe(401);
      expect(answer.body.error).toBe('unauthorized');
      expect(answer.body.message).toContain(endpoint.names);
    };
    await fc.assert(
      fc.asyncProperty(attempts, ({ endpoint, authorization }) => refuse(endpoint, authorization)),
      FUZZ,
    );
    // Each token opens its own door only, and the API takes no Basic auth.
    const [alertmanager, changes, , incidents] = endpoints;
    await refuse(alertmanager, `Bearer ${API_TOKEN}`);
    await refuse(changes, `Bearer ${ALERTMANAGER_TOKEN}`);
    await refuse(changes, basic('ci', API_TOKEN));
    await refuse(incidents, basic('ci', API_TOKEN));
    // Credentials are checked before a body is read: a huge unauthenticated one is not a 413.
    const huge = await send('/alertmanager', 'x'.repeat(3 * 1024 * 1024), 'Bearer wrong');
    expect(huge.status).toBe(401);
    expect(await tableSnapshot(service.aisre.db.knex)).toEqual(before);
  });

  it('answers 413 to bodies over the limit, announced or streamed, and stores none of them', async () => {
    const before = await tableSnapshot(service.aisre.db.knex);
    const alerts = Array.from({ length: 2_000 }, (_, i) => ({
      name: `Alert${i}`,
      fingerprint: i.toString(16).padStart(16, 'c'),
      annotations: { description: 'x'.repeat(600) },
    }));
    const oversized = JSON.stringify(alertmanagerBody({ alerts }));
    expect(oversized.length).toBeGreaterThan(1024 * 1024);
    const announced = await send('/alertmanager', oversized, `Bearer ${ALERTMANAGER_TOKEN}`);
    expect(announced).toMatchObject({ status: 413, body: { error: 'payload_too_large' } });
    expect(announced.body.message).toContain('1048576 byte limit');

    // Without a Content-Length the limit still holds while the body streams in.
    const streamed = await fetch(`${service.url}/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERTMANAGER_TOKEN}` },
      body: new Blob([oversized]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);

    const langfuse = await send(
      '/changes/langfuse?service=svc',
      JSON.stringify({ ...langfuseWebhook('big'), padding: 'x'.repeat(300 * 1024) }),
      `Bearer ${API_TOKEN}`,
    );
    expect(langfuse).toMatchObject({ status: 413, body: { error: 'payload_too_large' } });
    expect(await tableSnapshot(service.aisre.db.knex)).toEqual(before);
  });
});
