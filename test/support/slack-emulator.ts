import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

export const EMULATOR_TEAM_ID = 'T0AISRE';
export const EMULATOR_TEAM_DOMAIN = 'aisre-test';
export const EMULATOR_APP_ID = 'A0AISRE';
export const EMULATOR_BOT_USER_ID = 'U0BOT';
export const EMULATOR_BOT_ID = 'B0BOT';
export const EMULATOR_DEFAULT_TOKEN = 'xoxb-test-token';
export const EMULATOR_DEFAULT_USERS = ['U0ALICE', 'U0BOB', 'U0CAROL'] as const;

export interface SlackUserSeed {
  id: string;
  name?: string;
  realName?: string;
  email?: string;
}

export interface SlackChannelSeed {
  /** Generated like Slack's when omitted. */
  id?: string;
  name: string;
  /** Defaults to the bot alone, so the bot can post and invite without a join first. */
  members?: string[];
  isPrivate?: boolean;
  archived?: boolean;
}

export interface SlackEmulatorOptions {
  /** Bearer tokens accepted; default `['xoxb-test-token']`. */
  tokens?: string[];
  /** Workspace users besides the bot; default `EMULATOR_DEFAULT_USERS`. */
  users?: Array<string | SlackUserSeed>;
  /** User group id (`S…`) → member user ids. */
  userGroups?: Record<string, string[]>;
  channels?: SlackChannelSeed[];
  /** Makes `conversations.create` answer `restricted_action`, as workspaces that limit creation do. */
  restrictChannelCreation?: boolean;
  /** Threshold for `msg_blocks_too_long`; Slack's real limit is undocumented, so tests pick their own. */
  maxBlocksJsonChars?: number;
  /** `chat.postMessage` burst per channel before the 1 message/second limit bites; default 5. */
  postMessageBurst?: number;
  /** Per-method limits in calls per minute, answered with HTTP 429 beyond them. */
  rateLimits?: Record<string, number>;
}

export interface EmulatedMessage {
  ts: string;
  text: string;
  blocks: unknown[] | undefined;
  thread_ts?: string;
  user: string;
  edited?: { user: string; ts: string };
  /** Ids of the files this message shares (files.completeUploadExternal posts such a message). */
  files?: string[];
}

/** A file shared through files.completeUploadExternal. */
export interface EmulatedFile {
  id: string;
  filename: string;
  title: string;
  /** The uploaded bytes decoded as UTF-8. */
  content: string;
  /** Bytes received, which Slack requires to equal the `length` announced for the upload. */
  size: number;
  /** Null when completed without `channel_id`: Slack then keeps the file private. */
  channel: string | null;
  /** The thread's parent ts when shared as a reply. */
  threadTs?: string;
  initialComment?: string;
  /** ts of the message that shares the file in its channel. */
  messageTs?: string;
}

export interface EmulatedChannel {
  id: string;
  name: string;
  members: string[];
  isPrivate: boolean;
  isIm: boolean;
  archived: boolean;
  created: number;
  creator: string;
  topic: { value: string; creator: string; last_set: number };
  messages: EmulatedMessage[];
}

export interface EmulatedUser {
  id: string;
  name: string;
  realName: string;
  email: string;
  isBot: boolean;
}

export interface EmulatedView {
  [key: string]: unknown;
  id: string;
  type: string;
  hash: string;
  root_view_id: string;
  previous_view_id: string | null;
  blocks: unknown[];
}

export interface RecordedCall {
  method: string;
  args: Record<string, unknown>;
  at: number;
  /** HTTP status answered, or null when the connection was dropped instead. */
  status: number | null;
  response: unknown;
  /** Seconds the `Retry-After` header of a 429 answer asked for. */
  retryAfter?: number;
}

export interface RecordedResponse {
  id: string;
  body: unknown;
}

/**
 * One injected failure. `{ error }` answers HTTP 200 `ok:false` (HTTP 404 on a response_url, as Slack does
 * for expired ones); `{ drop: true }` destroys the socket without answering.
 */
export type SlackFailure =
  | { error: string }
  | { status: 429; retryAfter: number }
  | { status: 500 | 503 }
  | { drop: true };

/** What every request gets during a `failFor` window. */
export type SlackWindowFailure = { status: 429; retryAfter?: number } | { status: 500 | 503 };

type Args = Record<string, unknown>;
type Body = Record<string, unknown>;

interface Reply {
  status: number;
  body: Body;
  headers?: Record<string, string>;
}

const ok = (body: Body = {}): Body => ({ ok: true, ...body });
const fail = (error: string, extra: Body = {}): Body => ({ ok: false, error, ...extra });
/** Slack explains `invalid_arguments` only through `response_metadata.messages`. */
const invalidArguments = (errors: string[]): Body =>
  fail('invalid_arguments', { response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) } });

const MAX_MESSAGE_BLOCKS = 50;
const MAX_VIEW_BLOCKS = 100;
const MAX_TEXT_CHARS = 40_000;
const MAX_TOPIC_CHARS = 250;
const MAX_PUSHED_VIEWS = 3;
const CHANNEL_NAME = /^[a-z0-9_-]+$/;
/** files.completeUploadExternal takes ids only: names and user ids fail this schema check. */
const FILE_CHANNEL_ID = /^[CGDZ][A-Z0-9]{8,}$/;
/** Form-encoded callers (WebClient) send nested values as JSON strings. */
const JSON_FIELDS = ['blocks', 'attachments', 'view', 'metadata', 'files'];
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** Where files.getUploadURLExternal's URLs point, like Slack's `https://files.slack.com/upload/v1/…`. */
const UPLOAD_PATH = '/upload/v1/';

/** Starts an in-process Slack Web API on 127.0.0.1; point WebClient's `slackApiUrl` at `apiUrl`. */
export async function startSlackEmulator(options: SlackEmulatorOptions = {}): Promise<SlackEmulator> {
  return SlackEmulator.start(options);
}

export class SlackEmulator {
  readonly calls: RecordedCall[] = [];
  readonly responses: RecordedResponse[] = [];
  /** Live state: tests may mutate it directly, e.g. `emulator.channel('x')!.archived = true`. */
  readonly channels = new Map<string, EmulatedChannel>();
  readonly users = new Map<string, EmulatedUser>();
  readonly userGroups = new Map<string, string[]>();
  readonly views = new Map<string, EmulatedView>();
  /** Files completed by files.completeUploadExternal, by id; see `files(channel)`. */
  readonly sharedFiles = new Map<string, EmulatedFile>();

