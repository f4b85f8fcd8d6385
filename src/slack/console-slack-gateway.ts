import { renderMessageAsText } from './blocks/text-render.js';
import type { SlackMessage } from './blocks/types.js';
import type { SlackGateway } from './slack-gateway.js';

/**
 * Stands in for Slack when no credentials are configured: every post and update is rendered
 * as text and handed to `print`, so the service shows what it would have posted.
 */
export class ConsoleSlackGateway implements SlackGateway {
  private sequence = 0;

  constructor(private readonly print: (text: string) => void) {}

  private nextTs(): string {
    this.sequence += 1;
    return `${Math.floor(Date.now() / 1000)}.${String(this.sequence).padStart(6, '0')}`;
  }

  private show(heading: string, message: SlackMessage): void {
    const body = renderMessageAsText(message)
      .split('\n')
      .map((line: string) => `  │ ${line}`)
      .join('\n');
    this.print(`\n  ┌─ ${heading}\n${body}\n  └─`);
  }

  async postMessage(args: Parameters<SlackGateway['postMessage']>[0]) {
    const ts = this.nextTs();
    this.show(
      `Slack would post to ${args.channel}${args.threadTs ? ` (thread ${args.threadTs})` : ''}`,
      args.message,
    );
    return { channel: args.channel, ts };
  }

  async updateMessage(args: Parameters<SlackGateway['updateMessage']>[0]) {
    this.show(`Slack would update message ${args.ts} in ${args.channel}`, args.message);
  }

  async createChannel(name: string) {
    this.print(`\n  Slack would create channel #${name}`);
    return { id: name, name };
  }

  async inviteUsers(channel: string, userIds: readonly string[]) {
    this.print(`\n  Slack would invite ${userIds.join(', ')} to ${channel}`);
  }

  async userGroupMembers(_groupId: string): Promise<string[]> {
    return [];
  }
}
