import { afterEach, describe, expect, it } from 'vitest';
import { type ActionStand, AGENT_KEY, PROMPT, startActionStand } from '../support/action-support.js';
import {
  actionsBlock,
  blocksOf,
  clickOn as click,
  element,
  openIncident,
  previewButton,
  responseUrl,
  runButton,
  type SlackFlow,
  startSlackFlow,
  blocksText as text,
  waitForThreadMessage as waitForMessage,
  waitForUpdate,
} from '../support/slack-flow.js';
import { viewSubmissionBody } from '../support/slack-requests.js';
import { TEST_DB_KIND } from '../support/test-database.js';

let flow: SlackFlow | undefined;
let stand: ActionStand | undefined;
afterEach(async () => {
  await flow?.dispose();
  flow = undefined;
  await stand?.close();
  stand = undefined;
});

async function start(env: Record<string, string> = {}): Promise<SlackFlow> {
  stand = await startActionStand();
  flow = await startSlackFlow({ env: { ...stand.env, ...env } });
  return flow;
}

/** Opens the incident, runs the diagnosis from the card, and returns the conclusion message. */
async function concludedInSlack(flow: SlackFlow) {
  const { id, channelId, card } = await openIncident(flow, {
    labels: { service: 'svc-actions', prompt: PROMPT, litellm_key: AGENT_KEY },
  });
  const start = element(card.blocks, 'incident.start_diagnosis');
  await flow.slack(
    click(card, channelId, 'U0ALICE', {
      action_id: 'incident.start_diagnosis',
      block_id: actionsBlock(card.blocks)!.block_id!,
      value: start.value!,
    }),
  );
  const conclusion = await waitForMessage(
    flow.emulator,
    channelId,
    card.ts,
    'Diagnosis concluded',
    (message) => text(message.blocks).includes('action.preview'),
  );
  return { id, channelId, card, conclusion };
}

async function privateReply(flow: SlackFlow, body: (url: string) => string): Promise<string> {
  const reply = responseUrl(flow.emulator);
  const response = await flow.slack(body(reply.url));
  expect(response.status).toBe(200);
  const posted = (await reply.reply()).body as { response_type: string; text: string };
  expect(posted.response_type).toBe('ephemeral');
  return posted.text;
}