  /** Uploads announced by files.getUploadURLExternal and not completed yet; `bytes` once posted. */
  private readonly uploads = new Map<string, { filename: string; length: number; bytes?: Buffer }>();
  private readonly homeViews = new Map<string, EmulatedView>();
  private readonly dms = new Map<string, string>();
  private readonly tokens: Set<string>;
  private readonly failures = new Map<string, SlackFailure[]>();
  private readonly postBuckets = new Map<string, { tokens: number; updatedAt: number }>();
  private readonly callWindows = new Map<string, number[]>();
  private readonly handlers = new Map<string, (args: Args) => Body>([
    ['auth.test', () => this.authTest()],
    ['chat.postMessage', (a) => this.postMessage(a)],
    ['chat.update', (a) => this.updateMessage(a)],
    ['chat.postEphemeral', (a) => this.postEphemeral(a)],
    ['chat.getPermalink', (a) => this.getPermalink(a)],
    ['conversations.create', (a) => this.createConversation(a)],
    ['conversations.invite', (a) => this.invite(a)],
    ['conversations.info', (a) => this.conversationInfo(a)],
    ['conversations.join', (a) => this.join(a)],
    ['conversations.setTopic', (a) => this.setTopic(a)],
    ['views.open', (a) => this.openView(a)],
    ['views.update', (a) => this.updateView(a)],
    ['views.push', (a) => this.pushView(a)],
    ['views.publish', (a) => this.publishView(a)],
    ['files.getUploadURLExternal', (a) => this.getUploadUrl(a)],
    ['files.completeUploadExternal', (a) => this.completeUpload(a)],
    ['usergroups.users.list', (a) => this.userGroupMembers(a)],
    ['users.info', (a) => this.userInfo(a)],
  ]);
  private restrictChannelCreation: boolean;
  private outage = false;
  private failureWindow: { until: number; failure: SlackWindowFailure } | undefined;
  private lastTsMicros = 0;
  /** Slack finds the modal views.push stacks on through its trigger_id; here the latest modal stands in. */
  private topModal: EmulatedView | undefined;
  private baseUrl = '';

  private constructor(
    private readonly options: SlackEmulatorOptions,
    private readonly server: Server,
  ) {
    this.tokens = new Set(options.tokens ?? [EMULATOR_DEFAULT_TOKEN]);
    this.restrictChannelCreation = options.restrictChannelCreation ?? false;
    this.users.set(EMULATOR_BOT_USER_ID, {
      id: EMULATOR_BOT_USER_ID,
      name: 'aisre',
      realName: 'aisre',
      email: '',
      isBot: true,
    });
    for (const seed of options.users ?? EMULATOR_DEFAULT_USERS) {
      const user = typeof seed === 'string' ? { id: seed } : seed;
      const name = user.name ?? user.id.toLowerCase();
      this.users.set(user.id, {
        id: user.id,
        name,
        realName: user.realName ?? name,
        email: user.email ?? `${name}@example.com`,
        isBot: false,
      });
    }
    for (const [id, members] of Object.entries(options.userGroups ?? {})) {
      this.userGroups.set(id, [...members]);
    }
    for (const seed of options.channels ?? []) this.seedChannel(seed);
  }

