import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ActionError } from '../../../src/actions/action-error.js';
import { promptRollback } from '../../../src/actions/types/prompt-rollback.js';
import { type ActionHarness, MemoryCheckpoints, startActionHarness, thrown } from './action-harness.js';

describe('prompt.rollback', () => {
  let h: ActionHarness;
  beforeAll(async () => {
    h = await startActionHarness();
  });
  afterAll(() => h.close());
  beforeEach(() => {
    h.langfuse.requests.length = 0;
    h.recorded.length = 0;
    h.langfuse.seedPrompt('rag-answer', ['v1 text', 'v2 text', 'v3 text'], { production: 3, staging: 2 });
  });

  const patches = () => h.langfuse.requests.filter((request) => request.method === 'PATCH');

  it('previews from → to without writing', async () => {
    const before = h.langfuse.prompt('rag-answer');
    const outcome = await promptRollback.run(
      h.context(promptRollback, { prompt: 'rag-answer' }, { dryRun: true }),
    );

    expect(outcome.changes).toEqual([{ target: 'prompt "rag-answer" production label', from: 3, to: 2 }]);
    expect(outcome.summary).toContain('Would move');
    expect(patches()).toEqual([]);
    expect(h.langfuse.prompt('rag-answer')).toEqual(before);
  });

  it('moves the label to the previous version with Basic auth, and records where it came from', async () => {
    const outcome = await promptRollback.run(h.context(promptRollback, { prompt: 'rag-answer' }));

    expect(outcome.previousState).toEqual({
      prompt: 'rag-answer',
      label: 'production',
      fromVersion: 3,
      toVersion: 2,
    });
    expect(h.langfuse.labelled('rag-answer', 'production')).toBe(2);
    const versions = h.langfuse.prompt('rag-answer')!.versions;
    expect(versions.map((v) => v.labels)).toEqual([[], ['production', 'staging'], ['latest']]);
    expect(patches()).toHaveLength(1);
    expect(patches()[0]).toMatchObject({
      path: '/api/public/v2/prompts/rag-answer/versions/2',
      body: { newLabels: ['production'] },
    });
    const basic = `Basic ${Buffer.from(`${h.langfuse.publicKey}:${h.langfuse.secretKey}`).toString('base64')}`;
    expect(h.langfuse.requests.every((request) => request.headers.authorization === basic)).toBe(true);
  });

  it('rolls back to an explicit version and another label, with folder names encoded', async () => {
    h.langfuse.seedPrompt('support/triage', ['a', 'b', 'c', 'd'], { canary: 4, production: 3 });
    const outcome = await promptRollback.run(
      h.context(promptRollback, { prompt: 'support/triage', to_version: 1, label: 'canary' }),
    );
    expect(outcome.changes).toEqual([{ target: 'prompt "support/triage" canary label', from: 4, to: 1 }]);
    expect(h.langfuse.labelled('support/triage', 'canary')).toBe(1);
    expect(h.langfuse.labelled('support/triage', 'production')).toBe(3);
    expect(patches()[0]?.path).toBe('/api/public/v2/prompts/support%2Ftriage/versions/1');
  });

  it('applies the change once: a second run with the same checkpoints makes no second PATCH', async () => {
    const checkpoints = new MemoryCheckpoints();
    const first = await promptRollback.run(
      h.context(promptRollback, { prompt: 'rag-answer' }, { checkpoints }),
    );
    const requestsAfterFirst = h.langfuse.requests.length;
    const second = await promptRollback.run(
      h.context(promptRollback, { prompt: 'rag-answer' }, { checkpoints }),
    );

    expect(second).toEqual(first);
    expect(patches()).toHaveLength(1);
    expect(h.langfuse.requests).toHaveLength(requestsAfterFirst);
    expect(checkpoints.executed).toEqual(['before', 'patch-label']);
  });

  it('keeps the state read before the change when a run restarts after the PATCH', async () => {
    const checkpoints = new MemoryCheckpoints();
    await promptRollback.run(h.context(promptRollback, { prompt: 'rag-answer' }, { checkpoints }));
    checkpoints.stored.delete('patch-label'); // crashed after the PATCH, before its result was stored
    const retried = await promptRollback.run(
      h.context(promptRollback, { prompt: 'rag-answer' }, { checkpoints }),
    );

    expect(retried.previousState).toMatchObject({ fromVersion: 3, toVersion: 2 });
    expect(h.langfuse.labelled('rag-answer', 'production')).toBe(2);
  });

  it('undo moves the label back exactly', async () => {
    const before = h.langfuse.prompt('rag-answer');
    const outcome = await promptRollback.run(h.context(promptRollback, { prompt: 'rag-answer' }));
    const undone = await promptRollback.undo(
      h.undoContext(promptRollback, { prompt: 'rag-answer' }, outcome.previousState),
    );

    expect(undone.changes).toEqual([{ target: 'prompt "rag-answer" production label', from: 2, to: 3 }]);
    expect(undone.previousState).toEqual({
      prompt: 'rag-answer',
      label: 'production',
      fromVersion: 2,
      toVersion: 3,
    });
    expect(h.langfuse.prompt('rag-answer')).toEqual(before);
  });

  it('fails without retry on a 4xx, with Langfuse’s own message', async () => {
    const err = await thrown(() =>
      promptRollback.run(h.context(promptRollback, { prompt: 'no-such-prompt' })),
    );
    expect(err).toBeInstanceOf(ActionError);
    expect(err).toMatchObject({ integration: 'langfuse', status: 404, retryable: false, kind: 'http' });
    expect((err as ActionError).message).toContain(
      "Prompt not found: 'no-such-prompt' with label 'production'",
    );
  });

  it('fails retryably on a 5xx, and a retry then succeeds', async () => {
    h.langfuse.failNext(503);
    const checkpoints = new MemoryCheckpoints();
    const err = await thrown(() =>
      promptRollback.run(h.context(promptRollback, { prompt: 'rag-answer' }, { checkpoints })),
    );
    expect(err).toMatchObject({ integration: 'langfuse', status: 503, retryable: true });
    expect((err as ActionError).message).toContain('Internal Server Error');

    await promptRollback.run(h.context(promptRollback, { prompt: 'rag-answer' }, { checkpoints }));
    expect(h.langfuse.labelled('rag-answer', 'production')).toBe(2);
  });

  it('refuses when there is no earlier version, and when the target version does not exist', async () => {
    h.langfuse.seedPrompt('fresh', ['only'], { production: 1 });
    const none = await thrown(() => promptRollback.run(h.context(promptRollback, { prompt: 'fresh' })));
    expect(none).toMatchObject({ kind: 'invalid', retryable: false });
    expect((none as Error).message).toContain('no version before v1');

    const missing = await thrown(() =>
      promptRollback.run(
        h.context(promptRollback, { prompt: 'rag-answer', to_version: 9 }, { dryRun: true }),
      ),
    );
    expect(missing).toMatchObject({ status: 404, retryable: false });
    expect(patches()).toEqual([]);
  });

  it('is a no-op when the label is already on the target version', async () => {
    const outcome = await promptRollback.run(
      h.context(promptRollback, { prompt: 'rag-answer', to_version: 3 }),
    );
    expect(outcome.changes).toEqual([]);
    expect(patches()).toEqual([]);
  });

  it('refuses to undo from a previous state it did not record', async () => {
    const err = await thrown(() =>
      promptRollback.undo(h.undoContext(promptRollback, { prompt: 'rag-answer' }, { version: 'x' })),
    );
    expect(err).toMatchObject({ kind: 'invalid', retryable: false });
  });

  it('records requests without credentials', async () => {
    await promptRollback.run(h.context(promptRollback, { prompt: 'rag-answer' }));
    const audit = JSON.stringify(h.recorded);
    expect(h.recorded.map((request) => `${request.method} ${request.status}`)).toEqual([
      'GET 200',
      'GET 200',
      'PATCH 200',
    ]);
    for (const secret of h.secrets()) expect(audit).not.toContain(secret);
    expect(audit).not.toContain(
      Buffer.from(`${h.langfuse.publicKey}:${h.langfuse.secretKey}`).toString('base64'),
    );
  });
});
