import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { startDiagnosis } from '../../../diagnosis/start-diagnosis.js';
import { AppError } from '../../../errors.js';
import { OPEN_STATUSES } from '../../../incidents/incident.js';
import { parseSeverity } from '../../../incidents/severity.js';
import { declareIncidentModal } from '../../blocks/declare-modal.js';
import { helpMessage } from '../../blocks/help.js';
import { incidentListMessage, incidentStatusMessage } from '../../blocks/incident-list.js';
import { weeklyReviewMessage } from '../../blocks/weekly-review.js';
import { parseIncidentRef, resolveIncidentId } from '../incident-id.js';
import type { ListenerDeps } from '../listener-deps.js';
import { replyInChannel, replyPrivately, replyWithError } from '../reply.js';

type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

/** `/aisre <subcommand>`: acknowledge at once, then run one domain operation and reply privately. */
export function aisreCommand(deps: ListenerDeps) {
  return async ({ command, ack, respond, client }: CommandArgs): Promise<void> => {
    await ack();
    const [subcommand = 'help', ...rest] = command.text.trim().split(/\s+/).filter(Boolean);
    const actor = { kind: 'slack', userId: command.user_id } as const;
    const now = deps.clock.now();
    try {
      switch (subcommand.toLowerCase()) {
        case 'declare':
        case 'new':
          await client.views.open({
            trigger_id: command.trigger_id,
            view: declareIncidentModal({ channelId: command.channel_id }) as never,
          });
          return;
        case 'list': {
          const incidents = await deps.incidents.list({ statuses: OPEN_STATUSES, limit: 100 });
          await replyPrivately(respond, incidentListMessage(incidents, now));
          return;
        }
        case 'status': {
          const id = await resolveIncidentId(rest[0], command.channel_id, deps.slackStore);
          const [incident, alerts] = await Promise.all([
            deps.incidents.get(id),
            deps.incidents.alerts(id, 200),
          ]);
          await replyPrivately(respond, incidentStatusMessage(incident, alerts));
          return;
        }
        case 'ack':
        case 'acknowledge': {
          const id = await resolveIncidentId(rest[0], command.channel_id, deps.slackStore);
          await replyPrivately(respond, (await deps.incidents.acknowledge(id, actor)).message);
          return;
        }
        case 'resolve': {
          const id = await resolveIncidentId(rest[0], command.channel_id, deps.slackStore);
          await replyPrivately(respond, (await deps.incidents.resolve(id, actor)).message);
          return;
        }
        case 'mitigate':
        case 'mitigated': {
          const id = await resolveIncidentId(rest[0], command.channel_id, deps.slackStore);
          await replyPrivately(respond, (await deps.incidents.mitigate(id, actor)).message);
          return;
        }
        case 'cancel': {
          const id = await resolveIncidentId(rest[0], command.channel_id, deps.slackStore);
          await replyPrivately(respond, (await deps.incidents.cancel(id, actor)).message);
          return;
        }
        case 'sev':
        case 'severity': {
          // Both `/aisre sev INC-4 SEV1` and, in an incident channel, `/aisre sev SEV1`.
          const explicit = parseIncidentRef(rest[0]) !== undefined && rest.length > 1;
          const severity = parseSeverity(explicit ? (rest[1] ?? '') : (rest[0] ?? ''));
          if (!severity) {
            throw new AppError(
              'validation_failed',
              'Give a severity from SEV1 to SEV4, e.g. `/aisre sev INC-42 SEV2`.',
            );
          }
          const id = await resolveIncidentId(
            explicit ? rest[0] : undefined,
            command.channel_id,
            deps.slackStore,
          );
          await replyPrivately(respond, (await deps.incidents.changeSeverity(id, severity, actor)).message);
          return;
        }
        case 'diagnose': {
          // `/aisre diagnose [INC-n] [runbook]`, the incident implied inside its channel.
          const explicit = parseIncidentRef(rest[0]) !== undefined;
          const id = await resolveIncidentId(
            explicit ? rest[0] : undefined,
            command.channel_id,
            deps.slackStore,
          );
          const runbook = explicit ? rest[1] : rest[0];
          const result = await startDiagnosis(deps, id, actor, runbook);
          await replyPrivately(respond, result.message);
          return;
        }
        case 'postmortem':
        case 'pm': {
          const id = await resolveIncidentId(rest[0], command.channel_id, deps.slackStore);
          const version = await deps.postmortems.draft(id, actor, 'requested');
          await replyPrivately(
            respond,
            `Postmortem v${version.version} of INC-${id} drafted. It is posted in the incident's channel with the full document as a file, and served at \`GET /api/incidents/${id}/postmortem.md\`.`,
          );
          return;
        }
        case 'report':
        case 'review': {
          const days = rest[0] === undefined ? 7 : Number(rest[0]);
          if (!Number.isInteger(days) || days < 1 || days > 90) {
            throw new AppError(
              'validation_failed',
              'Give the number of days from 1 to 90, e.g. `/aisre report 7`.',
            );
          }
          await replyInChannel(respond, weeklyReviewMessage(await deps.postmortems.review(days)));
          return;
        }
        case 'help':
          await replyPrivately(respond, helpMessage());
          return;
        default:
          await replyPrivately(respond, {
            ...helpMessage(),
            text: `Unknown subcommand "${subcommand}".`,
          });
      }
    } catch (err) {
      await replyWithError(respond, err, deps.logger);
    }
  };
}
