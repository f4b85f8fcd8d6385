import type { GroupDirectory } from '../actions/action-policy.js';
import { AppError } from '../errors.js';
import type { Clock } from '../incidents/ports.js';
import type { SlackGateway } from './slack-gateway.js';

const CACHE_MS = 60_000;

/**
 * User-group membership from Slack (`usergroups.users.list`), cached for a minute: a permission
 * check on every click would otherwise cost a Slack call, and membership rarely changes mid-incident.
 */
export class SlackGroupDirectory implements GroupDirectory {
  private readonly cache = new Map<string, { members: readonly string[]; until: number }>();

  constructor(
    private readonly gateway: Pick<SlackGateway, 'userGroupMembers'>,
    private readonly clock: Clock,
  ) {}

  async membersOf(groupId: string): Promise<readonly string[]> {
    const now = this.clock.now().getTime();
    const cached = this.cache.get(groupId);
    if (cached && cached.until > now) return cached.members;
    try {
      const members = await this.gateway.userGroupMembers(groupId);
      this.cache.set(groupId, { members, until: now + CACHE_MS });
      return members;
    } catch (err) {
      throw new AppError(
        'unavailable',
        `Slack did not say who is in <!subteam^${groupId}>, so the permission check could not finish. Try again in a minute.`,
        { cause: err },
      );
    }
  }
}
