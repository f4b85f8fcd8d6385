import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import { OPEN_STATUSES } from '../../../incidents/incident.js';
import { appHomeView } from '../../blocks/app-home.js';
import type { ListenerDeps } from '../listener-deps.js';

type HomeArgs = SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs;

/** Publishes the App Home tab with the open incidents each time someone opens it. */
export function appHomeOpened(deps: ListenerDeps) {
  return async ({ event, client }: HomeArgs): Promise<void> => {
    if (event.tab !== 'home') return;
    try {
      const incidents = await deps.incidents.list({ statuses: OPEN_STATUSES, limit: 100 });
      await client.views.publish({
        user_id: event.user,
        view: appHomeView(incidents, deps.clock.now()) as never,
      });
    } catch (err) {
      deps.logger.warn({ err, user: event.user }, 'could not publish the App Home');
    }
  };
}
