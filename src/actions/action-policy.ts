import { AppError } from '../errors.js';
import type { ActionRun } from './action-run.js';

/** Who is in a Slack user group (`S…`); the Slack adapter answers it, with a cache. */
export interface GroupDirectory {
  membersOf(groupId: string): Promise<readonly string[]>;
}

export interface ActionPolicySettings {
  /** Slack user (`U…`) or user-group (`S…`) ids allowed to execute; empty means every person. */
  executors: readonly string[];
  /** The same for approving high-risk runs; empty means anyone but the requester. */
  approvers: readonly string[];
}

/**
 * Who may do what with an action run:
 * - low risk runs after one confirmation by a permitted executor;
 * - high risk needs the approval of a permitted approver who is not the person who asked for it;
 * - aisre itself (`system`) only executes runs a runbook marked `auto`, and only low-risk ones.
 * Refusals are `forbidden` AppErrors with a message the person can act on.
 */
export class ActionPolicy {
  constructor(
    private readonly settings: ActionPolicySettings,
    private readonly groups: GroupDirectory,
  ) {}

  async assertMayExecute(userId: string): Promise<void> {
    if (await this.permitted(userId, this.settings.executors)) return;
    throw new AppError(
      'forbidden',
      `You are not allowed to execute actions. Ask someone in ${this.describe(this.settings.executors)}.`,
    );
  }

  async assertMayApprove(userId: string, run: Pick<ActionRun, 'requestedBy'>): Promise<void> {
    if (run.requestedBy === `slack:${userId}`) {
      throw new AppError(
        'forbidden',
        'You asked for this action, so someone else has to approve it: high-risk actions need a second person.',
      );
    }
    if (await this.permitted(userId, this.settings.approvers)) return;
    throw new AppError(
      'forbidden',
      `You are not allowed to approve actions. Ask someone in ${this.describe(this.settings.approvers)}.`,
    );
  }

  /** Whether a run needs a second person before it executes. */
  needsApproval(run: Pick<ActionRun, 'risk'>): boolean {
    return run.risk === 'high';
  }

  private async permitted(userId: string, allowed: readonly string[]): Promise<boolean> {
    if (allowed.length === 0 || allowed.includes(userId)) return true;
    for (const id of allowed) {
      if (!id.startsWith('S')) continue;
      const members = await this.groups.membersOf(id);
      if (members.includes(userId)) return true;
    }
    return false;
  }

  private describe(ids: readonly string[]): string {
    return ids.map((id) => (id.startsWith('S') ? `<!subteam^${id}>` : `<@${id}>`)).join(', ');
  }
}
