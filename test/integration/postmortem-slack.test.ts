import { afterEach, describe, expect, it } from 'vitest';
import { type ActionStand, AGENT_KEY, PROMPT, startActionStand } from '../support/action-support.js';
import { LLM_STAND_IN_KEY, type LlmStandIn, startLlmStandIn } from '../support/llm-stand-in.js';
import type { EmulatedMessage } from '../support/slack-emulator.js';
import {
  actionsBlock,
  blocksOf,
  clickOn,
  element,
  openIncident,
  responseUrl,
  type SlackFlow,
  startSlackFlow,
} from '../support/slack-flow.js';
import { slashCommandBody, viewSubmissionBody } from '../support/slack-requests.js';
import { TEST_DB_KIND } from '../support/test-database.js';
import { API_TOKEN } from '../support/test-service.js';

let flow: SlackFlow | undefined;
let stand: ActionStand | undefined;
let llm: LlmStandIn | undefined;
afterEach(async () => {
  await llm?.close();
  llm = undefined;
  await flow?.dispose();
  flow = undefined;
  await stand?.close();
  stand = undefined;
});

const text = (value: unknown) => JSON.stringify(value ?? []);

async function start(env: Record<string, string> = {}): Promise<SlackFlow> {
  stand = await startActionStand({ autoRollback: true });
  flow = await startSlackFlow({ env: { ...stand.env, ...env } });
  return flow;
}

async function command(
  flow: SlackFlow,
  line: string,
  channelId: string,
  userId = 'U0ALICE',
): Promise<string> {
  const reply = responseUrl(flow.emulator);
  const response = await flow.slack(
    slashCommandBody({ text: line, userId, channelId, responseUrl: reply.url }),
  );
  expect(response.status).toBe(200);
  return ((await reply.reply()).body as { text: string }).text;
}

async function markdown(flow: SlackFlow, id: number, query = ''): Promise<{ status: number; body: string }> {
  const response = await fetch(`${flow.service.url}/api/incidents/${id}/postmortem.md${query}`, {
    headers: { authorization: `Bearer ${API_TOKEN}` },
  });
  return { status: response.status, body: await response.text() };
}

function postmortemMessage(flow: SlackFlow, channelId: string, predicate: (m: EmulatedMessage) => boolean) {
  return flow.emulator.waitFor(() => {
    const found = flow.emulator
      .messages(channelId)
      .find((message) => (message.text ?? '').startsWith('Postmortem draft'));
    return found && predicate(found) ? found : undefined;
  }, 15_000);
}

