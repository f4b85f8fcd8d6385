import type { SlackMessage } from './blocks/types.js';

/**
 * The Slack Web API calls aisre's delivery makes, behind a port so that delivery works the same
 * against Slack, the test emulator, or the console when no credentials are configured.
 */
export interface SlackGateway {
  postMessage(args: {
    channel: string;
    message: SlackMessage;
    threadTs?: string;
  }): Promise<{ channel: string; ts: string }>;
  updateMessage(args: { channel: string; ts: string; message: SlackMessage }): Promise<void>;
  createChannel(name: string): Promise<{ id: string; name: string }>;
  inviteUsers(channel: string, userIds: readonly string[]): Promise<void>;
  userGroupMembers(groupId: string): Promise<string[]>;
  /**
   * Shares a text file (a postmortem, say) in `channel`, or in the thread under `threadTs`.
   * `channel` must be a channel id: Slack's file sharing does not resolve names.
   */
  uploadFile(args: {
    channel: string;
    threadTs?: string;
    filename: string;
    title: string;
    content: string;
    initialComment?: string;
  }): Promise<{ fileId: string }>;
}

/** Slack error codes that mean "we may not create channels here": fall back to a thread. */
export const CHANNEL_CREATION_FORBIDDEN = new Set([
  'restricted_action',
  'missing_scope',
  'not_allowed_token_type',
  'team_access_not_granted',
  'ekm_access_denied',
]);

/** A failed Slack call. `retryable` failures are retried by the outbox; the rest are final. */
export class SlackCallError extends Error {
  constructor(
    readonly method: string,
    readonly slackError: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(`${method} failed: ${slackError}`);
    this.name = 'SlackCallError';
  }
}
