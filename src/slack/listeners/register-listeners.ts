import type { App } from '@slack/bolt';
import { DIAGNOSIS_ACTION_IDS } from '../blocks/diagnosis-step.js';
import { ACTION_IDS, VIEW_IDS } from '../blocks/types.js';
import { diagnosisAnswerAction, diagnosisOverrideAction } from './actions/diagnosis-actions.js';
import {
  changeSeverityAction,
  incidentButton,
  openDeclareModalAction,
  startDiagnosisButton,
} from './actions/incident-actions.js';
import { aisreCommand } from './commands/aisre-command.js';
import { dedupeRetries } from './dedupe-retries.js';
import { appHomeOpened } from './events/app-home-opened.js';
import type { ListenerDeps } from './listener-deps.js';
import { declareSubmission } from './views/declare-submission.js';

/** Answer buttons are `diagnosis.answer.<index>`: one action id per button of a block. */
const ANSWER_ACTION = new RegExp(`^${DIAGNOSIS_ACTION_IDS.answerPrefix.replaceAll('.', '\\.')}\\d+$`);

/** Attaches every Slack listener to the Bolt app; the only place that knows all the surfaces. */
export function registerListeners(app: App, deps: ListenerDeps): void {
  app.use(dedupeRetries(deps));
  app.command('/aisre', aisreCommand(deps));
  app.action(
    ACTION_IDS.acknowledge,
    incidentButton(deps, (id, actor) => deps.incidents.acknowledge(id, actor)),
  );
  app.action(ACTION_IDS.startDiagnosis, startDiagnosisButton(deps));
  app.action(
    ACTION_IDS.resolve,
    incidentButton(deps, (id, actor) => deps.incidents.resolve(id, actor)),
  );
  app.action(ACTION_IDS.changeSeverity, changeSeverityAction(deps));
  app.action(ACTION_IDS.openDeclareModal, openDeclareModalAction(deps));
  app.action(ANSWER_ACTION, diagnosisAnswerAction(deps));
  app.action(DIAGNOSIS_ACTION_IDS.override, diagnosisOverrideAction(deps));
  app.view(VIEW_IDS.declare, declareSubmission(deps));
  app.event('app_home_opened', appHomeOpened(deps));
}