  static async start(options: SlackEmulatorOptions): Promise<SlackEmulator> {
    const server = createServer();
    const emulator = new SlackEmulator(options, server);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      emulator.onRequest(req, res).catch((error: unknown) => {
        // An emulator bug must fail the test loudly rather than look like a Slack answer.
        if (!res.headersSent) {
          send(res, { status: 500, body: fail('emulator_error', { detail: String(error) }) });
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    emulator.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return emulator;
  }

  get apiUrl(): string {
    return `${this.baseUrl}/api/`;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // WebClient keeps connections alive; without this close() would wait for them to time out.
    this.server.closeAllConnections();
    await closed;
  }

  /** Clears the recordings (calls, responses); channels, messages, views and rate-limit counters stay. */
  reset(): void {
    this.calls.length = 0;
    this.responses.length = 0;
  }

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /**
   * Queues `failure` for the next `times` calls of `method` (`'response_url'` for response URLs,
   * `'upload_url'` for posts of file bytes to the URLs files.getUploadURLExternal hands out).
   */
  failNext(method: string, failure: SlackFailure, times = 1): void {
    const queue = this.failures.get(method) ?? [];
    for (let i = 0; i < times; i++) queue.push(failure);
    this.failures.set(method, queue);
  }

  /** While on, every request (API and response_url) has its connection destroyed: Slack is unreachable. */
  setOutage(on: boolean): void {
    this.outage = on;
  }

  /**
   * Answers every request with `failure` for the next `ms` milliseconds, as during a Slack incident
   * or a workspace-wide rate limit. A 429 without `retryAfter` asks to come back when the window ends.
   */
  failFor(ms: number, failure: SlackWindowFailure): void {
    this.failureWindow = { until: Date.now() + ms, failure };
  }

  setRestrictChannelCreation(on: boolean): void {
    this.restrictChannelCreation = on;
  }

  responseUrl(id: string = randomId('R')): string {
    return `${this.baseUrl}/response/${encodeURIComponent(id)}`;
  }

  seedChannel(seed: SlackChannelSeed): EmulatedChannel {
    const channel: EmulatedChannel = {
      id: seed.id ?? this.newId('C'),
      name: seed.name,
      members: [...(seed.members ?? [EMULATOR_BOT_USER_ID])],
      isPrivate: seed.isPrivate ?? false,
      isIm: false,
      archived: seed.archived ?? false,
      created: Math.floor(Date.now() / 1000),
      creator: EMULATOR_BOT_USER_ID,
      topic: { value: '', creator: '', last_set: 0 },
      messages: [],
    };
    this.channels.set(channel.id, channel);
    return channel;
  }

  /** Adds a message as if someone else had posted it, e.g. to provoke `cant_update_message`. */
  seedMessage(
    channelIdOrName: string,
    message: { text: string; user: string; blocks?: unknown[]; thread_ts?: string },
  ): EmulatedMessage {
    const channel = this.channel(channelIdOrName);
    if (!channel) throw new Error(`seedMessage: no channel ${channelIdOrName}`);
    return this.addMessage(channel, { ...message, blocks: message.blocks });
  }

  channel(idOrName: string): EmulatedChannel | undefined {
    return this.channels.get(idOrName) ?? this.channelNamed(idOrName.replace(/^#/, ''));
  }

  /** Every message of the channel in posting order, thread replies included. */
  messages(channelIdOrName: string): EmulatedMessage[] {
    return this.channel(channelIdOrName)?.messages ?? [];
  }

  lastMessage(channelIdOrName: string): EmulatedMessage | undefined {
    return this.messages(channelIdOrName).at(-1);
  }

  /** The files shared in the channel, in sharing order, thread replies included. */
  files(channelIdOrName: string): EmulatedFile[] {
    const id = this.channel(channelIdOrName)?.id;
    return [...this.sharedFiles.values()].filter((file) => id !== undefined && file.channel === id);
  }

  homeView(userId: string): EmulatedView | undefined {
    return this.homeViews.get(userId);
  }

  /** Polls the recorded calls until `predicate` returns something truthy, and returns it. */
  async waitFor<T>(
    predicate: (calls: readonly RecordedCall[]) => T,
    timeoutMs = 5000,
  ): Promise<NonNullable<T>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const result = predicate(this.calls);
      if (result) return result as NonNullable<T>;
      if (Date.now() >= deadline) {
        const seen = this.calls.map((call) => `  ${call.method} → ${describeOutcome(call)}`).join('\n');
        throw new Error(
          `SlackEmulator.waitFor timed out after ${timeoutMs}ms; ${this.calls.length} call(s) seen` +
            `${seen ? `:\n${seen}` : ''}\n${this.responses.length} response_url post(s) seen`,
        );
      }
      await delay(10);
    }
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const bytes = await readBody(req);
    const raw = bytes.toString('utf8');
    const url = new URL(req.url ?? '/', this.baseUrl);
    if (url.pathname.startsWith('/api/')) {
      this.onApiCall(decodeURIComponent(url.pathname.slice('/api/'.length)), raw, url, req, res);
    } else if (url.pathname.startsWith('/response/')) {
      this.onResponseUrl(decodeURIComponent(url.pathname.slice('/response/'.length)), raw, req, res);
    } else if (url.pathname.startsWith(UPLOAD_PATH)) {
      await this.onUpload(decodeURIComponent(url.pathname.slice(UPLOAD_PATH.length)), bytes, req, res);
    } else {
      send(res, { status: 404, body: fail('not_found') });
    }
  }

  private onApiCall(method: string, raw: string, url: URL, req: IncomingMessage, res: ServerResponse): void {
    const parsed = parseArgs(req.headers['content-type'], raw, url.searchParams);
    const args = 'args' in parsed ? parsed.args : {};
    const at = Date.now();
    const record = (status: number | null, response: unknown, retryAfter?: number) =>
      this.calls.push({ method, args, at, status, response, ...(retryAfter ? { retryAfter } : {}) });
    if (this.answerInjectedFailure(method, 200, req, res, record)) return;

    const reply = this.dispatch(method, parsed, req.headers.authorization);
    // Recorded before answering so a caller that got its answer always finds the call recorded.
    record(reply.status, reply.body, retryAfterOf(reply));
    send(res, reply);
  }

  private dispatch(
    method: string,
    parsed: { args: Args; json: boolean } | { error: string },
    authorization: string | undefined,
  ): Reply {
    const handler = this.handlers.get(method);
    if (!handler) return { status: 200, body: fail('unknown_method', { req_method: method }) };
    if ('error' in parsed) return { status: 200, body: fail(parsed.error) };
    const { args, json } = parsed;

    // Slack ignores a `token` field in JSON bodies: those must authenticate through the header.
    const bearer = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1]?.trim();
    const token = bearer ?? (json ? undefined : str(args, 'token'));
    if (!token) return { status: 200, body: fail('not_authed') };
    if (!this.tokens.has(token)) return { status: 200, body: fail('invalid_auth') };

    const retryAfter = this.rateLimit(method, args);
    if (retryAfter !== undefined) {
      return { status: 429, headers: { 'retry-after': String(retryAfter) }, body: fail('ratelimited') };
    }
    return { status: 200, body: handler(args) };
  }

  private onResponseUrl(id: string, raw: string, req: IncomingMessage, res: ServerResponse): void {
    if (this.answerInjectedFailure('response_url', 404, req, res)) return;
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      send(res, { status: 400, body: fail('invalid_payload') });
      return;
    }
    this.responses.push({ id, body });
    send(res, { status: 200, body: ok() });
  }

  /**
   * Slack's upload URLs are pre-signed, so they take no token. They accept raw bytes or a multipart
   * form and answer `OK - <bytes>` as text; a size other than the announced `length` is refused.
   * Recorded in `calls` as method `upload_url`, with a Slack-shaped `{ ok, error }` as the response.
   */
  private async onUpload(fileId: string, body: Buffer, req: IncomingMessage, res: ServerResponse) {
    const at = Date.now();
    const record = (status: number | null, response: unknown, size?: number) =>
      this.calls.push({ method: 'upload_url', args: { file_id: fileId, size }, at, status, response });
    if (
      this.answerInjectedFailure('upload_url', 400, req, res, (status, response) => record(status, response))
    ) {
      return;
    }

    const outcome = await this.receiveUpload(fileId, req.headers['content-type'], body);
    record(outcome.status, outcome.error ? fail(outcome.error) : ok(), outcome.size);
    res.writeHead(outcome.status, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(outcome.error ?? `OK - ${outcome.size}`);
  }

  private async receiveUpload(
    fileId: string,
    contentType: string | undefined,
    body: Buffer,
  ): Promise<{ status: number; error?: string; size?: number }> {
    const upload = this.uploads.get(fileId);
    if (!upload) return { status: 404, error: 'upload_not_found' };
    const file = await uploadedFile(contentType, body);
    if (!file) return { status: 400, error: 'no_file_in_form' };
    if (file.length !== upload.length) return { status: 400, error: 'size_mismatch', size: file.length };
    upload.bytes = file;
    return { status: 200, size: file.length };
  }

  /** Answers with the failure queued for `key` (or drops the connection in an outage); true if it did. */
  private answerInjectedFailure(
    key: string,
    errorStatus: number,
    req: IncomingMessage,
    res: ServerResponse,
    record?: (status: number | null, response: unknown, retryAfter?: number) => void,
  ): boolean {
    const failure = this.outage
      ? { drop: true as const }
      : (this.windowFailure() ?? this.failures.get(key)?.shift());
    if (!failure) return false;
    const reply = failureReply(failure, errorStatus);
    record?.(reply?.status ?? null, reply?.body ?? null, retryAfterOf(reply));
    if (reply) send(res, reply);
    else req.socket.destroy();
    return true;
  }

  private windowFailure(): SlackFailure | undefined {
    const window = this.failureWindow;
    const now = Date.now();
    if (!window || now >= window.until) return undefined;
    if (window.failure.status !== 429) return window.failure;
    return { status: 429, retryAfter: window.failure.retryAfter ?? Math.ceil((window.until - now) / 1000) };
  }

  /** Returns the Retry-After seconds when the call is over a limit. */
  private rateLimit(method: string, args: Args): number | undefined {
    const now = Date.now();
    const perMinute = this.options.rateLimits?.[method];
    if (perMinute !== undefined) {
      const window = (this.callWindows.get(method) ?? []).filter((t) => t > now - 60_000);
      this.callWindows.set(method, window);
      const oldest = window[0];
      if (oldest !== undefined && window.length >= perMinute) {
        return Math.max(1, Math.ceil((oldest + 60_000 - now) / 1000));
      }
      window.push(now);
    }
    if (method === 'chat.postMessage') {
      // Token bucket: Slack allows short bursts but about one message per second per channel over time.
      const burst = this.options.postMessageBurst ?? 5;
      const key = this.resolveChannel(args.channel)?.id ?? String(args.channel);
      const bucket = this.postBuckets.get(key) ?? { tokens: burst, updatedAt: now };
      bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.updatedAt) / 1000);
      bucket.updatedAt = now;
      this.postBuckets.set(key, bucket);
      if (bucket.tokens < 1) return 1;
      bucket.tokens -= 1;
    }
    return undefined;
  }

