import { type Incident, incidentRef } from '../../incidents/incident.js';
import { formatWhen, incidentSummaryLine, severityBadge, statusBadge } from './incident-card.js';
import { channelMention, escapeInline } from './mrkdwn.js';
import { mrkdwn, type SlackMessage } from './types.js';

/** What the announcement needs; `channelId` is null until the incident channel exists. */
export interface IncidentAnnouncementView {
  incident: Incident;
  channelId: string | null;
}

/**
 * The compact post in the shared incidents channel: enough to judge the incident at a glance and a
 * way into its own channel, where the full card lives.
 */
export function incidentAnnouncementMessage(view: IncidentAnnouncementView): SlackMessage {
  const { incident } = view;
  const headline = `${severityBadge(incident.severity)} · *${incidentRef(incident)}* · ${escapeInline(incident.title, 300)}`;
  const facts = [statusBadge(incident.status)];
  // No live tallies here: in a storm they would edit every post in the shared channel every few
  // seconds. The card in the incident's channel carries them; this says only when all are over.
  if (incident.alertsFiring === 0 && incident.alertsResolved > 0) facts.push('all alerts resolved');
  if (view.channelId) facts.push(`Join ${channelMention(view.channelId)}`);
  const service = incident.service ? ` · service ${escapeInline(incident.service, 80)}` : '';
  return {
    text: incidentSummaryLine(incident, { counts: false }),
    blocks: [
      { type: 'section', text: mrkdwn(`${headline}\n${facts.join(' · ')}`) },
      { type: 'context', elements: [mrkdwn(`Opened ${formatWhen(incident.createdAt)}${service}`)] },
    ],
  };
}
