import type { Incident } from '../incidents/incident.js';

const MAX_CHANNEL_NAME = 80;

/**
 * `inc-YYYYMMDD-<slug>` within Slack's rules (lowercase letters, digits, hyphens, at most 80).
 * `attempt` > 1 adds a `-N` suffix for when the name is taken, keeping within the limit.
 */
export function incidentChannelName(incident: Pick<Incident, 'title' | 'createdAt'>, attempt = 1): string {
  const date = incident.createdAt.toISOString().slice(0, 10).replaceAll('-', '');
  const prefix = `inc-${date}-`;
  const suffix = attempt > 1 ? `-${attempt}` : '';
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
