import type {
  Block,
  InteractiveElement,
  PlainTextInputElement,
  SlackMessage,
  SlackView,
  TextObject,
} from './types.js';

const RULE = '─'.repeat(40);

/** Turns one `<…>` control sequence into what a reader sees in Slack. */
function renderControl(inner: string): string {
  const bar = inner.indexOf('|');
  const target = bar === -1 ? inner : inner.slice(0, bar);
  const label = bar === -1 ? null : inner.slice(bar + 1);
  if (target.startsWith('#')) return label ? `#${label}` : target;
  if (target.startsWith('@')) return target;
  // `<!date^…|fallback>` and `<!subteam^…|@team>` show their label, `<!here>` reads as `@here`.
  if (target.startsWith('!')) return label ?? `@${target.slice(1)}`;
  return label ? `${label} (${target})` : target;
}

/** mrkdwn as plain text: links spelled out, bold and italics dropped, entities decoded. */
function mrkdwnToText(text: string): string {
  return (
    text
      // Entities are decoded last, so escaped `&lt;…&gt;` from alerts can never turn into a link here.
      .replace(/<([^<>]*)>/g, (_match, inner: string) => renderControl(inner))
      .replace(/(^|[\s(])\*([^*\n]+)\*(?=$|[\s).,:;!?])/gm, '$1$2')
      .replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,:;!?])/gm, '$1$2')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&')
  );
}

function textOf(object: TextObject): string {
  return object.type === 'mrkdwn' ? mrkdwnToText(object.text) : object.text;
}

function renderElement(element: InteractiveElement | PlainTextInputElement): string {
  switch (element.type) {
    case 'button':
      return `[ ${element.text.text} ]`;
    case 'static_select': {
      const choice = element.initial_option?.text.text;
      const label = element.placeholder?.text;
      return `[ ${[label, choice].filter(Boolean).join(': ') || 'Choose'} ▾ ]`;
    }
    case 'plain_text_input':
      return `[ ${element.placeholder?.text ?? '…'} ]`;
  }
}

// Fields are label/value pairs by convention (`*Status*\nTriggered`), read best on one line.
function renderField(field: TextObject): string {
  const [label = '', ...value] = textOf(field).split('\n');
  return value.length > 0 ? `${label}: ${value.join(' ')}` : label;
}

function renderBlock(block: Block): string[] {
  switch (block.type) {
    case 'header':
      return [block.text.text, '═'.repeat([...block.text.text].length)];
    case 'section': {
      const lines: string[] = [];
      if (block.text) lines.push(textOf(block.text));
      if (block.fields) lines.push(...block.fields.map(renderField));
      if (block.accessory) lines.push(renderElement(block.accessory));
      return lines;
    }
    case 'context':
      return [block.elements.map(textOf).join('  ·  ')];
    case 'divider':
      return [RULE];
    case 'actions':
      return [block.elements.map(renderElement).join('  ')];
    case 'input':
      return [`${block.label.text}${block.optional ? ' (optional)' : ''}: ${renderElement(block.element)}`];
  }
}

/**
 * Renders a message or view as terminal text, for the demo and for running without Slack
 * credentials: it shows what aisre would post, buttons included.
 */
export function renderMessageAsText(message: SlackMessage | SlackView): string {
  const lines: string[] = [];
  if ('type' in message && message.type === 'modal') {
    lines.push(`▛ ${message.title.text} ▜`, '');
  }
  if (!('type' in message) && message.blocks.length === 0) lines.push(mrkdwnToText(message.text));
  for (const block of message.blocks) lines.push(...renderBlock(block));
  if ('type' in message && message.type === 'modal') {
    const buttons = [message.close, message.submit].filter((button) => button !== undefined);
    if (buttons.length > 0) lines.push('', buttons.map((button) => `[ ${button.text} ]`).join('  '));
  }
  return lines.join('\n');
}