describe(`postmortems in Slack and over the API (${TEST_DB_KIND})`, { timeout: 60_000 }, () => {
  it('drafts one when the incident is resolved: summary message, the document as a file, and Markdown over the API', async () => {
    const flow = await start();
    const { id, channelId, card } = await openIncident(flow, {
      labels: { service: 'svc-actions', prompt: PROMPT, litellm_key: AGENT_KEY },
      annotations: { summary: 'Evals <!channel> [fell](http://evil.example)' },
    });
    expect((await markdown(flow, id)).status).toBe(404);

    // Diagnose; the runbook's auto rollback runs and recovers.
    await flow.slack(
      clickOn(card, channelId, 'U0ALICE', {
        action_id: 'incident.start_diagnosis',
        block_id: actionsBlock(card.blocks)!.block_id!,
        value: element(card.blocks, 'incident.start_diagnosis').value!,
      }),
    );
    await flow.emulator.waitFor(() => stand!.langfuse.labelled(PROMPT, 'production') === 2 || undefined);
    await flow.service.aisre.actions.settled();
    stand!.evalsHealthy(true);
    await flow.service.aisre.actions.processDue();
    await flow.service.aisre.actions.settled();

    expect(await command(flow, 'resolve', channelId)).toContain('resolved');
    const message = await postmortemMessage(flow, channelId, () => true);
    expect(message.text).toBe(
      `Postmortem draft v1 for INC-${id}: INC-${id}: Evals <!channel> [fell](http://evil.example)`,
    );
    expect(text(message.blocks)).not.toContain('<!channel>');
    expect(text(message.blocks)).toContain('drafted when the incident was resolved');

    const file = await flow.emulator.waitFor(() => flow.emulator.files(channelId)[0]);
    expect(file.title).toBe(`INC-${id} postmortem v1`);
    expect(file.threadTs).toBe(message.ts);
    const api = await markdown(flow, id);
    expect(api.status).toBe(200);
    expect(file.content).toBe(api.body);
    for (const section of [
      '## Summary',
      '## Impact',
      '## Diagnosis path',
      '## Root cause layer and hypothesis',
      '## Actions taken',
      '## Full timeline',
    ]) {
      expect(api.body).toContain(section);
    }
    expect(api.body).toContain('**Layer:** generation');
    expect(api.body).toContain('prompt.rollback (A-1)');
    expect(api.body).not.toContain('[fell](http://evil.example)');
  });

  it('keeps responders’ edits through redrafts, and drafts on demand with /aisre postmortem', async () => {
    const flow = await start();
    const { id, channelId } = await openIncident(flow, { labels: { service: 'svc-pm' } });

    expect(await command(flow, `postmortem INC-${id}`, channelId)).toContain(
      `Postmortem v1 of INC-${id} drafted`,
    );
    const first = await postmortemMessage(flow, channelId, () => true);

    const edit = blocksOf(first.blocks)
      .find((block) => block.type === 'actions')!
      .elements!.find((e) => e.action_id === 'postmortem.edit')!;
    await flow.slack(
      clickOn(first, channelId, 'U0BOB', { action_id: 'postmortem.edit', value: edit.value! }),
    );
    const opened = await flow.emulator.waitFor((calls) => calls.find((call) => call.method === 'views.open'));
    const view = opened.args.view as {
      callback_id: string;
      private_metadata: string;
      blocks: Array<{ block_id: string; element: { initial_value: string } }>;
    };
    const shown = Object.fromEntries(
      view.blocks.map((block) => [block.block_id, block.element.initial_value]),
    );
    expect(shown.actionItems).toContain('- [ ] ');

    const submitted = await flow.slack(
      viewSubmissionBody({
        userId: 'U0BOB',
        callbackId: view.callback_id,
        privateMetadata: view.private_metadata,
        values: {
          summary: { summary: 'The eval pass rate fell for 20 minutes after a prompt change.' },
          wentWell: { wentWell: shown.wentWell ?? '' },
          wentWrong: { wentWrong: shown.wentWrong ?? '' },
          gotLucky: { gotLucky: 'It happened at a quiet hour.' },
          actionItems: { actionItems: '- [ ] Canary prompt changes like deployments' },
        },
      }),
    );
    expect(submitted.status).toBe(200);
    await postmortemMessage(flow, channelId, (m) => text(m.blocks).includes('redrafted with edits'));
    const edited = await markdown(flow, id);
    expect(edited.body).toContain('The eval pass rate fell for 20 minutes after a prompt change.');
    expect(edited.body).toContain('It happened at a quiet hour.');
    expect(edited.body).toContain('- [ ] Canary prompt changes like deployments');

    // A redraft from the record keeps the edits; every version stays readable.
    expect(await command(flow, 'postmortem', channelId)).toContain('Postmortem v3');
    const third = await markdown(flow, id);
    expect(third.body).toContain('The eval pass rate fell for 20 minutes after a prompt change.');
    expect((await markdown(flow, id, '?version=1')).body).not.toContain('quiet hour');
    await flow.emulator.waitFor(() => flow.emulator.files(channelId).length === 3 || undefined);
  });

  it('refuses a postmortem of a cancelled incident, privately', async () => {
    const flow = await start();
    const { id, channelId } = await openIncident(flow, { labels: { service: 'svc-cancel' } });
    await command(flow, 'cancel', channelId);
    expect(await command(flow, 'postmortem', channelId)).toBe(
      `:warning: INC-${id} was cancelled: there is nothing to write up.`,
    );
    await flow.service.aisre.postmortems.draftDue();
    expect((await markdown(flow, id)).status).toBe(404);
  });

  it('posts a review of the last days in the channel with /aisre report', async () => {
    const flow = await start();
    const { channelId } = await openIncident(flow, { labels: { service: 'svc-review' } });
    await command(flow, 'resolve', channelId);
    const reply = responseUrl(flow.emulator);
    await flow.slack(
      slashCommandBody({ text: 'report 7', userId: 'U0ALICE', channelId, responseUrl: reply.url }),
    );
    const posted = (await reply.reply()).body as { response_type: string; text: string; blocks: unknown };
    expect(posted.response_type).toBe('in_channel');
    expect(text(posted.blocks)).toContain('1 in all: 0 open, 1 resolved, 0 cancelled');
    expect(await command(flow, 'report 365', channelId)).toBe(
      ':warning: Give the number of days from 1 to 90, e.g. `/aisre report 7`.',
    );
  });

  it('lets a configured model rewrite the summary, and falls back to the record when it fails', async () => {
    llm = await startLlmStandIn();
    llm.answer(/incident_data/, [
      { content: 'Answers got worse after a change; aisre found the layer and the team rolled it back.' },
      { status: 500, message: 'The server had an error' },
    ]);
    const flow = await start({
      LLM_BASE_URL: llm.baseUrl,
      LLM_API_KEY: LLM_STAND_IN_KEY,
      AISRE_POSTMORTEM_MODEL: 'gpt-4o-mini',
    });
    const { id, channelId } = await openIncident(flow, { labels: { service: 'svc-model' } });
    await command(flow, 'postmortem', channelId);
    expect((await markdown(flow, id)).body).toContain(
      'Answers got worse after a change; aisre found the layer and the team rolled it back.',
    );
    expect(llm.requests[0]?.model).toBe('gpt-4o-mini');
    expect(llm.requests[0]?.prompt).toContain('<incident_data>');

    await command(flow, 'postmortem', channelId);
    const fallback = await markdown(flow, id);
    expect(fallback.body).not.toContain('the team rolled it back');
    expect(fallback.body).toContain(`INC-${id} (SEV3)`);
  });
});
