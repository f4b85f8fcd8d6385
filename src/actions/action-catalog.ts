import { z } from 'zod';

export type ActionRisk = 'low' | 'high';

/**
 * What a runbook may recommend: an action id, its parameters and its risk. Runbooks are
 * validated against this catalog when they load, so a typo in an action id or a missing
 * parameter is caught before an incident needs it.
 */
export interface ActionDefinition<P = unknown> {
  id: string;
  description: string;
  risk: ActionRisk;
  supportsDryRun: boolean;
  params: z.ZodType<P>;
}

const name = z.string().min(1).max(256);

const gatewayTarget = z
  .object({ key: name.optional(), team_id: name.optional() })
  .refine((target) => Boolean(target.key) !== Boolean(target.team_id), {
    message: 'give exactly one of key or team_id',
  });

const gatewayLimits = z
  .object({
    rpm_limit: z.number().int().min(0).optional(),
    tpm_limit: z.number().int().min(0).optional(),
  })
  .refine((limits) => limits.rpm_limit !== undefined || limits.tpm_limit !== undefined, {
    message: 'give rpm_limit or tpm_limit',
  });

const gatewayBudget = z.object({
  max_budget: z.number().positive(),
  budget_duration: z
    .string()
    .regex(/^\d+[smhd]$/)
    .optional(),
});

const promptRollbackParams = z.object({
  prompt: name,
  to_version: z.number().int().positive().optional(),
  label: name.default('production'),
});
const gatewayRateLimitParams = z.intersection(gatewayTarget, gatewayLimits);
const gatewayFallbackParams = z.object({
  model: name,
  fallback_models: z.array(name).min(1),
  fallback_type: z.enum(['general', 'context_window', 'content_policy']).default('general'),
});
const gatewayRouteParams = z.object({ model_id: name, upstream_model: name });
const gatewayBlockParams = z.object({ key: name });
const gatewayBudgetCapParams = z.intersection(gatewayTarget, gatewayBudget);
const httpWebhookParams = z.object({
  webhook: z.string().regex(/^[a-z][a-z0-9_-]*$/, 'must name a webhook configured in AISRE_WEBHOOKS'),
  body: z.record(z.string(), z.unknown()).default({}),
});

export type PromptRollbackParams = z.output<typeof promptRollbackParams>;
export type GatewayRateLimitParams = z.output<typeof gatewayRateLimitParams>;
export type GatewayFallbackParams = z.output<typeof gatewayFallbackParams>;
export type GatewayRouteParams = z.output<typeof gatewayRouteParams>;
export type GatewayBlockParams = z.output<typeof gatewayBlockParams>;
export type GatewayBudgetCapParams = z.output<typeof gatewayBudgetCapParams>;
export type HttpWebhookParams = z.output<typeof httpWebhookParams>;

export const PROMPT_ROLLBACK: ActionDefinition<PromptRollbackParams> = {
  id: 'prompt.rollback',
  description: 'Move the production label of a Langfuse prompt back to the previous (or a given) version',
  risk: 'low',
  supportsDryRun: true,
  params: promptRollbackParams,
};

export const GATEWAY_RATE_LIMIT: ActionDefinition<GatewayRateLimitParams> = {
  id: 'gateway.rate_limit',
  description: 'Lower the requests/tokens per minute of a LiteLLM key or team',
  risk: 'low',
  supportsDryRun: true,
  params: gatewayRateLimitParams,
};

export const GATEWAY_FALLBACK: ActionDefinition<GatewayFallbackParams> = {
  id: 'gateway.fallback',
  description: 'Send a LiteLLM model group to fallback models',
  risk: 'high',
  supportsDryRun: true,
  params: gatewayFallbackParams,
};

export const GATEWAY_ROUTE: ActionDefinition<GatewayRouteParams> = {
  id: 'gateway.route',
  description: 'Point a LiteLLM model deployment at another (e.g. smaller) upstream model',
  risk: 'high',
  supportsDryRun: true,
  params: gatewayRouteParams,
};

export const GATEWAY_BLOCK: ActionDefinition<GatewayBlockParams> = {
  id: 'gateway.block',
  description: 'Circuit breaker: block a LiteLLM key (a runaway agent); undo unblocks it',
  risk: 'high',
  supportsDryRun: true,
  params: gatewayBlockParams,
};

export const GATEWAY_BUDGET_CAP: ActionDefinition<GatewayBudgetCapParams> = {
  id: 'gateway.budget_cap',
  description: 'Cap the spend of a LiteLLM key or team',
  risk: 'low',
  supportsDryRun: true,
  params: gatewayBudgetCapParams,
};

export const HTTP_WEBHOOK: ActionDefinition<HttpWebhookParams> = {
  id: 'http.webhook',
  description: 'Call a signed webhook: reindex jobs, feature flags, cache-only or rules-based modes',
  risk: 'high',
  supportsDryRun: true,
  params: httpWebhookParams,
};

/** The built-in action types (their behaviour lives with the action plugins in `types/`). */
export const BUILT_IN_ACTIONS: ReadonlyArray<ActionDefinition> = [
  PROMPT_ROLLBACK,
  GATEWAY_RATE_LIMIT,
  GATEWAY_FALLBACK,
  GATEWAY_ROUTE,
  GATEWAY_BLOCK,
  GATEWAY_BUDGET_CAP,
  HTTP_WEBHOOK,
];

/** Action definitions by id; unknown ids are reported by the runbook loader. */
export class ActionCatalog {
  private readonly byId = new Map<string, ActionDefinition>();

  constructor(definitions: ReadonlyArray<ActionDefinition> = BUILT_IN_ACTIONS) {
    for (const definition of definitions) {
      if (this.byId.has(definition.id)) throw new Error(`action "${definition.id}" is defined twice`);
      this.byId.set(definition.id, definition);
    }
  }

  get(id: string): ActionDefinition | undefined {
    return this.byId.get(id);
  }

  list(): string[] {
    return [...this.byId.keys()].sort();
  }
}
