import type { Incident } from '../../incidents/incident.js';
import { incidentListEntry, openIncidentsNewestFirst } from './incident-list.js';
import { LIMITS, overflowLine } from './limits.js';
import { ACTION_IDS, type Block, mrkdwn, plainText, type SlackView } from './types.js';

/** The App Home tab: a Declare button and every open incident, newest first, as far as the view allows. */
export function appHomeView(incidents: readonly Incident[], now: Date): SlackView {
  const open = openIncidentsNewestFirst(incidents);
  const blocks: Block[] = [
    { type: 'header', text: plainText('Open incidents') },
    {
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: ACTION_IDS.openDeclareModal,
          text: plainText('Declare incident'),
          style: 'primary',
        },
      ],
    },
    { type: 'divider' },
  ];
  if (open.length === 0) {
    blocks.push({ type: 'section', text: mrkdwn('✅ No open incidents.') });
    return { type: 'home', blocks };
  }
  // One block stays free for the overflow line.
  const room = LIMITS.viewBlocks - blocks.length - 1;
  const shown = open.slice(0, room);
  for (const incident of shown) {
    blocks.push({ type: 'section', text: mrkdwn(incidentListEntry(incident, now)) });
  }
  if (shown.length < open.length) {
    blocks.push({ type: 'context', elements: [mrkdwn(overflowLine(open.length - shown.length))] });
  }
  return { type: 'home', blocks };
}
