import type { App } from '@slack/bolt';
import { ACTION_IDS, VIEW_IDS } from '../blocks/types.js';
import { changeSeverityAction, incidentButton, openDeclareModalAction } from './actions/incident-actions.js';
import { aisreCommand } from './commands/aisre-command.js';
import { dedupeRetries } from './dedupe-retries.js';
import { appHomeOpened } from './events/app-home-opened.js';
import type { ListenerDeps } from './listener-deps.js';
import { declareSubmission } from './views/declare-submission.js';

/** Attaches every Slack listener to the Bolt app; the only place that knows all the surfaces. */
export function registerListeners(app: App, deps: ListenerDeps): void {
  app.use(dedupeRetries(deps));
  app.command('/aisre', aisreCommand(deps));
  app.action(
    ACTION_IDS.acknowledge,
    incidentButton(deps, (id, actor) => deps.incidents.acknowledge(id, actor)),
  );
  app.action(
    ACTION_IDS.startDiagnosis,
    incidentButton(deps, (id, actor) => deps.incidents.startInvestigation(id, actor)),
  );
  app.action(
    ACTION_IDS.resolve,
    incidentButton(deps, (id, actor) => deps.incidents.resolve(id, actor)),
  );
  app.action(ACTION_IDS.changeSeverity, changeSeverityAction(deps));
  app.action(ACTION_IDS.openDeclareModal, openDeclareModalAction(deps));
  app.view(VIEW_IDS.declare, declareSubmission(deps));
  app.event('app_home_opened', appHomeOpened(deps));
}
