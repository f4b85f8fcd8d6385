import { describe, expect, it } from 'vitest';
import {
  markdownBlock,
  markdownInline,
  markdownLink,
  responderMarkdown,
} from '../../../src/postmortems/markdown.js';
import { draftPostmortem, renderPostmortemMarkdown } from '../../../src/postmortems/postmortem-draft.js';
import { buildRecord, result } from './postmortem-fixtures.js';

/** Every trick an alert author could try, in one string. */
const HOSTILE =
  '[click](http://evil.example) ![img](http://evil.example/x.png) <script>alert(1)</script>\n# heading\n| a | b |\n@channel **bold** `code` <http://evil.example>\n- item\n> quote';

function hostileRecord() {
  return buildRecord({
    incident: { id: 200, title: `# ${HOSTILE}`, layerHint: 'retrieval', service: 'rag|api' },
    alerts: [
      {
        alertname: 'Hostile|Alert',
        labels: { service: 'rag|api', team: HOSTILE, '[key](http://evil.example)': 'v' },
        annotations: { summary: HOSTILE },
      },
      { alertname: 'Quiet', labels: { service: 'rag|api' }, annotations: { description: `\n\n${HOSTILE}` } },
    ],
    changes: [
      {
        kind: 'prompt',
        from: 'v1 | x',
        to: '<b>v2</b>',
        author: '@channel',
        after: -30,
        summary: HOSTILE,
        link: 'javascript:alert(1)',
      },
    ],
    acknowledged: { after: 3, by: 'U0ALICE' },
    diagnosis: {
      after: 2,
      steps: [
        {
          node: 'triage',
          after: 2,
          reason: HOSTILE,
          results: {
            retrieval_hit: result(
              'fail',
              HOSTILE,
              { [HOSTILE]: HOSTILE },
              'http://prometheus.example/graph?g0.expr=up)',
            ),
          },
        },
        { node: 'retrieval', after: 3, answer: { label: HOSTILE, by: 'U0ALICE' } },
        { node: 'index_stale', after: 4 },
      ],
      concludedAfter: 4,
    },
    actions: [
      {
        action: 'http.webhook',
        params: { webhook: HOSTILE },
        status: 'failed',
        requestedBy: 'U0ALICE',
        requestedAfter: 5,
        executedAfter: 5,
        error: HOSTILE,
      },
    ],
  });
}

const HEADINGS = [
  /^# INC-200: /,
  /^## (Summary|Severity and incident class|Impact|Detection|Diagnosis path|Root cause layer and hypothesis|Changes in the window|Actions taken|Full timeline|Lessons|Action items)$/,
  /^### (Key times|Durations|Alerts involved|Quality and cost|What went well|What went wrong|Where we got lucky)$/,
  /^### Step \d+ · [^#]+$/,
  /^### A-\d+ · http\.webhook · failed$/,
];
const unescaped = (pattern: string) => new RegExp(`(?<!\\\\)${pattern}`);

