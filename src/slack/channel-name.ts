import type { Incident } from '../incidents/incident.js';

const MAX_CHANNEL_NAME = 80;

/**
 * `inc-YYYYMMDD-<slug>` within Slack's rules (lowercase letters, digits, hyphens, at most 80).
 * When the name is taken, `attempt` 2 adds `-2`, and later attempts the incident's id, which no
 * other incident's channel carries: in a storm of incidents with the same title each costs at
 * most three `conversations.create` calls, instead of one more than the incident before it, and
 * none is left in a thread because ten numbers were taken.
 */
export function incidentChannelName(
  incident: Pick<Incident, 'id' | 'title' | 'createdAt'>,
  attempt = 1,
): string {
  const date = incident.createdAt.toISOString().slice(0, 10).replaceAll('-', '');
  const prefix = `inc-${date}-`;
  const suffix = takenSuffix(incident.id, attempt);
  const slug =
    incident.title
      .normalize('NFKD')
      .replace(/\p{M}/gu, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'incident';
  const room = MAX_CHANNEL_NAME - prefix.length - suffix.length;
  return `${prefix}${slug.slice(0, room).replace(/-+$/, '')}${suffix}`;
}

function takenSuffix(id: number, attempt: number): string {
  if (attempt === 1) return '';
  if (attempt === 2) return `-${attempt}`;
  return attempt === 3 ? `-${id}` : `-${id}-${attempt}`;
}
