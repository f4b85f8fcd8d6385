import { escapeMrkdwn } from './mrkdwn.js';
import { mrkdwn, type SlackMessage } from './types.js';

const COMMANDS: ReadonlyArray<[usage: string, purpose: string]> = [
  ['/aisre declare', 'Declare an incident (opens a form)'],
  ['/aisre list', 'List open incidents'],
  ['/aisre status [INC-id]', 'Show where an incident stands'],
  ['/aisre ack [INC-id]', 'Acknowledge an incident'],
  ['/aisre sev <INC-id> <SEV1-4>', 'Change the severity, e.g. `/aisre sev INC-42 SEV2`'],
  [
    '/aisre diagnose [INC-id] [runbook]',
    'Start the diagnosis tree (the runbook matching the alerts by default)',
  ],
  ['/aisre mitigate [INC-id]', 'Mark an incident mitigated: impact stopped, cause not yet fixed'],
  ['/aisre resolve [INC-id]', 'Resolve an incident'],
  ['/aisre cancel [INC-id]', 'Cancel an incident that was not one (a false alarm)'],
  [
    '/aisre postmortem [INC-id]',
    'Draft the postmortem now (it is drafted on its own when the incident is resolved)',
  ],
  [
    '/aisre report [days]',
    'Post a review of the last 7 (or 1-90) days: layers, classes, times, actions, repeat offenders',
  ],
  ['/aisre help', 'Show this help'],
];

/** The reply to `/aisre help` and to commands aisre does not understand. */
export function helpMessage(): SlackMessage {
  // Escaped because Slack would read a raw `<INC-id>` as a link.
  const lines = COMMANDS.map(([usage, purpose]) => `\`${escapeMrkdwn(usage)}\`  ${purpose}`);
  return {
    text: 'aisre commands: declare, list, status, ack, sev, diagnose, mitigate, resolve, cancel, postmortem, report, help',
    blocks: [
      { type: 'section', text: mrkdwn('*aisre commands*') },
      { type: 'section', text: mrkdwn(lines.join('\n')) },
      {
        type: 'context',
        elements: [
          mrkdwn(
            'Inside an incident channel the INC-id can be left out: commands apply to that channel’s incident.',
          ),
        ],
      },
    ],
  };
}
