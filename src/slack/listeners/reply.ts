import type { RespondFn } from '@slack/bolt';
import { toAppError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { escapeKeepingMentions } from '../blocks/mrkdwn.js';
import type { SlackMessage } from '../blocks/types.js';

/** Replies only to the person who acted (ephemeral), via the request's response_url. */
export async function replyPrivately(respond: RespondFn, message: SlackMessage | string): Promise<void> {
  const body =
    typeof message === 'string' ? { text: message } : { text: message.text, blocks: message.blocks as never };
  await respond({ response_type: 'ephemeral', replace_original: false, ...body });
}

/** Replies for everyone in the channel to see, e.g. a report the team reviews together. */
export async function replyInChannel(respond: RespondFn, message: SlackMessage): Promise<void> {
  await respond({
    response_type: 'in_channel',
    replace_original: false,
    text: message.text,
    blocks: message.blocks as never,
  });
}

/**
 * The Slack edge of the error taxonomy: the person sees the AppError's message, privately;
 * unexpected failures are logged with their cause and shown as a generic apology.
 */
export async function replyWithError(respond: RespondFn, err: unknown, logger: Logger): Promise<void> {
  const error = toAppError(err);
  if (error.httpStatus >= 500) logger.error({ err }, 'Slack interaction failed');
  await replyPrivately(respond, `:warning: ${escapeKeepingMentions(error.userMessage)}`).catch(
    (replyErr: unknown) => logger.warn({ err: replyErr }, 'could not tell the user about a failure'),
  );
}
