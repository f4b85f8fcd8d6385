import { describe, expect, it } from 'vitest';
import {
  channelMention,
  escapeInline,
  escapeMrkdwn,
  link,
  truncate,
  userMention,
} from '../../../../src/slack/blocks/mrkdwn.js';

describe('escapeMrkdwn', () => {
  it('defuses mentions, broadcasts and links', () => {
    expect(escapeMrkdwn('<!channel> <@U123> <https://evil|click> a&b')).toBe(
      '&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil|click&gt; a&amp;b',
    );
  });
});

describe('truncate', () => {
  it('leaves short text alone and ends cut text with an ellipsis', () => {
    expect(truncate('short', 10)).toBe('short');
    expect(truncate('abcdefghij', 5)).toBe('abcd…');
    expect(truncate('abcdefghij', 5)).toHaveLength(5);
  });

  it('never splits an emoji into a lone surrogate', () => {
    const cut = truncate('ab😀cdef', 4);
    expect(cut).toBe('ab…');
  });
});

describe('escapeInline', () => {
  it('flattens lines and cuts before escaping so no entity is broken', () => {
    expect(escapeInline('a\nb\tc', 20)).toBe('a b c');
    expect(escapeInline('&&&&&&', 3)).toBe('&amp;&amp;…');
  });
});

describe('link', () => {
  it('links http(s) URLs with an escaped label', () => {
    expect(link('https://runbooks.example.com/rag?a=1&b=2', 'Run<book>')).toBe(
      '<https://runbooks.example.com/rag?a=1&amp;b=2|Run&lt;book&gt;>',
    );
  });

  it.each([
    'javascript:alert(1)',
    'https://evil.example|click',
    'https://example.com/<!channel>',
    'https://example.com/a b',
    `https://example.com/${'x'.repeat(2000)}`,
  ])('refuses %s and shows escaped text instead', (url) => {
    const text = link(url, 'Runbook');
    expect(text).not.toMatch(/[<>]/);
    expect(text.startsWith('Runbook (')).toBe(true);
  });
});

describe('mentions', () => {
  it('mentions only real Slack ids', () => {
    expect(userMention('U012ABC')).toBe('<@U012ABC>');
    expect(userMention('W012ABC')).toBe('<@W012ABC>');
    expect(userMention('!channel>')).toBe('!channel&gt;');
    expect(channelMention('C0123')).toBe('<#C0123>');
    expect(channelMention('inc-42-latency')).toBe('inc-42-latency');
  });
});
