import type { App } from '@slack/bolt';
import { ACTION_PARAMS_VIEW, ACTION_RUN_IDS } from '../blocks/action-run.js';
import { DIAGNOSIS_ACTION_IDS } from '../blocks/diagnosis-step.js';
import { POSTMORTEM_IDS } from '../blocks/postmortem.js';
import { ACTION_IDS, VIEW_IDS } from '../blocks/types.js';
import {
  actionRunButton,
  pickActionAction,
  previewRecommendationAction,
} from './actions/action-run-actions.js';
import { diagnosisAnswerAction, diagnosisOverrideAction } from './actions/diagnosis-actions.js';
import {
  changeSeverityAction,
  incidentButton,
  openDeclareModalAction,
  startDiagnosisButton,
} from './actions/incident-actions.js';
import { editPostmortemAction, redraftPostmortemAction } from './actions/postmortem-actions.js';
import { aisreCommand } from './commands/aisre-command.js';
import { dedupeRetries } from './dedupe-retries.js';
import { appHomeOpened } from './events/app-home-opened.js';
import type { ListenerDeps } from './listener-deps.js';
import { actionParamsSubmission } from './views/action-params-submission.js';
import { declareSubmission } from './views/declare-submission.js';
import { postmortemEditSubmission } from './views/postmortem-edit-submission.js';

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
  app.action(ACTION_RUN_IDS.preview, previewRecommendationAction(deps));
  app.action(ACTION_RUN_IDS.pick, pickActionAction(deps));
  app.action(
    ACTION_RUN_IDS.execute,
    actionRunButton(deps, (id, actor) => deps.actions.execute(id, actor)),
  );
  app.action(
    ACTION_RUN_IDS.approve,
    actionRunButton(deps, (id, actor) => deps.actions.approve(id, actor)),
  );
  app.action(
    ACTION_RUN_IDS.reject,
    actionRunButton(deps, (id, actor) => deps.actions.reject(id, actor)),
  );
  app.action(
    ACTION_RUN_IDS.cancel,
    actionRunButton(deps, (id, actor) => deps.actions.cancel(id, actor)),
  );
  app.action(
    ACTION_RUN_IDS.undo,
    actionRunButton(deps, (id, actor) => deps.actions.undo(id, actor)),
  );
  app.action(POSTMORTEM_IDS.edit, editPostmortemAction(deps));
  app.action(POSTMORTEM_IDS.redraft, redraftPostmortemAction(deps));
  app.view(VIEW_IDS.declare, declareSubmission(deps));
  app.view(POSTMORTEM_IDS.view, postmortemEditSubmission(deps));
  app.view(ACTION_PARAMS_VIEW.callbackId, actionParamsSubmission(deps));
  app.event('app_home_opened', appHomeOpened(deps));
}