describe('untrusted text in the postmortem Markdown', () => {
  const markdown = renderPostmortemMarkdown(draftPostmortem(hostileRecord()));
  const lines = markdown.split('\n');

  it('creates no heading of its own', () => {
    const headings = lines.filter((line) => /^\s{0,3}#{1,6}(\s|$)/.test(line));
    for (const heading of headings)
      expect(
        HEADINGS.some((allowed) => allowed.test(heading)),
        heading,
      ).toBe(true);
    // Nested in a list item, a `# ` would still be a heading.
    expect(lines.filter((line) => /^\s*- #/.test(line))).toEqual([]);
  });

  it('creates no link, image, HTML, emphasis, code, quote or mention', () => {
    expect(markdown).not.toMatch(unescaped('\\[click\\]'));
    expect(markdown).not.toMatch(unescaped('!\\[img'));
    expect(markdown).not.toMatch(unescaped('<script'));
    expect(markdown).not.toMatch(unescaped('<b>'));
    expect(markdown).not.toMatch(unescaped('<http'));
    expect(markdown).not.toMatch(unescaped('\\*\\*bold'));
    expect(markdown).not.toMatch(unescaped('`code'));
    expect(markdown).not.toMatch(unescaped('@channel'));
    expect(markdown).not.toContain('](javascript:');
    expect(markdown).not.toMatch(unescaped('\\]\\(http://evil'));
    expect(markdown).toContain('[Prometheus graph](http://prometheus.example/graph?g0.expr=up%29)');
    expect(lines.filter((line) => /^\s*>/.test(line))).toEqual([]);
  });

  it('keeps every table row to its columns', () => {
    let columns = 0;
    for (const [index, line] of lines.entries()) {
      if (!line.startsWith('|')) {
        columns = 0;
        continue;
      }
      const pipes = line.match(/(?<!\\)\|/g)?.length ?? 0;
      if (columns === 0) columns = pipes;
      expect(pipes, `line ${index + 1}: ${line}`).toBe(columns);
    }
  });

  it('keeps untrusted text on its own line, still readable', () => {
    // Flattened newlines: the hostile `- item` and `> quote` never start a line.
    expect(lines.filter((line) => /^\s*(- item|\\?> quote|\| a \| b)/.test(line))).toEqual([]);
    expect(markdown).toContain('\\[click\\](http://evil.example)');
    expect(markdown).toContain('\\<script>alert(1)\\</script>');
    expect(markdown).toContain('\\@channel');
  });

  it('never links a URL that is not plain http(s)', () => {
    expect(markdownLink('javascript:alert(1)', 'x')).toBe('x (javascript:alert(1))');
    expect(markdownLink('http://a.example/q?(x)', 'graph')).toBe('[graph](http://a.example/q?%28x%29)');
    expect(markdownLink('http://a.example/ x', '[y](z)')).toBe('\\[y\\](z) (http://a.example/ x)');
  });
});

describe('markdownInline', () => {
  it.each([
    ['# heading', '\\# heading'],
    ['title #', 'title \\#'],
    ['1. first', '1\\. first'],
    ['0.93', '0.93'],
    ['- item', '\\- item'],
    ['> quote', '\\> quote'],
    ['a | b', 'a \\| b'],
    ['system_fingerprint', 'system_fingerprint'],
    ['_emphasis_', '\\_emphasis\\_'],
    ['0.71 < 0.90', '0.71 < 0.90'],
    ['<img src=x>', '\\<img src=x>'],
    ['ping @here', 'ping \\@here'],
    ['ai_incident@v7, ops@example.com', 'ai_incident@v7, ops@example.com'],
    ['&lt;script&gt;', '\\&lt;script\\&gt;'],
    ['one\ntwo\r\n\tthree', 'one two three'],
    ['$x$ ~~y~~', '\\$x\\$ \\~\\~y\\~\\~'],
  ])('%j → %j', (input, expected) => {
    expect(markdownInline(input)).toBe(expected);
  });

  it('cuts long text before escaping, so an escape is never split', () => {
    expect(markdownInline('abc[def', 4)).toBe('abc…');
    expect(markdownInline('ab[def', 4)).toBe('ab\\[…');
  });

  it('keeps paragraphs apart in blocks, flattening each', () => {
    expect(markdownBlock('First line\n# not a heading\n\n- second')).toBe(
      'First line # not a heading\n\n\\- second',
    );
  });
});

describe('responderMarkdown', () => {
  it('keeps responders’ formatting but not HTML, headings or fences', () => {
    const text =
      'We **rolled back** [the prompt](https://x.example).\n# Heading\n```\n<script>x</script>\n---';
    expect(responderMarkdown(text)).toBe(
      'We **rolled back** [the prompt](https://x.example).\n\\# Heading\n\\```\n\\<script>x\\</script>\n\\---',
    );
  });
});
