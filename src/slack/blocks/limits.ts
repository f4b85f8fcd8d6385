/** Slack's documented Block Kit limits; exceeding any of them makes Slack reject the whole message. */
export const LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  sectionText: 3000,
  fieldText: 2000,
  headerText: 150,
  buttonText: 75,
  contextElements: 10,
  actionsElements: 25,
  messageText: 40000,
} as const;

/**
 * Our own ceiling for `JSON.stringify(blocks)`. Slack refuses messages whose blocks are too large
 * in total even when every block is within its own limit, so builders stay well below that.
 */
export const MESSAGE_JSON_BUDGET = 11000;

/** The line that replaces the items that did not fit. */
export function overflowLine(hidden: number): string {
  return `…and ${hidden} more`;
}

/**
 * Takes items in order while they fit in `maxChars` (joined by newlines) and `maxItems`, and ends
 * with `…and N more` when some were left out. Items are never split: callers shorten them first,
 * because cutting escaped mrkdwn could break an entity or a mention. `total` counts the items
 * there are in all, for callers that pass only the first of them.
 */
export function listWithOverflow(
  items: readonly string[],
  maxChars: number,
  maxItems: number,
  total = items.length,
): string[] {
  const lines: string[] = [];
  let used = 0;
  for (const item of items) {
    if (lines.length >= maxItems) break;
    const cost = (lines.length > 0 ? 1 : 0) + item.length;
    const hiddenAfter = total - lines.length - 1;
    const reserve = hiddenAfter > 0 ? 1 + overflowLine(hiddenAfter).length : 0;
    if (used + cost + reserve > maxChars) break;
    lines.push(item);
    used += cost;
  }
  if (lines.length < total) lines.push(overflowLine(total - lines.length));
  return lines;
}
