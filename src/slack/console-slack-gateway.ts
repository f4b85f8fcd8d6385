import { renderMessageAsText } from './blocks/text-render.js';
import type { SlackMessage } from './blocks/types.js';
import type { SlackGateway } from './slack-gateway.js';

/** How much of an uploaded file the console shows. */
const PREVIEW_LINES = 40;

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
    this.frame(heading, renderMessageAsText(message).split('\n'));
  }

  private frame(heading: string, lines: readonly string[]): void {
    const body = lines.map((line) => `  │ ${line}`).join('\n');
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

  /** Shows the file's head, so `npm run demo` shows what the postmortem would say. */
  async uploadFile(args: Parameters<SlackGateway['uploadFile']>[0]) {
    this.sequence += 1;
    const bytes = Buffer.byteLength(args.content, 'utf8');
    const where = `${args.channel}${args.threadTs ? ` (thread ${args.threadTs})` : ''}`;
    const lines = args.content.split('\n');
    const head = lines.slice(0, PREVIEW_LINES);
    this.frame(`Slack would upload ${args.filename} (${bytes} bytes, "${args.title}") to ${where}`, [
      ...(args.initialComment ? [args.initialComment, ''] : []),
      ...head,
      ...(lines.length > head.length ? ['…'] : []),
    ]);
    return { fileId: `F${String(this.sequence).padStart(10, '0')}` };
  }
}
