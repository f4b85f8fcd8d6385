import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AlertSpec, alertmanagerBody } from './alertmanager-payloads.js';
import {
  type EmulatedMessage,
  type RecordedCall,
  type RecordedResponse,
  type SlackEmulator,
  type SlackEmulatorOptions,
  startSlackEmulator,
} from './slack-emulator.js';
import { type BlockActionInput, blockActionsBody, postSigned } from './slack-requests.js';
import { INCIDENTS_CHANNEL, SIGNING_SECRET, startTestService, type TestService } from './test-service.js';

/** The on-call user group the responders list names; the emulator expands it. */
export const ONCALL_GROUP = 'S0ONCALL';
export const ONCALL_MEMBERS = ['U0BOB', 'U0CAROL'];
/** `SLACK_RESPONDERS`: one user and one user group. */
export const RESPONDERS = `U0ALICE,${ONCALL_GROUP}`;

/** A service wired to the Slack emulator, as the end-to-end Slack tests use it. */
export interface SlackFlow {
  emulator: SlackEmulator;
  service: TestService;
  /** Present when started with `proxy: true`: aisre then reaches the emulator through it. */
  proxy: SlackProxy | undefined;
  /** Signs `body` and posts it to `/slack/events`, as Slack would. */
  slack(body: string, headers?: Record<string, string>): Promise<Response>;
  dispose(): Promise<void>;
}

export async function startSlackFlow(
  options: {
    emulator?: SlackEmulatorOptions;
    env?: Record<string, string>;
    /** Runs after the emulator starts and before the service does, e.g. to cut Slack off. */
    beforeStart?: (emulator: SlackEmulator) => void;
    /** Routes aisre's Web API calls through a proxy that can hold one back (see `SlackProxy`). */
    proxy?: boolean;
  } = {},
): Promise<SlackFlow> {
  const emulator = await startSlackEmulator({
    channels: [{ id: INCIDENTS_CHANNEL, name: 'incidents' }],
    userGroups: { [ONCALL_GROUP]: ONCALL_MEMBERS },
    postMessageBurst: Number.POSITIVE_INFINITY,
    ...options.emulator,
  });
  options.beforeStart?.(emulator);
  const proxy = options.proxy ? await startSlackProxy(emulator) : undefined;
  let service: TestService;
  try {
    service = await startTestService({
      slack: emulator,
      env: {
        SLACK_RESPONDERS: RESPONDERS,
        ...(proxy ? { SLACK_API_URL: proxy.apiUrl } : {}),
        ...options.env,
      },
    });
  } catch (err) {
    await proxy?.close();
    await emulator.close();
    throw err;
  }
  return {
    emulator,
    service,
    proxy,
    slack: (body, headers = {}) =>
      postSigned(`${service.url}/slack/events`, { body, signingSecret: SIGNING_SECRET, headers }),
    async dispose() {
      await service.dispose();
      await proxy?.close();
      await emulator.close();
    },
  };
}

/**
 * Sits between aisre and the emulator and passes Web API calls through, except one the test asks
 * to hold: that call reaches Slack only when released, so the test can act while it is in flight.
 */
export interface SlackProxy {
  apiUrl: string;
  holdNext(match: (method: string, form: URLSearchParams) => boolean): {
    /** Resolves when the matching call has arrived and is being held. */
    reached: Promise<void>;
    release(): void;
  };
  close(): Promise<void>;
}

