import { describe, expect, it } from 'vitest';
import { ConsoleSlackGateway } from '../../../src/slack/console-slack-gateway.js';

describe('ConsoleSlackGateway.uploadFile', () => {
  it('says what it would upload where, and shows the first 40 lines of the file', async () => {
    const printed: string[] = [];
    const gateway = new ConsoleSlackGateway((text) => printed.push(text));
    const content = Array.from({ length: 60 }, (_, i) => `line ${i + 1} ✓`).join('\n');

    const { fileId } = await gateway.uploadFile({
      channel: 'C0INCIDENTS',
      threadTs: '1700000000.000100',
      filename: 'inc-42-postmortem-v1.md',
      title: 'INC-42 postmortem v1',
      content,
      initialComment: 'Postmortem draft v1',
    });

    expect(fileId).toMatch(/^F/);
    const lines = printed.join('\n').split('\n');
    expect(lines).toContain(
      `  ┌─ Slack would upload inc-42-postmortem-v1.md (${Buffer.byteLength(content)} bytes, "INC-42 postmortem v1") to C0INCIDENTS (thread 1700000000.000100)`,
    );
    expect(lines).toContain('  │ Postmortem draft v1');
    expect(lines).toContain('  │ line 40 ✓');
    expect(lines).not.toContain('  │ line 41 ✓');
    expect(lines.slice(-2)).toEqual(['  │ …', '  └─']);
  });

  it('shows a short file whole, without an ellipsis', async () => {
    const printed: string[] = [];
    await new ConsoleSlackGateway((text) => printed.push(text)).uploadFile({
      channel: 'C0INCIDENTS',
      filename: 'short.md',
      title: 'Short',
      content: '# Short\nDone.',
    });
    expect(printed.join('\n').split('\n').slice(-3)).toEqual(['  │ # Short', '  │ Done.', '  └─']);
  });
});
