/**
 * Safe construction of Slack mrkdwn. Alert labels, titles and descriptions come from outside, and
 * Slack turns `<!channel>`, `<@U…>` and `<url|label>` into pings and links, so every untrusted
 * string is escaped before it is placed in mrkdwn.
 */

/** Escapes the three characters Slack treats as control characters in mrkdwn. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Escapes `text` but keeps mentions of Slack users and user groups (`<@U…>`, `<!subteam^S…>`), for
 * aisre's own messages that name people. Broadcasts such as `<!channel>` stay escaped.
 */
export function escapeKeepingMentions(text: string): string {
  return escapeMrkdwn(text)
    .replace(/&lt;@([UW][A-Z0-9]+)&gt;/g, '<@$1>')
    .replace(/&lt;!subteam\^(S[A-Z0-9]+)&gt;/g, '<!subteam^$1>');
}

/** Shortens `text` to at most `max` characters, ending in `…` when something was cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  let cut = max - 1;
  // A lone surrogate makes the JSON payload invalid UTF-8 for Slack, so never split a pair.
  const last = text.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut -= 1;
  return `${text.slice(0, cut)}…`;
}

/** Collapses newlines, tabs and control characters so that a value cannot break a list line. */
export function singleLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point.
  return text.replace(/[\s\u0000-\u001f\u007f]+/g, ' ').trim();
}

/**
 * Prepares an untrusted value for one line of mrkdwn: flattened, cut to `max` characters before
 * escaping (so an entity such as `&amp;` is never cut in half) and escaped.
 */
export function escapeInline(text: string, max: number): string {
  return escapeMrkdwn(truncate(singleLine(text), max));
}

// Long enough for Prometheus expression URLs, short enough to keep a message within its size budget.
const MAX_LINK_URL_LENGTH = 1000;
const SAFE_URL = /^https?:\/\/[^\s|<>]+$/i;

/**
 * A mrkdwn link `<url|label>`. Only plain http(s) URLs become links: anything else (javascript:,
 * URLs that would break out of the `<…>` syntax, absurdly long ones) is shown as escaped text.
 */
export function link(url: string, label: string): string {
  const safeLabel = escapeInline(label, 200);
  if (SAFE_URL.test(url) && url.length <= MAX_LINK_URL_LENGTH) {
    return `<${url.replace(/&/g, '&amp;')}|${safeLabel}>`;
  }
  return `${safeLabel} (${escapeInline(url, 100)})`;
}

/** `<@U…>` for a real Slack user id; anything else is shown as escaped text and pings nobody. */
export function userMention(userId: string): string {
  return /^[UW][A-Z0-9]+$/.test(userId) ? `<@${userId}>` : escapeInline(userId, 50);
}

/** `<#C…>` for a real Slack channel id; anything else is shown as escaped text. */
export function channelMention(channelId: string): string {
  return /^[CG][A-Z0-9]+$/.test(channelId) ? `<#${channelId}>` : escapeInline(channelId, 50);
}
