import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import {
  EMULATOR_APP_ID,
  EMULATOR_BOT_ID,
  EMULATOR_BOT_USER_ID,
  EMULATOR_TEAM_DOMAIN,
  EMULATOR_TEAM_ID,
} from './slack-emulator.js';

/** The deprecated verification token Slack still sends in payloads; Bolt checks signatures instead. */
const VERIFICATION_TOKEN = 'emulated-verification-token';

export interface SlackSignatureHeaders {
  'x-slack-signature': string;
  'x-slack-request-timestamp': string;
}

export function signSlackRequest(
  signingSecret: string,
  rawBody: string,
  timestampSeconds: number = Math.floor(Date.now() / 1000),
): SlackSignatureHeaders {
  const digest = createHmac('sha256', signingSecret)
    .update(`v0:${timestampSeconds}:${rawBody}`)
    .digest('hex');
  return { 'x-slack-signature': `v0=${digest}`, 'x-slack-request-timestamp': String(timestampSeconds) };
}

export interface SlashCommandInput {
  command?: string;
  text: string;
  userId: string;
  channelId: string;
  responseUrl: string;
  triggerId?: string;
  teamId?: string;
  userName?: string;
  channelName?: string;
}

/** Form body of a slash command, field for field as Slack posts it. */
export function slashCommandBody(input: SlashCommandInput): string {
  const teamId = input.teamId ?? EMULATOR_TEAM_ID;
  return new URLSearchParams({
    token: VERIFICATION_TOKEN,
    team_id: teamId,
    team_domain: EMULATOR_TEAM_DOMAIN,
    channel_id: input.channelId,
    channel_name: input.channelName ?? 'general',
    user_id: input.userId,
    user_name: input.userName ?? input.userId.toLowerCase(),
    command: input.command ?? '/aisre',
    text: input.text,
    api_app_id: EMULATOR_APP_ID,
    is_enterprise_install: 'false',
    response_url: input.responseUrl,
    trigger_id: input.triggerId ?? triggerId(),
  }).toString();
}

export interface BlockActionInput {
  action_id: string;
  block_id?: string;
  value?: string;
  selected_option?: { value: string; text?: string };
}

export interface BlockActionsInput {
  userId: string;
  /** Omitted for actions in a modal or the Home tab, which then need `viewId`. */
  channelId?: string;
  messageTs?: string;
  viewId?: string;
  actions: BlockActionInput[];
  /** Merged into the `message` Slack echoes back, e.g. to give handlers the blocks they read. */
  message?: Record<string, unknown>;
  responseUrl?: string;
  triggerId?: string;
}