  private authTest(): Body {
    return ok({
      url: `https://${EMULATOR_TEAM_DOMAIN}.slack.com/`,
      team: 'aisre test',
      user: 'aisre',
      team_id: EMULATOR_TEAM_ID,
      user_id: EMULATOR_BOT_USER_ID,
      bot_id: EMULATOR_BOT_ID,
      is_enterprise_install: false,
    });
  }

  private postMessage(args: Args): Body {
    const channel = this.resolveChannel(args.channel, true);
    if (!channel) return fail('channel_not_found');
    if (channel.archived) return fail('is_archived');
    const invalid = this.checkMessageContent(args);
    if (invalid) return invalid;

    let threadTs = str(args, 'thread_ts') || undefined;
    if (threadTs) {
      const parent = channel.messages.find((m) => m.ts === threadTs);
      if (!parent) return fail('thread_not_found');
      // A reply to a reply lands in the parent's thread.
      threadTs = parent.thread_ts ?? parent.ts;
    }
    const message = this.addMessage(channel, {
      text: str(args, 'text') ?? '',
      blocks: args.blocks as unknown[] | undefined,
      user: EMULATOR_BOT_USER_ID,
      thread_ts: threadTs,
    });
    return ok({ channel: channel.id, ts: message.ts, message: messageJson(message) });
  }

  private updateMessage(args: Args): Body {
    const channel = this.resolveChannel(args.channel);
    if (!channel) return fail('channel_not_found');
    const invalid = this.checkMessageContent(args);
    if (invalid) return invalid;
    const message = channel.messages.find((m) => m.ts === str(args, 'ts'));
    if (!message) return fail('message_not_found');
    if (message.user !== EMULATOR_BOT_USER_ID) return fail('cant_update_message');
    if (channel.archived) return fail('is_archived');

    // Slack keeps the previous blocks unless `blocks` is sent (an empty array removes them).
    const text = str(args, 'text');
    if (text !== undefined) message.text = text;
    if (args.blocks !== undefined) message.blocks = args.blocks as unknown[];
    message.edited = { user: EMULATOR_BOT_USER_ID, ts: this.nextTs() };
    return ok({ channel: channel.id, ts: message.ts, text: message.text, message: messageJson(message) });
  }

  private postEphemeral(args: Args): Body {
    const channel = this.resolveChannel(args.channel);
    if (!channel) return fail('channel_not_found');
    if (channel.archived) return fail('is_archived');
    const user = str(args, 'user');
    if (!user || !this.users.has(user)) return fail('user_not_in_channel');
    const invalid = this.checkMessageContent(args);
    if (invalid) return invalid;
    return ok({ message_ts: this.nextTs() });
  }

  private getPermalink(args: Args): Body {
    const channel = this.resolveChannel(args.channel);
    if (!channel) return fail('channel_not_found');
    const message = channel.messages.find((m) => m.ts === str(args, 'message_ts'));
    if (!message) return fail('message_not_found');
    const archive = `https://${EMULATOR_TEAM_DOMAIN}.slack.com/archives/${channel.id}`;
    const base = `${archive}/p${message.ts.replace('.', '')}`;
    const permalink = message.thread_ts ? `${base}?thread_ts=${message.thread_ts}&cid=${channel.id}` : base;
    return ok({ channel: channel.id, permalink });
  }

  private createConversation(args: Args): Body {
    if (this.restrictChannelCreation) return fail('restricted_action');
    const name = str(args, 'name') ?? '';
    if (!name) return fail('invalid_name_required');
    if (name.length > 80) return fail('invalid_name_maxlength');
    if (!CHANNEL_NAME.test(name)) return fail('invalid_name_specials');
    if (/^[-_]+$/.test(name)) return fail('invalid_name_punctuation');
    if (this.channelNamed(name)) return fail('name_taken');
    const channel = this.seedChannel({ name, isPrivate: flag(args.is_private) });
    return ok({ channel: channelJson(channel) });
  }

