import { type AlertOccurrence, type Incident, incidentRef, isOpen } from '../../incidents/incident.js';
import { age, alertCounts, incidentCardMessage, severityBadge, statusBadge } from './incident-card.js';
import { overflowLine } from './limits.js';
import { escapeInline } from './mrkdwn.js';
import { type Block, mrkdwn, type SlackMessage } from './types.js';

// A chat reply is read on a phone as often as not; past this a list stops being scannable.
const INCIDENTS_SHOWN = 20;

/** The open incidents among `incidents`, newest first; shared with the App Home so both agree. */
export function openIncidentsNewestFirst(incidents: readonly Incident[]): Incident[] {
  return incidents
    .filter((incident) => isOpen(incident.status))
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id - a.id);
}

/** One mrkdwn entry per incident: what it is, then how it stands. */
export function incidentListEntry(incident: Incident, now: Date): string {
  const facts = [statusBadge(incident.status), `opened ${age(incident.createdAt, now)}`];
  if (incident.alertsFiring + incident.alertsResolved > 0) facts.splice(1, 0, alertCounts(incident));
  return (
    `${severityBadge(incident.severity)} · *${incidentRef(incident)}* · ${escapeInline(incident.title, 200)}\n` +
    facts.join(' · ')
  );
}

/** The reply to `/aisre list`: the open incidents among `incidents`, newest first. */
export function incidentListMessage(incidents: readonly Incident[], now: Date): SlackMessage {
  const open = openIncidentsNewestFirst(incidents);
  if (open.length === 0) {
    return {
      text: 'No open incidents',
      blocks: [{ type: 'section', text: mrkdwn('✅ No open incidents.') }],
    };
  }
  const shown = open.slice(0, INCIDENTS_SHOWN);
  const blocks: Block[] = [
    { type: 'section', text: mrkdwn(`*${open.length} open incident${open.length === 1 ? '' : 's'}*`) },
    ...shown.map((incident): Block => ({ type: 'section', text: mrkdwn(incidentListEntry(incident, now)) })),
  ];
  if (open.length > shown.length) {
    blocks.push({ type: 'context', elements: [mrkdwn(overflowLine(open.length - shown.length))] });
  }
  const refs = shown.slice(0, 5).map(incidentRef).join(', ');
  return {
    text: `${open.length} open incident${open.length === 1 ? '' : 's'}: ${refs}${open.length > 5 ? ', …' : ''}`,
    blocks,
  };
}

/** The reply to `/aisre status`: the incident card without buttons, which would go stale in an ephemeral. */
export function incidentStatusMessage(incident: Incident, alerts: AlertOccurrence[]): SlackMessage {
  return incidentCardMessage({ incident, alerts, channelId: null, interactive: false });
}