export async function startSlackProxy(emulator: SlackEmulator): Promise<SlackProxy> {
  let hold:
    | {
        match: (method: string, form: URLSearchParams) => boolean;
        arrived: () => void;
        released: Promise<void>;
      }
    | undefined;
  const forward = async (req: IncomingMessage, method: string, body: string) => {
    const upstream = await fetch(`${emulator.apiUrl}${method}`, {
      method: 'POST',
      headers: {
        'content-type': req.headers['content-type'] ?? 'application/x-www-form-urlencoded',
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      },
      body,
    });
    return upstream;
  };
  const server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks).toString('utf8');
      const method = decodeURIComponent(
        new URL(req.url ?? '/', 'http://proxy').pathname.replace(/^\/api\//, ''),
      );
      const held = hold;
      if (held?.match(method, new URLSearchParams(body))) {
        hold = undefined;
        held.arrived();
        await held.released;
      }
      try {
        const upstream = await forward(req, method, body);
        const retryAfter = upstream.headers.get('retry-after');
        res.writeHead(upstream.status, {
          'content-type': upstream.headers.get('content-type') ?? 'application/json',
          ...(retryAfter ? { 'retry-after': retryAfter } : {}),
        });
        res.end(await upstream.text());
      } catch {
        // The emulator dropped the connection (an outage): so does the proxy.
        req.socket.destroy();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`,
    holdNext(match) {
      let arrived!: () => void;
      let release!: () => void;
      const reached = new Promise<void>((resolve) => {
        arrived = resolve;
      });
      hold = { match, arrived, released: new Promise<void>((resolve) => (release = resolve)) };
      return { reached, release };
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

export interface IncidentJson {
  id: number;
  title: string;
  status: string;
  severity: string;
  source: string;
  commanderId: string | null;
  responderIds: string[];
  alertsFiring: number;
  createdAt: string;
}

export interface TimelineJson {
  kind: string;
  actor: string;
  summary: string;
  data: Record<string, unknown>;
}

export interface IncidentDetailJson {
  incident: IncidentJson;
  timeline: TimelineJson[];
  slack: { mode: 'channel' | 'thread'; channelId: string; channelName: string | null } | null;
}

export async function incidentDetail(service: TestService, id: number): Promise<IncidentDetailJson> {
  const response = await service.api<IncidentDetailJson>(`/api/incidents/${id}`);
  if (response.status !== 200) throw new Error(`GET /api/incidents/${id} answered ${response.status}`);
  return response.body;
}

export async function listIncidents(service: TestService): Promise<IncidentJson[]> {
  return (await service.api<{ incidents: IncidentJson[] }>('/api/incidents?status=all')).body.incidents;
}

/** Posts one firing alert through Alertmanager's webhook and returns the incident it landed in. */
export async function fireAlert(service: TestService, alert: Partial<AlertSpec> = {}): Promise<number> {
  const response = await service.postAlerts(
    alertmanagerBody({
      alerts: [
        {
          name: 'EvalPassRateLow',
          fingerprint: 'aaaaaaaaaaaaaaa1',
          annotations: { summary: 'Eval pass rate fell to 71%' },
          ...alert,
        },
      ],
    }),
  );
  if (response.status !== 200) throw new Error(`POST /alertmanager answered ${response.status}`);
  return response.body.incidentId as number;
}

/** Fires an alert and waits until its incident has a channel and a card. */
export async function openIncident(
  flow: SlackFlow,
  alert: Partial<AlertSpec> = {},
): Promise<{ id: number; channelId: string; card: EmulatedMessage }> {
  const id = await fireAlert(flow.service, alert);
  await flow.service.aisre.outbox.drain();
  const slack = (await incidentDetail(flow.service, id)).slack;
  if (!slack) throw new Error(`INC-${id} has no Slack channel`);
  const card = findCard(flow.emulator, slack.channelId, id);
  if (!card) throw new Error(`INC-${id} has no card in ${slack.channelId}`);
  return { id, channelId: slack.channelId, card };
}

interface BlockJson {
  type: string;
  block_id?: string;
  text?: { type: string; text: string };
  fields?: Array<{ type: string; text: string }>;
  elements?: ElementJson[];
}

export interface ElementJson {
  type: string;
  action_id?: string;
  value?: string;
  text?: { type: string; text: string };
  placeholder?: { text: string };
  options?: Array<{ value: string }>;
  initial_option?: { value: string };
}

export function blocksOf(value: unknown): BlockJson[] {
  return Array.isArray(value) ? (value as BlockJson[]) : [];
}

/** The card of incident `id`: the message whose header names it. */
export function findCard(
  emulator: SlackEmulator,
  channelId: string,
  id: number,
): EmulatedMessage | undefined {
  return emulator
    .messages(channelId)
    .find((message) =>
      blocksOf(message.blocks).some(
        (block) => block.type === 'header' && block.text?.text.startsWith(`INC-${id} · `),
      ),
    );
}

export function actionsBlock(blocks: unknown): BlockJson | undefined {
  return blocksOf(blocks).find((block) => block.type === 'actions');
}

/** Button labels and the select's placeholder, in order: what a responder sees under the card. */
export function controlLabels(blocks: unknown): string[] {
  return (actionsBlock(blocks)?.elements ?? []).map((element) =>
    element.type === 'button' ? (element.text?.text ?? '') : `${element.placeholder?.text ?? ''} ▾`,
  );
}

export function element(blocks: unknown, actionId: string): ElementJson {
  const found = actionsBlock(blocks)?.elements?.find((e) => e.action_id === actionId);
  if (!found) throw new Error(`no ${actionId} on the card`);
  return found;
}

/** The text of every section field (`*Status*\n👀 Acknowledged`), keyed by its label. */
export function cardFields(blocks: unknown): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const block of blocksOf(blocks)) {
    for (const field of block.fields ?? []) {
      const [label = '', ...value] = field.text.split('\n');
      fields[label.replaceAll('*', '')] = value.join('\n');
    }
  }
  return fields;
}

/** Successful `chat.update` calls that edited the message at `ts`. */
export function updatesOf(emulator: SlackEmulator, ts: string): RecordedCall[] {
  return emulator.callsTo('chat.update').filter((call) => call.args.ts === ts && succeeded(call));
}

export function succeeded(call: RecordedCall): boolean {
  return call.status === 200 && (call.response as { ok?: boolean } | null)?.ok === true;
}

/** Waits for a successful edit of the message at `ts` whose blocks satisfy `predicate`. */
export function waitForUpdate(
  emulator: SlackEmulator,
  ts: string,
  predicate: (blocks: unknown) => boolean,
): Promise<RecordedCall> {
  // The card is edited at most once a second, so allow a few seconds.
  return emulator.waitFor(
    (calls) =>
      calls.find(
        (call) =>
          call.method === 'chat.update' &&
          call.args.ts === ts &&
          succeeded(call) &&
          predicate(call.args.blocks),
      ),
    10_000,
  );
}

/** A fresh response_url and a way to wait for what aisre posts to it. */
export function responseUrl(emulator: SlackEmulator): {
  url: string;
  reply: () => Promise<RecordedResponse>;
} {
  const id = `R${randomBytes(6).toString('hex')}`;
  return {
    url: emulator.responseUrl(id),
    reply: () => emulator.waitFor(() => emulator.responses.find((response) => response.id === id)),
  };
}

/** The signed-to-be body of `userId` clicking `action` on `message` (Slack echoes the message back). */
export function clickOn(
  message: EmulatedMessage,
  channelId: string,
  userId: string,
  action: BlockActionInput,
  url?: string,
): string {
  return blockActionsBody({
    userId,
    channelId,
    messageTs: message.ts,
    actions: [action],
    message: { blocks: message.blocks, ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}) },
    ...(url ? { responseUrl: url } : {}),
  });
}

/** Blocks (or anything) as one string, for `toContain` on what a message shows. */
export const blocksText = (value: unknown) => JSON.stringify(value ?? []);

/** The message in the card's thread whose fallback text starts with `prefix` (the latest state). */
export function threadMessage(
  emulator: SlackEmulator,
  channelId: string,
  cardTs: string,
  prefix: string,
): EmulatedMessage | undefined {
  return emulator
    .messages(channelId)
    .find((message) => message.thread_ts === cardTs && (message.text ?? '').startsWith(prefix));
}

/** Waits for the thread message starting with `prefix` to satisfy `predicate`. */
export function waitForThreadMessage(
  emulator: SlackEmulator,
  channelId: string,
  cardTs: string,
  prefix: string,
  predicate: (message: EmulatedMessage) => boolean = () => true,
  timeoutMs = 15_000,
): Promise<EmulatedMessage> {
  return emulator.waitFor(() => {
    const found = threadMessage(emulator, channelId, cardTs, prefix);
    return found && predicate(found) ? found : undefined;
  }, timeoutMs);
}

/** The button `actionId` of a run message (its actions block names the run). */
export function runButton(message: EmulatedMessage, actionId: string): BlockActionInput {
  const block = blocksOf(message.blocks).find((b) => b.block_id?.startsWith('action_run:'));
  const button = block?.elements?.find((e) => e.action_id === actionId);
  if (!block || !button) throw new Error(`no ${actionId} on ${blocksText(message.blocks)}`);
  return { action_id: actionId, block_id: block.block_id!, value: button.value! };
}

/** The Preview button of recommendation `index` on the conclusion message. */
export function previewButton(conclusion: EmulatedMessage, index: number): BlockActionInput {
  const buttons = blocksOf(conclusion.blocks)
    .map((block) => (block as { accessory?: { action_id?: string; value?: string } }).accessory)
    .filter((accessory) => accessory?.action_id === 'action.preview');
  const button = buttons.find((candidate) => JSON.parse(candidate!.value!).index === index);
  if (!button) throw new Error(`no Preview ${index} on ${blocksText(conclusion.blocks)}`);
  return { action_id: 'action.preview', value: button.value! };
}