  private invite(args: Args): Body {
    const channel = this.resolveChannel(args.channel);
    if (!channel || channel.isIm) return fail('channel_not_found');
    if (channel.archived) return fail('is_archived');
    if (!channel.members.includes(EMULATOR_BOT_USER_ID)) return fail('not_in_channel');
    const users = [...new Set((str(args, 'users') ?? '').split(',').map((u) => u.trim()))].filter(Boolean);
    if (users.length === 0) return fail('no_user');

    const problems = users.flatMap((user) => {
      const error = this.inviteProblem(channel, user);
      return error ? [{ user, ok: false, error }] : [];
    });
    // Slack invites nobody when any invite fails, and only calls it already_in_channel when nobody was new.
    const blocking = problems.filter((p) => p.error !== 'already_in_channel');
    const first = blocking[0] ?? (problems.length === users.length ? problems[0] : undefined);
    if (first) return fail(first.error, { errors: blocking.length > 0 ? blocking : problems });
    channel.members.push(...users.filter((user) => !channel.members.includes(user)));
    return ok({ channel: channelJson(channel) });
  }

  private inviteProblem(channel: EmulatedChannel, user: string): string | undefined {
    if (user === EMULATOR_BOT_USER_ID) return 'cant_invite_self';
    if (!this.users.has(user)) return 'user_not_found';
    if (channel.members.includes(user)) return 'already_in_channel';
    return undefined;
  }

  private conversationInfo(args: Args): Body {
    const channel = this.resolveChannel(args.channel);
    if (!channel) return fail('channel_not_found');
    return ok({ channel: channelJson(channel, flag(args.include_num_members)) });
  }

  private join(args: Args): Body {
    const channel = this.resolveChannel(args.channel);
    if (!channel) return fail('channel_not_found');
    if (channel.isPrivate || channel.isIm) return fail('method_not_supported_for_channel_type');
    if (channel.archived) return fail('is_archived');
    if (channel.members.includes(EMULATOR_BOT_USER_ID)) {
      return ok({
        channel: channelJson(channel),
        warning: 'already_in_channel',
        response_metadata: { warnings: ['already_in_channel'] },
      });
    }
    channel.members.push(EMULATOR_BOT_USER_ID);
    return ok({ channel: channelJson(channel) });
  }

  private setTopic(args: Args): Body {
    const channel = this.resolveChannel(args.channel);
    if (!channel) return fail('channel_not_found');
    if (channel.archived) return fail('is_archived');
    if (!channel.members.includes(EMULATOR_BOT_USER_ID)) return fail('not_in_channel');
    const topic = str(args, 'topic') ?? '';
    if (topic.length > MAX_TOPIC_CHARS) return fail('too_long');
    channel.topic = { value: topic, creator: EMULATOR_BOT_USER_ID, last_set: Math.floor(Date.now() / 1000) };
    return ok({ channel: channelJson(channel) });
  }

  private openView(args: Args): Body {
    const invalid = requireArgs(args, ['trigger_id', 'view']) ?? viewErrors(args.view, ['modal']);
    if (invalid) return invalid;
    const id = this.newId('V');
    const view = this.storeView(args.view as Body, { id, root_view_id: id, previous_view_id: null });
    this.topModal = view;
    return ok({ view });
  }

  private pushView(args: Args): Body {
    const invalid = requireArgs(args, ['trigger_id', 'view']) ?? viewErrors(args.view, ['modal']);
    if (invalid) return invalid;
    const below = this.topModal;
    if (below && this.stackDepth(below) >= MAX_PUSHED_VIEWS) return fail('push_limit_reached');
    const id = this.newId('V');
    const view = this.storeView(args.view as Body, {
      id,
      root_view_id: below?.root_view_id ?? id,
      previous_view_id: below?.id ?? null,
    });
    this.topModal = view;
    return ok({ view });
  }

  private updateView(args: Args): Body {
    if (args.view_id === undefined && args.external_id === undefined) {
      return invalidArguments(['either view_id or external_id is required']);
    }
    const invalid = requireArgs(args, ['view']) ?? viewErrors(args.view, ['modal', 'home']);
    if (invalid) return invalid;
    const viewId = str(args, 'view_id');
    const externalId = str(args, 'external_id');
    const current = viewId
      ? this.views.get(viewId)
      : [...this.views.values()].find((v) => v.external_id === externalId);
    if (!current) return fail('not_found');
    const hash = str(args, 'hash');
    if (hash && hash !== current.hash) return fail('hash_conflict');
    const view = this.storeView(args.view as Body, {
      id: current.id,
      root_view_id: current.root_view_id,
      previous_view_id: current.previous_view_id,
    });
    if (this.topModal?.id === view.id) this.topModal = view;
    for (const [user, home] of this.homeViews) if (home.id === view.id) this.homeViews.set(user, view);
    return ok({ view });
  }

  private publishView(args: Args): Body {
    const invalid = requireArgs(args, ['user_id', 'view']) ?? viewErrors(args.view, ['home']);
    if (invalid) return invalid;
    const userId = str(args, 'user_id') ?? '';
    const current = this.homeViews.get(userId);
    const hash = str(args, 'hash');
    if (current && hash && hash !== current.hash) return fail('hash_conflict');
    const id = current?.id ?? this.newId('V');
    const view = this.storeView(args.view as Body, { id, root_view_id: id, previous_view_id: null });
    this.homeViews.set(userId, view);
    return ok({ view });
  }

  private getUploadUrl(args: Args): Body {
    const invalid = requireArgs(args, ['filename', 'length']);
    if (invalid) return invalid;
    const length = Number(str(args, 'length'));
    if (!Number.isSafeInteger(length) || length < 0) {
      return invalidArguments(['must be a non-negative integer [json-pointer:/length]']);
    }
    const id = this.newId('F');
    this.uploads.set(id, { filename: str(args, 'filename') ?? '', length });
    return ok({ upload_url: `${this.baseUrl}${UPLOAD_PATH}${id}`, file_id: id });
  }

