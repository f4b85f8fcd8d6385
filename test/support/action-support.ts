import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { alertmanagerBody } from './alertmanager-payloads.js';
import { postAlertBody } from './diagnosis-support.js';
import { type LangfuseFake, startLangfuseFake } from './langfuse-fake.js';
import { type LiteLLMFake, startLiteLLMFake } from './litellm-fake.js';
import { type PrometheusStandIn, startPrometheusStandIn } from './prometheus-stand-in.js';
import { startWebhookReceiver, WEBHOOK_SECRET, type WebhookReceiver } from './webhook-receiver.js';

export const PROMPT = 'rag-answer';
export const AGENT_KEY = 'sk-agent-key-000000000001';
export const EVAL_QUERY = 'llm_eval_pass_ratio';

/**
 * A runbook with one decision (the eval pass rate) and a conclusion that recommends one action of
 * each integration, templated from the alert's labels. The conclusion has no checks of its own,
 * so verification re-runs the deciding node's eval check.
 */
export function actionRunbook(options: { autoRollback?: boolean } = {}): string {
  return [
    'id: action_test',
    'title: Action test',
    'match: {}',
    'start: look',
    'nodes:',
    '  look:',
    '    title: Eval pass rate',
    '    checks:',
    '      - id: eval_pass',
    '        type: prometheus',
    '        params:',
    `          query: avg(${EVAL_QUERY}{service="{{incident.service}}"})`,
    '          healthy: { op: ">=", value: 0.9 }',
    '    outcomes:',
    '      - { when: { check: eval_pass, status: fail }, next: prompt_bad, reason: evals fail }',
    '    otherwise: fine',
    '  prompt_bad:',
    '    title: Prompt regression',
    '    conclusion:',
    '      layer: generation',
    '      class: model_behaviour',
    '      hypothesis: The new prompt broke answers.',
    '      actions:',
    '        - action: prompt.rollback',
    '          params: { prompt: "{{labels.prompt}}" }',
    `          auto: ${options.autoRollback ? 'true' : 'false'}`,
    '          why: move production back to the previous version',
    '        - action: gateway.rate_limit',
    '          params: { key: "{{labels.litellm_key}}", rpm_limit: 60 }',
    '        - action: http.webhook',
    '          params: { webhook: reindex, body: { service: "{{incident.service}}", label: "{{labels.prompt}}" } }',
    '  fine:',
    '    title: Nothing wrong',
    '    conclusion: { layer: unknown, class: infrastructure, hypothesis: No check found a cause. }',
    '',
  ].join('\n');
}

/** The integrations an action test talks to, a runbook directory, and the env that wires them. */
export interface ActionStand {
  langfuse: LangfuseFake;
  litellm: LiteLLMFake;
  webhook: WebhookReceiver;
  prometheus: PrometheusStandIn;
  env: Record<string, string>;
  /** Makes the eval pass rate healthy (true) or failing (false). */
  evalsHealthy(healthy: boolean): void;
  close(): Promise<void>;
}

export async function startActionStand(options: { autoRollback?: boolean } = {}): Promise<ActionStand> {
  const [langfuse, litellm, webhook, prometheus] = await Promise.all([
    startLangfuseFake(),
    startLiteLLMFake(),
    startWebhookReceiver(),
    startPrometheusStandIn(),
  ]);
  langfuse.seedPrompt(PROMPT, ['v1 text', 'v2 text', 'v3 broken text'], { production: 3 });
  litellm.seedKey(AGENT_KEY, { rpm_limit: 1000 });
  const runbooks = await mkdtemp(path.join(tmpdir(), 'aisre-action-runbooks-'));
  await writeFile(path.join(runbooks, 'action-test.yaml'), actionRunbook(options));
  const evalsHealthy = (healthy: boolean) =>
    prometheus.respond(EVAL_QUERY, [{ labels: {}, value: healthy ? 0.95 : 0.6 }]);
  evalsHealthy(false);
  return {
    langfuse,
    litellm,
    webhook,
    prometheus,
    evalsHealthy,
    env: {
      AISRE_RUNBOOKS_DIR: runbooks,
      PROMETHEUS_URL: prometheus.url,
      LANGFUSE_URL: langfuse.url,
      LANGFUSE_PUBLIC_KEY: langfuse.publicKey,
      LANGFUSE_SECRET_KEY: langfuse.secretKey,
      LITELLM_URL: litellm.url,
      LITELLM_API_KEY: litellm.masterKey,
      AISRE_WEBHOOKS: JSON.stringify({ reindex: { url: webhook.url, secret: WEBHOOK_SECRET } }),
      AISRE_ACTION_SETTLE: '0s',
      // One check decides, unless a test is about checking again.
      AISRE_ACTION_VERIFY_WINDOW: '0s',
    },
    close: async () => {
      await Promise.all([langfuse.close(), litellm.close(), webhook.close(), prometheus.close()]);
      await rm(runbooks, { recursive: true, force: true });
    },
  };
}

/** Opens an incident whose alert carries the labels the action templates use. */
export function openActionIncident(
  baseUrl: string,
  labels: Record<string, string> = {},
  service = 'svc-actions',
): Promise<number> {
  return postAlertBody(
    baseUrl,
    alertmanagerBody({
      groupKey: `{}/{service="${service}"}:{alertname="EvalPassRateLow"}`,
      commonLabels: { service },
      alerts: [
        {
          name: 'EvalPassRateLow',
          fingerprint: Buffer.from(service).toString('hex').padEnd(16, '0').slice(0, 16),
          startsAt: new Date(Date.now() - 10 * 60_000).toISOString(),
          labels: { service, prompt: PROMPT, litellm_key: AGENT_KEY, ...labels },
        },
      ],
    }),
  );
}