/** Form body (`payload=<json>`) of a block_actions interaction. */
export function blockActionsBody(input: BlockActionsInput): string {
  const actionTs = slackTs();
  const inMessage = input.channelId !== undefined;
  const payload = {
    type: 'block_actions',
    user: user(input.userId),
    api_app_id: EMULATOR_APP_ID,
    token: VERIFICATION_TOKEN,
    container: inMessage
      ? { type: 'message', message_ts: input.messageTs, channel_id: input.channelId, is_ephemeral: false }
      : { type: 'view', view_id: input.viewId },
    trigger_id: input.triggerId ?? triggerId(),
    team: { id: EMULATOR_TEAM_ID, domain: EMULATOR_TEAM_DOMAIN },
    enterprise: null,
    is_enterprise_install: false,
    ...(inMessage
      ? {
          channel: { id: input.channelId, name: 'general' },
          message: {
            type: 'message',
            user: EMULATOR_BOT_USER_ID,
            bot_id: EMULATOR_BOT_ID,
            app_id: EMULATOR_APP_ID,
            ts: input.messageTs,
            text: '',
            team: EMULATOR_TEAM_ID,
            ...input.message,
          },
        }
      : { view: modalView(input.viewId ?? 'V0EMULATED', 'emulated', '', {}) }),
    state: { values: {} },
    ...(input.responseUrl ? { response_url: input.responseUrl } : {}),
    actions: input.actions.map((action) => ({
      action_id: action.action_id,
      block_id: action.block_id ?? randomBlockId(),
      ...(action.selected_option
        ? {
            type: 'static_select',
            selected_option: {
              text: { type: 'plain_text', text: action.selected_option.text ?? action.selected_option.value },
              value: action.selected_option.value,
            },
          }
        : {
            type: 'button',
            text: { type: 'plain_text', text: action.action_id },
            ...(action.value !== undefined ? { value: action.value } : {}),
          }),
      action_ts: actionTs,
    })),
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/**
 * A plain string is a text input's value, `{ selected }` a static select's choice; anything with a `type`
 * is sent as is.
 */
export type ViewSubmissionValue =
  | string
  | { selected: string; text?: string }
  | ({ type: string } & Record<string, unknown>);

export interface ViewSubmissionInput {
  userId: string;
  callbackId: string;
  values: Record<string, Record<string, ViewSubmissionValue>>;
  privateMetadata?: string;
  viewId?: string;
  triggerId?: string;
}

/** Form body (`payload=<json>`) of a modal submission. */
export function viewSubmissionBody(input: ViewSubmissionInput): string {
  const values = Object.fromEntries(
    Object.entries(input.values).map(([blockId, actions]) => [
      blockId,
      Object.fromEntries(Object.entries(actions).map(([actionId, value]) => [actionId, stateValue(value)])),
    ]),
  );
  const payload = {
    type: 'view_submission',
    team: { id: EMULATOR_TEAM_ID, domain: EMULATOR_TEAM_DOMAIN },
    user: user(input.userId),
    api_app_id: EMULATOR_APP_ID,
    token: VERIFICATION_TOKEN,
    trigger_id: input.triggerId ?? triggerId(),
    view: modalView(input.viewId ?? 'V0EMULATED', input.callbackId, input.privateMetadata ?? '', values),
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export interface EventInput {
  event: Record<string, unknown>;
  eventId?: string;
}

/** JSON body of an Events API `event_callback` envelope. */
export function eventBody(input: EventInput): string {
  const now = Math.floor(Date.now() / 1000);
  return JSON.stringify({
    token: VERIFICATION_TOKEN,
    team_id: EMULATOR_TEAM_ID,
    api_app_id: EMULATOR_APP_ID,
    event: { event_ts: slackTs(), ...input.event },
    type: 'event_callback',
    event_id: input.eventId ?? `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
    event_time: now,
    authorizations: [
      {
        enterprise_id: null,
        team_id: EMULATOR_TEAM_ID,
        user_id: EMULATOR_BOT_USER_ID,
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
    is_ext_shared_channel: false,
    event_context: `4-${randomUUID()}`,
  });
}

export interface PostSignedOptions {
  body: string;
  /** Defaults to JSON for bodies that look like JSON, form encoding otherwise (as Slack does). */
  contentType?: string;
  signingSecret: string;
  timestamp?: number;
  headers?: Record<string, string>;
}

/** POSTs `body` to a Bolt endpoint with a valid Slack signature. */
export async function postSigned(url: string, options: PostSignedOptions): Promise<Response> {
  const contentType =
    options.contentType ??
    (options.body.trimStart().startsWith('{') ? 'application/json' : 'application/x-www-form-urlencoded');
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': contentType,
      ...signSlackRequest(options.signingSecret, options.body, options.timestamp),
      ...options.headers,
    },
    body: options.body,
  });
}

function stateValue(value: ViewSubmissionValue): Record<string, unknown> {
  if (typeof value === 'string') return { type: 'plain_text_input', value };
  if ('selected' in value && typeof value.selected === 'string') {
    return {
      type: 'static_select',
      selected_option: {
        text: {
          type: 'plain_text',
          text: typeof value.text === 'string' ? value.text : value.selected,
          emoji: true,
        },
        value: value.selected,
      },
    };
  }
  return value;
}

function modalView(id: string, callbackId: string, privateMetadata: string, values: Record<string, unknown>) {
  return {
    id,
    team_id: EMULATOR_TEAM_ID,
    type: 'modal',
    blocks: [],
    private_metadata: privateMetadata,
    callback_id: callbackId,
    state: { values },
    hash: `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString('hex')}`,
    title: { type: 'plain_text', text: 'aisre' },
    clear_on_close: false,
    notify_on_close: false,
    close: null,
    submit: { type: 'plain_text', text: 'Submit' },
    previous_view_id: null,
    root_view_id: id,
    app_id: EMULATOR_APP_ID,
    external_id: '',
    app_installed_team_id: EMULATOR_TEAM_ID,
    bot_id: EMULATOR_BOT_ID,
  };
}

function user(id: string) {
  return { id, username: id.toLowerCase(), name: id.toLowerCase(), team_id: EMULATOR_TEAM_ID };
}

function triggerId(): string {
  return `${Date.now()}.${randomDigits(10)}.${randomBytes(16).toString('hex')}`;
}

function slackTs(): string {
  return `${Math.floor(Date.now() / 1000)}.${randomDigits(6)}`;
}

function randomDigits(length: number): string {
  return Array.from(randomBytes(length), (byte) => String(byte % 10)).join('');
}

function randomBlockId(): string {
  return randomBytes(3).toString('base64url');
}