  /** Checks the destination like chat.postMessage, plus membership: Slack requires it for files. */
  private completeUpload(args: Args): Body {
    const entries = args.files;
    if (!Array.isArray(entries) || entries.length === 0 || !entries.every((e) => isObject(e) && e.id)) {
      return invalidArguments(['must be a non-empty array of objects with an id [json-pointer:/files]']);
    }
    const channelId = str(args, 'channel_id');
    if (channelId !== undefined && !FILE_CHANNEL_ID.test(channelId)) {
      return invalidArguments([
        `input must match regex pattern: ${FILE_CHANNEL_ID.source} [json-pointer:/channel_id]`,
      ]);
    }
    const received = entries.flatMap((entry) => {
      const id = String((entry as Body).id);
      const upload = this.uploads.get(id);
      return upload?.bytes
        ? [{ ...upload, id, bytes: upload.bytes, title: str(entry as Body, 'title') }]
        : [];
    });
    if (received.length < entries.length) return fail('file_not_found');

    let channel: EmulatedChannel | undefined;
    let threadTs: string | undefined;
    if (channelId !== undefined) {
      channel = this.resolveChannel(channelId);
      if (!channel) return fail('channel_not_found');
      if (channel.archived) return fail('is_archived');
      if (!channel.members.includes(EMULATOR_BOT_USER_ID)) return fail('not_in_channel');
      const parentTs = str(args, 'thread_ts');
      if (parentTs) {
        const parent = channel.messages.find((m) => m.ts === parentTs);
        if (!parent) return fail('thread_not_found');
        // A reply's ts stands for its parent's thread, as with chat.postMessage.
        threadTs = parent.thread_ts ?? parent.ts;
      }
    }

    const initialComment = str(args, 'initial_comment') || undefined;
    const message =
      channel &&
      this.addMessage(channel, {
        text: initialComment ?? '',
        blocks: undefined,
        user: EMULATOR_BOT_USER_ID,
        thread_ts: threadTs,
        files: received.map((upload) => upload.id),
      });
    const files = received.map((upload): EmulatedFile => {
      this.uploads.delete(upload.id);
      const file: EmulatedFile = {
        id: upload.id,
        filename: upload.filename,
        title: upload.title || upload.filename,
        content: upload.bytes.toString('utf8'),
        size: upload.bytes.length,
        channel: channel?.id ?? null,
        ...(threadTs ? { threadTs } : {}),
        ...(message && initialComment ? { initialComment } : {}),
        ...(message ? { messageTs: message.ts } : {}),
      };
      this.sharedFiles.set(file.id, file);
      return file;
    });
    return ok({
      files: files.map((file) => ({
        id: file.id,
        name: file.filename,
        title: file.title,
        size: file.size,
        user: EMULATOR_BOT_USER_ID,
      })),
    });
  }

  private userGroupMembers(args: Args): Body {
    const members = this.userGroups.get(str(args, 'usergroup') ?? '');
    if (!members) return fail('no_such_subteam');
    return ok({ users: [...members] });
  }

  private userInfo(args: Args): Body {
    const user = this.users.get(str(args, 'user') ?? '');
    if (!user) return fail('user_not_found');
    return ok({
      user: {
        id: user.id,
        team_id: EMULATOR_TEAM_ID,
        name: user.name,
        deleted: false,
        real_name: user.realName,
        tz: 'Etc/UTC',
        tz_offset: 0,
        is_admin: false,
        is_owner: false,
        is_bot: user.isBot,
        is_app_user: false,
        profile: {
          real_name: user.realName,
          display_name: user.name,
          email: user.email,
          team: EMULATOR_TEAM_ID,
          ...(user.isBot ? { bot_id: EMULATOR_BOT_ID } : {}),
        },
      },
    });
  }

  private checkMessageContent(args: Args): Body | undefined {
    const { blocks } = args;
    if (blocks !== undefined && !Array.isArray(blocks)) return fail('invalid_blocks_format');
    const text = str(args, 'text') ?? '';
    if (!text && !blocks?.length && args.attachments === undefined) return fail('no_text');
    if (text.length > MAX_TEXT_CHARS) return fail('msg_too_long');
    if (!blocks) return undefined;
    const errors = blockErrors(blocks, '/blocks', MAX_MESSAGE_BLOCKS);
    if (errors.length > 0) {
      return fail('invalid_blocks', {
        errors,
        response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) },
      });
    }
    if (JSON.stringify(blocks).length > (this.options.maxBlocksJsonChars ?? 50_000)) {
      return fail('msg_blocks_too_long');
    }
    return undefined;
  }

  private resolveChannel(ref: unknown, openDm = false): EmulatedChannel | undefined {
    const key = typeof ref === 'string' ? ref.trim() : '';
    if (!key) return undefined;
    let channel = this.channel(key);
    // Posting to a user id is how apps DM someone: Slack opens the app's DM with them.
    if (!channel && openDm && key !== EMULATOR_BOT_USER_ID && this.users.has(key)) channel = this.dmWith(key);
    // Private channels the bot is not in do not exist as far as the bot can tell.
    if (channel?.isPrivate && !channel.members.includes(EMULATOR_BOT_USER_ID)) return undefined;
    return channel;
  }

  private channelNamed(name: string): EmulatedChannel | undefined {
    for (const channel of this.channels.values()) if (!channel.isIm && channel.name === name) return channel;
    return undefined;
  }

  private dmWith(userId: string): EmulatedChannel {
    const existing = this.channels.get(this.dms.get(userId) ?? '');
    if (existing) return existing;
    const channel = this.seedChannel({
      id: this.newId('D'),
      name: '',
      members: [userId, EMULATOR_BOT_USER_ID],
    });
    channel.isIm = true;
    this.dms.set(userId, channel.id);
    return channel;
  }

  private addMessage(channel: EmulatedChannel, message: Omit<EmulatedMessage, 'ts'>): EmulatedMessage {
    const stored: EmulatedMessage = { ts: this.nextTs(), ...message };
    if (stored.thread_ts === undefined) delete stored.thread_ts;
    channel.messages.push(stored);
    return stored;
  }

  private storeView(
    input: Body,
    identity: Pick<EmulatedView, 'id' | 'root_view_id' | 'previous_view_id'>,
  ): EmulatedView {
    const view: EmulatedView = {
      callback_id: '',
      external_id: '',
      private_metadata: '',
      clear_on_close: false,
      notify_on_close: false,
      ...input,
      type: String(input.type),
      blocks: input.blocks as unknown[],
      ...identity,
      team_id: EMULATOR_TEAM_ID,
      app_id: EMULATOR_APP_ID,
      bot_id: EMULATOR_BOT_ID,
      state: { values: {} },
      hash: `${Math.floor(Date.now() / 1000)}.${randomAlnum(8)}`,
    };
    this.views.set(view.id, view);
    return view;
  }

  private stackDepth(view: EmulatedView): number {
    let depth = 1;
    for (let id = view.previous_view_id; id; id = this.views.get(id)?.previous_view_id ?? null) depth++;
    return depth;
  }

  private newId(prefix: string): string {
    for (;;) {
      const id = randomId(prefix);
      if (![this.channels, this.views, this.uploads, this.sharedFiles].some((ids) => ids.has(id))) return id;
    }
  }

  /** Like Slack's, ts values are microsecond clock readings; here also unique and in posting order. */
  private nextTs(): string {
    this.lastTsMicros = Math.max(Date.now() * 1000, this.lastTsMicros + 1);
    const seconds = Math.floor(this.lastTsMicros / 1_000_000);
    return `${seconds}.${String(this.lastTsMicros % 1_000_000).padStart(6, '0')}`;
  }
}

