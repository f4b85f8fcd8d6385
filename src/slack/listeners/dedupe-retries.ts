import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import { storableText } from '../../storable.js';
import type { ListenerDeps } from './listener-deps.js';

/** Storable, or a NUL in an id would fail the insert and answer Slack with a 500 before the ack. */
function dedupeKey(body: Record<string, unknown>): string | undefined {
  if (typeof body.event_id === 'string') return `event:${storableText(body.event_id)}`;
  if (typeof body.trigger_id === 'string') return `trigger:${storableText(body.trigger_id)}`;
  return undefined;
}

/**
 * Slack re-sends an event it thinks went unanswered (X-Slack-Retry-Num), and proxies can replay
 * interactions. Each event id and trigger id is processed once, across restarts and replicas.
 */
export function dedupeRetries(
  deps: Pick<ListenerDeps, 'slackStore' | 'clock' | 'logger'>,
): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const key = dedupeKey(args.body as Record<string, unknown>);
    if (key && !(await deps.slackStore.recordInbound(key, deps.clock.now()))) {
      deps.logger.info({ dedupeKey: key }, 'ignored a repeated Slack request');
      if ('ack' in args && typeof args.ack === 'function') await (args.ack as () => Promise<void>)();
      return;
    }
    await args.next();
  };
}
