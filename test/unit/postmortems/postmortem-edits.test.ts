import { describe, expect, it } from 'vitest';
import type { PostmortemRecord } from '../../../src/postmortems/postmortem.js';
import {
  changedEdits,
  draftPostmortem,
  editableText,
  renderPostmortemMarkdown,
  withModelSummary,
} from '../../../src/postmortems/postmortem-draft.js';
import { generationIncident } from './postmortem-scenarios.js';

const EDITS = {
  summary: 'A prompt change made support answers worse for **31 minutes**; rolling it back fixed it.',
  wentWell: '- The rollback ran on its own\n- Support noticed nothing',
  wentWrong: 'The prompt change shipped without a golden-set run',
  actionItems: '- [x] Add the golden set to the prompt CI job\n- [ ] Canary prompt changes at 5% for 30 min',
};

/** The same incident, later: a new timeline entry and a failed action recorded since. */
function later(record: PostmortemRecord): PostmortemRecord {
  const at = new Date(record.incident.resolvedAt!.getTime() + 60_000);
  return {
    ...record,
    timeline: [
      ...record.timeline,
      {
        id: 999,
        incidentId: record.incident.id,
        at,
        actor: 'slack:U0BOB',
        kind: 'action.failed',
        summary: 'http.webhook (A-10299) failed: webhook answered HTTP 500',
        data: { runId: 10299 },
      },
    ],
    actions: [
      ...record.actions,
      {
        ...record.actions[0]!,
        id: 10299,
        actionId: 'http.webhook',
        status: 'failed',
        outcome: null,
        verification: null,
        error: 'webhook answered HTTP 500',
        requestedAt: at,
      },
    ],
  };
}

describe('responders’ edits', () => {
  it('replace the seeded summary, lessons and action items', () => {
    const draft = draftPostmortem(generationIncident(), EDITS);
    expect(draft.summary).toEqual({ text: EDITS.summary, source: 'edited' });
    expect(draft.wentWell).toEqual({
      source: 'edited',
      items: ['The rollback ran on its own', 'Support noticed nothing'],
    });
    expect(draft.wentWrong.items).toEqual(['The prompt change shipped without a golden-set run']);
    expect(draft.gotLucky.source).toBe('seeded');
    expect(draft.actionItems).toEqual({
      source: 'edited',
      items: [
        { text: 'Add the golden set to the prompt CI job', done: true },
        { text: 'Canary prompt changes at 5% for 30 min', done: false },
      ],
    });

    const markdown = renderPostmortemMarkdown(draft);
    expect(markdown).toContain(`## Summary\n\n${EDITS.summary}\n`);
    expect(markdown).toContain(
      '## Action items\n\n- [x] Add the golden set to the prompt CI job\n- [ ] Canary prompt changes at 5% for 30 min\n',
    );
    // Edited sections lose the "to complete" marker; the untouched one keeps it.
    expect(markdown).toContain('### What went well\n\n- The rollback ran on its own');
    expect(markdown).toContain('### Where we got lucky\n\n_To complete:_');
  });

  it('survive regeneration from a record that has grown', () => {
    const before = renderPostmortemMarkdown(draftPostmortem(generationIncident(), EDITS));
    const after = renderPostmortemMarkdown(draftPostmortem(later(generationIncident()), EDITS));
    expect(after).not.toBe(before);
    expect(after).toContain('http.webhook (A-10299) failed: webhook answered HTTP 500');
    expect(after).toContain('### A-10299 · http.webhook · failed');
    for (const text of [
      '**31 minutes**',
      'Support noticed nothing',
      'without a golden-set run',
      '- [x] Add the golden set',
    ]) {
      expect(after).toContain(text);
    }
    // Seeded sections follow the record: the new failure is a suggested item only where nobody edited.
    const seeded = draftPostmortem(later(generationIncident()), { summary: EDITS.summary });
    expect(seeded.actionItems.items.map((item) => item.text)).toContain(
      'Find out why http.webhook (A-10299) failed and fix the action or its configuration.',
    );
  });

  it('count as unedited when blank', () => {
    const draft = draftPostmortem(generationIncident(), { summary: '  \n', wentWell: '\n- \n' });
    expect(draft.summary.source).toBe('seeded');
    expect(draft.wentWell.source).toBe('seeded');
  });

  it('are only what a responder changed in the modal', () => {
    const draft = draftPostmortem(generationIncident());
    const shown = editableText(draft);
    expect(shown.actionItems.split('\n')[0]).toBe(
      '- [ ] Review and canary prompt diffs like code deployments, with the previous version ready to roll back to.',
    );
    expect(changedEdits(draft, shown)).toEqual({});
    const submitted = {
      ...shown,
      gotLucky: 'Traffic was low on a Sunday',
      wentWell: `${shown.wentWell}  \r\n`,
    };
    expect(changedEdits(draft, submitted)).toEqual({ gotLucky: 'Traffic was low on a Sunday' });
  });

  it('keep HTML and headings out of the document', () => {
    const draft = draftPostmortem(generationIncident(), {
      summary: '# New section\n<img src=x onerror=alert(1)>\n```',
      wentWrong: '# not a heading',
    });
    const markdown = renderPostmortemMarkdown(draft);
    expect(markdown).toContain('\\# New section\n\\<img src=x onerror=alert(1)>\n\\```');
    expect(markdown).toContain('- \\# not a heading');
  });
});

describe('a model-written summary', () => {
  it('replaces the seeded summary, escaped and marked as the model’s', () => {
    const draft = withModelSummary(
      draftPostmortem(generationIncident()),
      'Answers got worse. See [here](http://x).',
    );
    expect(draft.summary.source).toBe('model');
    const markdown = renderPostmortemMarkdown(draft);
    expect(markdown).toContain(
      '## Summary\n\nAnswers got worse. See \\[here\\](http://x).\n\n_Written by a language model from the record; check it against the sections below._',
    );
  });

  it('never replaces a responder’s summary', () => {
    const edited = draftPostmortem(generationIncident(), { summary: 'Ours.' });
    expect(withModelSummary(edited, 'The model’s.')).toBe(edited);
  });
});