function failureReply(failure: SlackFailure, errorStatus: number): Reply | undefined {
  if ('drop' in failure) return undefined;
  if ('error' in failure) return { status: errorStatus, body: fail(failure.error) };
  if (failure.status === 429) {
    return { status: 429, headers: { 'retry-after': String(failure.retryAfter) }, body: fail('ratelimited') };
  }
  return {
    status: failure.status,
    body: fail(failure.status === 503 ? 'service_unavailable' : 'internal_error'),
  };
}

function retryAfterOf(reply: Reply | undefined): number | undefined {
  const header = reply?.headers?.['retry-after'];
  return header === undefined ? undefined : Number(header);
}

function parseArgs(
  contentType: string | undefined,
  raw: string,
  query: URLSearchParams,
): { args: Args; json: boolean } | { error: string } {
  const args: Args = Object.fromEntries(query);
  const json = (contentType ?? '').split(';')[0]?.trim().toLowerCase() === 'application/json';
  if (json && raw.trim()) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return { error: 'invalid_json' };
    }
    if (!isObject(parsed)) return { error: 'json_not_object' };
    Object.assign(args, parsed);
  } else if (!json) {
    Object.assign(args, Object.fromEntries(new URLSearchParams(raw)));
  }
  for (const field of JSON_FIELDS) {
    const value = args[field];
    if (typeof value !== 'string') continue;
    try {
      args[field] = JSON.parse(value);
    } catch {
      // Left as a string: the handler answers it as malformed.
    }
  }
  return { args, json };
}

function requireArgs(args: Args, names: string[]): Body | undefined {
  const missing = names.filter((name) => args[name] === undefined || args[name] === '');
  return missing.length > 0
    ? invalidArguments(missing.map((name) => `missing required field: ${name}`))
    : undefined;
}

function viewErrors(view: unknown, allowedTypes: string[]): Body | undefined {
  if (!isObject(view)) return invalidArguments(['failed to match all allowed schemas [json-pointer:/view]']);
  const errors: string[] = [];
  if (typeof view.type !== 'string' || !allowedTypes.includes(view.type)) {
    errors.push(`unsupported type: ${String(view.type)} [json-pointer:/view/type]`);
  }
  if (view.type === 'modal') {
    checkText(view.title, '/view/title', 24, errors, { plainOnly: true });
    if (view.submit !== undefined) checkText(view.submit, '/view/submit', 24, errors, { plainOnly: true });
    if (view.close !== undefined) checkText(view.close, '/view/close', 24, errors, { plainOnly: true });
  }
  checkLength(view.private_metadata, '/view/private_metadata', 3000, errors);
  checkLength(view.callback_id, '/view/callback_id', 255, errors);
  checkLength(view.external_id, '/view/external_id', 255, errors);
  if (!Array.isArray(view.blocks)) {
    errors.push('missing required field: blocks [json-pointer:/view]');
  } else {
    errors.push(...blockErrors(view.blocks, '/view/blocks', MAX_VIEW_BLOCKS));
    const input = view.blocks.findIndex((block) => isObject(block) && block.type === 'input');
    if (view.type === 'modal' && input >= 0 && view.submit === undefined) {
      errors.push(
        `must define \`submit\` to use an \`input\` block in modals [json-pointer:/view/blocks/${input}/input]`,
      );
    }
  }
  return errors.length > 0 ? invalidArguments(errors) : undefined;
}

const BLOCK_TYPES = new Set([
  'actions',
  'context',
  'divider',
  'file',
  'header',
  'image',
  'input',
  'markdown',
  'rich_text',
  'section',
  'table',
  'video',
]);

/** Slack-worded errors (`<reason> [json-pointer:<where>]`) for the limits apps most often trip over. */
function blockErrors(blocks: unknown[], pointer: string, maxBlocks: number): string[] {
  const errors: string[] = [];
  if (blocks.length > maxBlocks) {
    errors.push(`no more than ${maxBlocks} items allowed [json-pointer:${pointer}]`);
  }
  const blockIds = new Set<string>();
  blocks.forEach((block, index) => {
    const at = `${pointer}/${index}`;
    if (!isObject(block) || typeof block.type !== 'string') {
      errors.push(`missing required field: type [json-pointer:${at}]`);
      return;
    }
    if (!BLOCK_TYPES.has(block.type)) {
      errors.push(`unsupported type: ${block.type} [json-pointer:${at}/type]`);
      return;
    }
    if (typeof block.block_id === 'string') {
      if (blockIds.has(block.block_id)) errors.push(`duplicate block_id [json-pointer:${at}/block_id]`);
      blockIds.add(block.block_id);
    }
    checkLength(block.block_id, `${at}/block_id`, 255, errors);
    checkBlock(block, at, errors);
  });
  return errors;
}

function checkBlock(block: Record<string, unknown>, at: string, errors: string[]): void {
  switch (block.type) {
    case 'section':
      if (block.text === undefined && block.fields === undefined) {
        errors.push(`must define either \`text\` or \`fields\` [json-pointer:${at}/type]`);
      }
      if (block.text !== undefined) checkText(block.text, `${at}/text`, 3000, errors);
      if (block.fields !== undefined) {
        checkItems(block.fields, `${at}/fields`, 10, errors, (field, fieldAt) =>
          checkText(field, fieldAt, 2000, errors),
        );
      }
      if (block.accessory !== undefined) checkElement(block.accessory, `${at}/accessory`, errors);
      return;
    case 'header':
      checkText(block.text, `${at}/text`, 150, errors, { plainOnly: true });
      return;
    case 'actions':
      checkItems(block.elements, `${at}/elements`, 25, errors, (element, elementAt) =>
        checkElement(element, elementAt, errors),
      );
      return;
    case 'context':
      checkItems(block.elements, `${at}/elements`, 10, errors, (element, elementAt) => {
        if (isObject(element) && element.type === 'image') return;
        checkText(element, elementAt, 3000, errors);
      });
      return;
    case 'input':
      checkText(block.label, `${at}/label`, 2000, errors, { plainOnly: true });
      if (block.hint !== undefined) checkText(block.hint, `${at}/hint`, 2000, errors, { plainOnly: true });
      checkElement(block.element, `${at}/element`, errors);
      return;
    case 'image':
      if (typeof block.alt_text !== 'string') {
        errors.push(`missing required field: alt_text [json-pointer:${at}]`);
      }
      checkLength(block.alt_text, `${at}/alt_text`, 2000, errors);
      return;
    case 'markdown':
      checkLength(block.text, `${at}/text`, 12_000, errors);
      return;
  }
}

