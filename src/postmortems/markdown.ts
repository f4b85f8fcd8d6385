/**
 * Markdown built from text aisre does not control. Alert labels and annotations, change
 * summaries, check evidence, integration errors and model output come from outside; placed in a
 * document as they are, `[click](http://evil)` becomes a link, `<script>` raw HTML, `# x` a
 * heading and `| a | b |` a table row. Every such string goes through `markdownInline` (one line)
 * or `markdownBlock` (paragraphs), which make it read as the characters it holds.
 */

// Always escaped: backslashes, code, emphasis, links and images, table pipes, strikethrough and
// GitHub's math. The rest only where it means something, so prose stays readable in the raw
// file: `_` not inside a word (snake_case is never emphasis), `<` where a tag or autolink could
// start (`0.71 < 0.90` stays), `@` opening a name (mentions,
// not e-mail addresses), `&` before an entity.
const SPECIAL =
  /[\\`*[\]|~$]|(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])|<(?=[A-Za-z/!?])|(?<![\p{L}\p{N}_])@(?=[\p{L}\p{N}_])|&(?=#?[A-Za-z0-9]+;)/gu;
// Line breaks, tabs and control characters; plain spaces are left alone, inline they are harmless.
// biome-ignore lint/suspicious/noControlCharactersInRegex: flattening control characters is the point.
const BREAKS = /(?:[^\S ]|[\u0000-\u001f\u007f])+/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f\u2028\u2029]/g;

/** Shortens `text` to `max` characters ending in `…`, never splitting a surrogate pair. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = max - 1;
  const high = text.charCodeAt(end - 1);
  return `${text.slice(0, high >= 0xd800 && high <= 0xdbff ? end - 1 : end)}…`;
}

// A line's start can open a block even inside a list item: a heading, a quote, a list item
// (`- `, `+ `, `1. `) or a setext underline. A run of `#` at its end would close a heading early.
function escapeLine(line: string): string {
  return line
    .replace(SPECIAL, '\\$&')
    .replace(/^[#>+=-]/, '\\$&')
    .replace(/^(\d{1,9})([.)])(?=\s|$)/, '$1\\$2')
    .replace(/(\s)(#+)$/, '$1\\$2');
}

/**
 * Untrusted text for one line of Markdown (a list item, a table cell, a phrase in a sentence):
 * newlines and control characters flattened to spaces, cut to `max` characters, then escaped.
 */
export function markdownInline(text: string, max = 500): string {
  return escapeLine(clip(text.replace(BREAKS, ' ').trim(), max));
}

const MENTION = /<@([UW][A-Z0-9]+)>/;

/**
 * `markdownInline` for text aisre wrote in Slack's syntax around untrusted values (timeline
 * summaries): its user mentions `<@U…>` become `@U…`, everything else is escaped.
 */
export function markdownInlineKeepingMentions(text: string, max = 500): string {
  const flat = clip(text.replace(BREAKS, ' ').trim(), max);
  if (!flat.includes('<@')) return escapeLine(flat);
  return flat
    .split(MENTION)
    .map((part, index) => (index % 2 === 1 ? `@${part}` : escapeLine(part)))
    .join('');
}

/** Untrusted prose as Markdown paragraphs: blank lines separate paragraphs, other breaks flatten. */
export function markdownBlock(text: string, max = 4000): string {
  return clip(text.replace(CONTROL, ''), max)
    .split(/\n[ \t]*\n/)
    .map((paragraph) => markdownInline(paragraph, max))
    .filter((paragraph) => paragraph !== '')
    .join('\n\n');
}

/**
 * Markdown a responder typed (the summary, lessons and action items, edited from Slack). Their
 * lists, links and emphasis stay; what could change the document's outline or smuggle markup in
 * does not: raw HTML, headings, setext underlines and code fences, which would swallow every
 * section after an unclosed one.
 */
export function responderMarkdown(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(CONTROL, '')
    .split('\n')
    .map((line) =>
      line
        .replace(/<(?=[A-Za-z/!?])/g, '\\<')
        .replace(
          /^(\s*)(#|`{3}|~{3}|=+\s*$|-+\s*$)/,
          (_match, indent: string, mark: string) => `${indent}\\${mark}`,
        ),
    )
    .join('\n')
    .trim();
}

const SAFE_URL = /^https?:\/\/[^\s<>"\\]+$/i;
const MAX_URL_LENGTH = 2000;

/**
 * A link to an http(s) URL with an escaped label. Anything else (`javascript:`, absurdly long
 * URLs, URLs with spaces) is shown as escaped text beside the label, never as a link.
 */
export function markdownLink(url: string, label: string): string {
  const text = markdownInline(label, 200);
  if (!SAFE_URL.test(url) || url.length > MAX_URL_LENGTH) return `${text} (${markdownInline(url, 200)})`;
  return `[${text}](${url.replace(/\(/g, '%28').replace(/\)/g, '%29')})`;
}
