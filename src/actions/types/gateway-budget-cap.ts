import { z } from 'zod';
import { GATEWAY_BUDGET_CAP, type GatewayBudgetCapParams } from '../action-catalog.js';
import type { ActionType } from '../action-type.js';
import { gatewaySettingsAction } from './gateway-settings.js';

/**
 * `gateway.budget_cap`: sets `max_budget` (and `budget_duration` when given) of a LiteLLM key or
 * team. previousState: `{ max_budget: number | null, budget_duration?: string | null }`; undo
 * restores exactly those fields.
 */
export const gatewayBudgetCap: ActionType<GatewayBudgetCapParams> = gatewaySettingsAction(
  GATEWAY_BUDGET_CAP,
  {
    max_budget: z.number().nullable(),
    budget_duration: z.string().nullable(),
  },
);