function checkElement(element: unknown, at: string, errors: string[]): void {
  if (!isObject(element) || typeof element.type !== 'string') {
    errors.push(`missing required field: type [json-pointer:${at}]`);
    return;
  }
  checkLength(element.action_id, `${at}/action_id`, 255, errors);
  if (element.placeholder !== undefined) {
    checkText(element.placeholder, `${at}/placeholder`, 150, errors, { plainOnly: true });
  }
  if (element.type === 'button') {
    checkText(element.text, `${at}/text`, 75, errors, { plainOnly: true });
    checkLength(element.value, `${at}/value`, 2000, errors);
    checkLength(element.url, `${at}/url`, 3000, errors);
  }
  if (element.options !== undefined) {
    checkItems(
      element.options,
      `${at}/options`,
      element.type === 'overflow' ? 5 : 100,
      errors,
      (option, optionAt) => {
        if (!isObject(option)) {
          errors.push(`missing required field: text [json-pointer:${optionAt}]`);
          return;
        }
        checkText(option.text, `${optionAt}/text`, 75, errors);
        checkLength(option.value, `${optionAt}/value`, 150, errors);
      },
    );
  }
}

function checkItems(
  items: unknown,
  at: string,
  max: number,
  errors: string[],
  check: (item: unknown, itemAt: string) => void,
): void {
  if (!Array.isArray(items)) {
    errors.push(`must be an array [json-pointer:${at}]`);
    return;
  }
  if (items.length > max) errors.push(`no more than ${max} items allowed [json-pointer:${at}]`);
  for (const [index, item] of items.entries()) check(item, `${at}/${index}`);
}

function checkText(
  value: unknown,
  at: string,
  max: number,
  errors: string[],
  { plainOnly = false }: { plainOnly?: boolean } = {},
): void {
  if (!isObject(value) || typeof value.text !== 'string') {
    errors.push(`missing required field: text [json-pointer:${at}]`);
    return;
  }
  const allowed = plainOnly ? ['plain_text'] : ['plain_text', 'mrkdwn'];
  if (typeof value.type !== 'string' || !allowed.includes(value.type)) {
    errors.push(`unsupported type: ${String(value.type)} [json-pointer:${at}/type]`);
  }
  if (value.text.length === 0) errors.push(`must be more than 0 characters [json-pointer:${at}/text]`);
  checkLength(value.text, `${at}/text`, max, errors);
}

function checkLength(value: unknown, at: string, max: number, errors: string[]): void {
  if (typeof value === 'string' && value.length > max) {
    errors.push(`must be less than ${max + 1} characters [json-pointer:${at}]`);
  }
}

function channelJson(channel: EmulatedChannel, withMemberCount = false): Body {
  return {
    id: channel.id,
    name: channel.name,
    name_normalized: channel.name,
    is_channel: !channel.isIm,
    is_group: false,
    is_im: channel.isIm,
    is_mpim: false,
    is_private: channel.isPrivate,
    is_archived: channel.archived,
    is_general: false,
    is_shared: false,
    is_ext_shared: false,
    is_org_shared: false,
    is_member: channel.members.includes(EMULATOR_BOT_USER_ID),
    created: channel.created,
    creator: channel.creator,
    unlinked: 0,
    topic: { ...channel.topic },
    purpose: { value: '', creator: '', last_set: 0 },
    ...(channel.isIm ? { user: channel.members.find((m) => m !== EMULATOR_BOT_USER_ID) } : {}),
    ...(withMemberCount ? { num_members: channel.members.length } : {}),
  };
}

function messageJson(message: EmulatedMessage): Body {
  return {
    type: 'message',
    user: message.user,
    text: message.text,
    ts: message.ts,
    team: EMULATOR_TEAM_ID,
    ...(message.user === EMULATOR_BOT_USER_ID ? { bot_id: EMULATOR_BOT_ID, app_id: EMULATOR_APP_ID } : {}),
    ...(message.blocks ? { blocks: message.blocks } : {}),
    ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
    ...(message.edited ? { edited: message.edited } : {}),
    ...(message.files ? { files: message.files.map((id) => ({ id })) } : {}),
  };
}

function describeOutcome(call: RecordedCall): string {
  if (call.status === null) return 'dropped';
  const body = isObject(call.response) ? call.response : {};
  return body.ok === true ? `${call.status} ok` : `${call.status} ${String(body.error)}`;
}

function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', ...reply.headers });
  res.end(JSON.stringify(reply.body));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The file in an upload body: the first file part of a multipart form, or else the raw bytes. */
async function uploadedFile(contentType: string | undefined, body: Buffer): Promise<Buffer | undefined> {
  if (!contentType?.toLowerCase().startsWith('multipart/form-data')) return body;
  const form = await new Request('http://upload.invalid/', {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
  })
    .formData()
    .catch(() => undefined);
  for (const value of form?.values() ?? []) {
    if (typeof value !== 'string') return Buffer.from(await value.arrayBuffer());
  }
  return undefined;
}

/** Form values arrive as strings, JSON values as their own types. */
function str(args: Args, name: string): string | undefined {
  const value = args[name];
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

function flag(value: unknown): boolean {
  return value === true || value === 'true' || value === '1' || value === 1;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function randomAlnum(length: number): string {
  return Array.from(randomBytes(length), (byte) => ALNUM[byte % ALNUM.length]).join('');
}

function randomId(prefix: string): string {
  return `${prefix}${randomAlnum(10)}`;
}
