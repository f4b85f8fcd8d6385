import { webApi } from '@slack/bolt';
import type { Logger } from '../logger.js';
import { SlackCallError, type SlackGateway } from './slack-gateway.js';

/** Slack platform errors that are worth retrying; everything else will fail the same way again. */
const TRANSIENT_PLATFORM_ERRORS = new Set([
  'ratelimited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'team_added_to_org',
]);

interface WebApiError {
  code?: string;
  data?: { error?: string };
  retryAfter?: number;
  statusCode?: number;
  message?: string;
}

/**
 * Builds a WebClient that never retries or waits on its own: the durable outbox owns retries, so
 * a rate limit or an outage becomes a rescheduled row rather than a blocked request.
 */
export function createWebClient(options: {
  token: string;
  apiUrl?: string;
  logger: Logger;
}): webApi.WebClient {
  return new webApi.WebClient(options.token, {
    slackApiUrl: options.apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 10_000,
    logLevel: webApi.LogLevel.ERROR,
  });
}

/** Translates WebClient failures into SlackCallError, reporting each to `onError` for metrics. */
export function toSlackCallError(method: string, err: unknown): SlackCallError {
  const e = err as WebApiError;
  switch (e.code) {
    case 'slack_webapi_platform_error': {
      const slackError = e.data?.error ?? 'unknown_error';
      return new SlackCallError(method, slackError, TRANSIENT_PLATFORM_ERRORS.has(slackError));
    }
    case 'slack_webapi_rate_limited_error':
      return new SlackCallError(method, 'ratelimited', true, (e.retryAfter ?? 1) * 1000);
    case 'slack_webapi_http_error':
      return new SlackCallError(method, `http_${e.statusCode ?? 'error'}`, (e.statusCode ?? 500) >= 500);
    // The SDK refused the upload's arguments before sending anything: a retry would be refused too.
    case 'slack_webapi_file_upload_invalid_args_error':
    case 'slack_webapi_file_upload_read_file_data_error':
      return new SlackCallError(method, 'invalid_arguments', false);
    default:
      return new SlackCallError(method, 'request_failed', true);
  }
}

/** The SlackGateway over Slack's Web API. */
export class WebSlackGateway implements SlackGateway {
  constructor(
    private readonly client: webApi.WebClient,
    private readonly onError: (method: string, error: SlackCallError) => void = () => {},
  ) {}

  private async call<T>(method: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const error = toSlackCallError(method, err);
      this.onError(method, error);
      throw error;
    }
  }

  async postMessage(args: Parameters<SlackGateway['postMessage']>[0]) {
    const result = await this.call('chat.postMessage', () =>
      this.client.chat.postMessage({
        channel: args.channel,
        text: args.message.text,
        blocks: args.message.blocks as never,
        ...(args.threadTs ? { thread_ts: args.threadTs } : {}),
        unfurl_links: false,
        unfurl_media: false,
      }),
    );
    return { channel: result.channel ?? args.channel, ts: result.ts ?? '' };
  }

  async updateMessage(args: Parameters<SlackGateway['updateMessage']>[0]) {
    await this.call('chat.update', () =>
      this.client.chat.update({
        channel: args.channel,
        ts: args.ts,
        text: args.message.text,
        blocks: args.message.blocks as never,
      }),
    );
  }

  async createChannel(name: string) {
    const result = await this.call('conversations.create', () => this.client.conversations.create({ name }));
    return { id: result.channel?.id ?? '', name: result.channel?.name ?? name };
  }

  async inviteUsers(channel: string, userIds: readonly string[]) {
    await this.call('conversations.invite', () =>
      this.client.conversations.invite({ channel, users: userIds.join(',') }),
    );
  }

  async userGroupMembers(groupId: string) {
    const result = await this.call('usergroups.users.list', () =>
      this.client.usergroups.users.list({ usergroup: groupId }),
    );
    return result.users ?? [];
  }

  /**
   * Uses the SDK's uploadV2, which runs Slack's external upload flow (files.getUploadURLExternal,
   * POST to the upload URL, files.completeUploadExternal); files.upload is retired. A failure at
   * any step fails the whole call, and a retry starts over: Slack discards uploads never completed.
   */
  async uploadFile(args: Parameters<SlackGateway['uploadFile']>[0]) {
    const destination = args.threadTs
      ? { channel_id: args.channel, thread_ts: args.threadTs }
      : { channel_id: args.channel };
    const result = await this.call('files.uploadV2', () =>
      this.client.filesUploadV2({
        ...destination,
        filename: args.filename,
        title: args.title,
        content: args.content,
        ...(args.initialComment ? { initial_comment: args.initialComment } : {}),
      }),
    );
    return { fileId: result.files[0]?.files?.[0]?.id ?? '' };
  }
}
