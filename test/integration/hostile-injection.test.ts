import { afterEach, describe, expect, it } from 'vitest';
import type { AppError } from '../../src/errors.js';
import type { Actor } from '../../src/incidents/incident.js';
import {
  type ActionStand,
  AGENT_KEY,
  EVAL_QUERY,
  openActionIncident,
  PROMPT,
  startActionStand,
} from '../support/action-support.js';
import { openIncident, type SlackFlow, startSlackFlow } from '../support/slack-flow.js';
import { withoutPlainText } from '../support/slack-text.js';
import { tableSnapshot } from '../support/table-snapshot.js';
import { TEST_DB_KIND } from '../support/test-database.js';
import { startTestService, type TestService } from '../support/test-service.js';

const ALICE: Actor = { kind: 'slack', userId: 'U0ALICE' };

/** A service label that tries to end its PromQL string, ping the channel and plant a link. */
const HOSTILE_SERVICE = 'svc"} or vector(1) # \\" <!channel> <@U0CAROL> <http://evil.example|click> & *bold*';

let stand: ActionStand | undefined;
let flow: SlackFlow | undefined;
let service: TestService | undefined;
afterEach(async () => {
  await flow?.dispose();
  await service?.dispose();
  await stand?.close();
  flow = undefined;
  service = undefined;
  stand = undefined;
});

describe(`injection through alert labels (${TEST_DB_KIND})`, { timeout: 60_000 }, () => {
  it('keeps a hostile label inside its PromQL string and out of Slack mrkdwn, from alert to recommendation', async () => {
    stand = await startActionStand();
    flow = await startSlackFlow({ env: stand.env });
    const { id, card } = await openIncident(flow, {
      labels: { service: HOSTILE_SERVICE, prompt: PROMPT, litellm_key: AGENT_KEY },
      annotations: { summary: `Evals fell on ${HOSTILE_SERVICE}` },
    });
    const { aisre } = flow.service;
    const started = await aisre.diagnosis.start(id, ALICE);
    await aisre.diagnosis.settled(started.session!.id);
    await aisre.outbox.drain();

    // The query Prometheus received: the label is one string, its quote and backslash escaped.
    const queries = stand.prometheus.queries.map((query) => query.query);
    expect(queries).toContain(
      `avg(${EVAL_QUERY}{service="svc\\"} or vector(1) # \\\\\\" <!channel> <@U0CAROL> <http://evil.example|click> & *bold*"})`,
    );
    expect(queries.some((query) => query.includes('service="svc"}'))).toBe(false);

    // Everything aisre posted, edited or replied: the card, the diagnosis steps in its thread and
    // the conclusion with its recommendations.
    const sent = flow.emulator.calls
      .filter((call) => ['chat.postMessage', 'chat.update'].includes(call.method))
      .map((call) => call.args);
    expect(sent.filter((args) => args.thread_ts === card.ts).length).toBeGreaterThanOrEqual(2);
    const mrkdwn = JSON.stringify(sent.map(withoutPlainText));
    for (const raw of ['<!channel>', '<@U0CAROL>', '<http://evil']) expect(mrkdwn).not.toContain(raw);
    expect(mrkdwn).toContain(
      '&lt;!channel&gt; &lt;@U0CAROL&gt; &lt;http://evil.example|click&gt; &amp; *bold*',
    );
  });

  it('fills webhook params from labels as data: {{ stays literal, control characters and over-long values are refused', async () => {
    stand = await startActionStand();
    service = await startTestService({ env: stand.env });
    const { aisre } = service;
    const concluded = async (prompt: string, serviceName: string) => {
      const incidentId = await openActionIncident(service!.url, { prompt }, serviceName);
      const started = await aisre.diagnosis.start(incidentId, ALICE);
      await aisre.diagnosis.settled(started.session!.id);
      const recommendations = (await aisre.actions.recommendations(incidentId))!;
      // The runbook's third recommendation: http.webhook with body { service, label: "{{labels.prompt}}" }.
      return { incidentId, sessionId: recommendations.sessionId, webhook: recommendations.items[2]! };
    };

    // A label that looks like a template is substituted once, as text, and sent as a JSON string.
    const literal = await concluded('{{labels.litellm_key}}', 'svc-literal');
    expect(literal.webhook.error).toBeNull();
    expect(literal.webhook.params).toEqual({
      webhook: 'reindex',
      body: { service: 'svc-literal', label: '{{labels.litellm_key}}' },
    });
    const run = await aisre.actions.preview(
      { incidentId: literal.incidentId, recommendation: { sessionId: literal.sessionId, index: 2 } },
      ALICE,
    );
    await aisre.actions.execute(run.id, ALICE);
    await aisre.actions.approve(run.id, { kind: 'slack', userId: 'U0BOB' });
    await aisre.actions.settled();
    expect(stand.webhook.deliveries).toHaveLength(1);
    expect(stand.webhook.deliveries[0]!.body).toEqual({
      service: 'svc-literal',
      label: '{{labels.litellm_key}}',
    });
    expect(stand.webhook.deliveries[0]!.rawBody).not.toContain(AGENT_KEY);

    // Control characters (including Unicode line separators) and values over 256 characters are
    // refused before anything is stored or sent.
    const cases: Array<[string, string, string]> = [
      ['line\nbreak', 'svc-newline', 'body.label: the substituted value contains control characters'],
      ['para\u2029graph', 'svc-separator', 'body.label: the substituted value contains control characters'],
      ['esc\u001b[31m', 'svc-escape', 'body.label: the substituted value contains control characters'],
      ['x'.repeat(257), 'svc-long', 'body.label: the substituted value is longer than 256 characters'],
    ];
    for (const [prompt, serviceName, problem] of cases) {
      const hostile = await concluded(prompt, serviceName);
      expect(hostile.webhook.error, serviceName).toContain(problem);
      const before = await tableSnapshot(aisre.db.knex, [
        'action_runs',
        'action_audit',
        'action_checkpoints',
      ]);
      const refused = await aisre.actions
        .preview(
          { incidentId: hostile.incidentId, recommendation: { sessionId: hostile.sessionId, index: 2 } },
          ALICE,
        )
        .then(
          () => undefined,
          (err: AppError) => err,
        );
      expect(refused?.code, serviceName).toBe('validation_failed');
      expect(refused?.userMessage).toContain(problem);
      expect(
        await tableSnapshot(aisre.db.knex, ['action_runs', 'action_audit', 'action_checkpoints']),
      ).toEqual(before);
    }
    expect(stand.webhook.deliveries).toHaveLength(1);
  });
});