describe(`runbook actions in Slack (${TEST_DB_KIND})`, { timeout: 60_000 }, () => {
  it('previews a recommendation, executes it with one confirmation, shows recovery on the card, and undoes it', async () => {
    const flow = await start();
    const { emulator } = flow;
    const { id, channelId, card, conclusion } = await concludedInSlack(flow);
    expect(text(conclusion.blocks)).toContain(`prompt=${PROMPT} · label=production`);
    expect(text(conclusion.blocks)).toContain('Another action…');

    await flow.slack(click(conclusion, channelId, 'U0ALICE', previewButton(conclusion, 0)));
    const previewed = await waitForMessage(emulator, channelId, card.ts, 'prompt.rollback (A-1)');
    expect(text(previewed.blocks)).toContain(`prompt \\"${PROMPT}\\" production label: \`3\` → \`2\``);
    expect(stand!.langfuse.labelled(PROMPT, 'production')).toBe(3);

    const execute = runButton(previewed, 'action.execute');
    await Promise.all([
      flow.slack(click(previewed, channelId, 'U0ALICE', execute)),
      flow.slack(click(previewed, channelId, 'U0ALICE', execute)),
    ]);
    stand!.evalsHealthy(true);
    const recovered = await waitForMessage(emulator, channelId, card.ts, 'prompt.rollback (A-1)', (message) =>
      text(message.blocks).includes('Recovered'),
    );
    expect(text(recovered.blocks)).toContain('1 of 1 checks pass');
    expect(stand!.langfuse.requests.filter((request) => request.method === 'PATCH')).toHaveLength(1);
    expect(stand!.langfuse.labelled(PROMPT, 'production')).toBe(2);
    await waitForUpdate(emulator, card.ts, (blocks) => text(blocks).includes('Mitigated'));

    await flow.slack(click(recovered, channelId, 'U0BOB', runButton(recovered, 'action.undo')));
    const undo = await waitForMessage(emulator, channelId, card.ts, 'undo of prompt.rollback (A-2)');
    expect(text(undo.blocks)).toContain('`2` → `3`');
    await flow.slack(click(undo, channelId, 'U0BOB', runButton(undo, 'action.execute')));
    await waitForMessage(emulator, channelId, card.ts, 'undo of prompt.rollback (A-2)', (message) =>
      text(message.blocks).includes('Undone; the checks pass'),
    );
    expect(stand!.langfuse.labelled(PROMPT, 'production')).toBe(3);

    const api = await flow.service.api<{
      runs: Array<{ id: number; status: string }>;
      audit: Array<{ event: string }>;
    }>(`/api/incidents/${id}/actions`);
    expect(api.body.runs.map((run) => run.status)).toEqual(['recovered', 'recovered']);
    expect(api.body.audit.filter((entry) => entry.event === 'executed')).toHaveLength(2);
  });

  it('refuses people without permission privately, and executes a high-risk action once on a second person’s approval', async () => {
    const flow = await start({
      AISRE_ACTION_EXECUTORS: 'U0ALICE,S0ONCALL',
      AISRE_ACTION_APPROVERS: 'S0ONCALL',
    });
    const { emulator } = flow;
    const { channelId, card, conclusion } = await concludedInSlack(flow);
    await flow.slack(click(conclusion, channelId, 'U0ALICE', previewButton(conclusion, 2)));
    const previewed = await waitForMessage(emulator, channelId, card.ts, 'http.webhook (A-1)');
    expect(text(previewed.blocks)).toContain('Request approval');

    const refusal = await privateReply(flow, (url) =>
      click(previewed, channelId, 'U0MALLORY', runButton(previewed, 'action.execute'), url),
    );
    expect(refusal).toBe(
      ':warning: You are not allowed to execute actions. Ask someone in <@U0ALICE>, <!subteam^S0ONCALL>.',
    );

    await flow.slack(click(previewed, channelId, 'U0ALICE', runButton(previewed, 'action.execute')));
    const waiting = await waitForMessage(emulator, channelId, card.ts, 'http.webhook (A-1)', (message) =>
      text(message.blocks).includes('action.approve'),
    );
    const self = await privateReply(flow, (url) =>
      click(waiting, channelId, 'U0ALICE', runButton(waiting, 'action.approve'), url),
    );
    expect(self).toContain('someone else has to approve it');
    expect(stand!.webhook.deliveries).toHaveLength(0);

    const approve = runButton(waiting, 'action.approve');
    const second = responseUrl(emulator);
    await Promise.all([
      flow.slack(click(waiting, channelId, 'U0BOB', approve)),
      flow.slack(click(waiting, channelId, 'U0CAROL', approve, second.url)),
    ]);
    await waitForMessage(emulator, channelId, card.ts, 'http.webhook (A-1)', (message) =>
      /Not recovered|Recovered/.test(text(message.blocks)),
    );
    expect(stand!.webhook.deliveries).toHaveLength(1);
    expect(stand!.webhook.deliveries[0]?.verification.valid).toBe(true);
  });

  it('offers every action from a menu; the modal checks the parameters before it closes', async () => {
    const flow = await start();
    const { emulator } = flow;
    const { id, channelId, card, conclusion } = await concludedInSlack(flow);
    const menu = blocksOf(conclusion.blocks).find((block) => block.block_id === `action_pick:${id}`)!;
    await flow.slack(
      click(conclusion, channelId, 'U0ALICE', {
        action_id: 'action.pick',
        block_id: menu.block_id!,
        selected_option: { value: 'gateway.budget_cap' },
      }),
    );
    const opened = await emulator.waitFor((calls) => calls.find((call) => call.method === 'views.open'));
    const view = opened.args.view as { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe('action.params');

    const submit = (params: string) =>
      flow.slack(
        viewSubmissionBody({
          userId: 'U0ALICE',
          callbackId: view.callback_id,
          privateMetadata: view.private_metadata,
          values: { params: { params } },
        }),
      );
    const notJson = await submit('{ max_budget: 5');
    expect(await notJson.json()).toMatchObject({
      response_action: 'errors',
      errors: { params: expect.stringContaining('not JSON') },
    });
    const invalid = await submit('{"key": "{{labels.litellm_key}}", "max_budget": -5}');
    expect(await invalid.json()).toMatchObject({
      response_action: 'errors',
      errors: { params: expect.stringContaining('max_budget') },
    });
    const accepted = await submit('{"key": "{{labels.litellm_key}}", "max_budget": 25}');
    expect(accepted.status).toBe(200);
    const previewed = await waitForMessage(emulator, channelId, card.ts, 'gateway.budget_cap (A-1)');
    expect(text(previewed.blocks)).toContain('max_budget: `none` → `25`');
    expect(text(previewed.blocks)).not.toContain(AGENT_KEY);
  });
});
