/**
 * A copy of Slack payloads without their plain_text objects, which Slack shows verbatim: what is
 * left is the mrkdwn Slack parses, where an unescaped `<!channel>` would ping and `<url|x>` link.
 */
export function withoutPlainText(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutPlainText);
  if (typeof value !== 'object' || value === null) return value;
  if ((value as { type?: unknown }).type === 'plain_text') return null;
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, withoutPlainText(inner)]));
}
