import { z } from 'zod';
import { GATEWAY_RATE_LIMIT, type GatewayRateLimitParams } from '../action-catalog.js';
import type { ActionType } from '../action-type.js';
import { gatewaySettingsAction } from './gateway-settings.js';

/**
 * `gateway.rate_limit`: sets `rpm_limit` / `tpm_limit` of a LiteLLM key (`/key/update`) or team
 * (`/team/update`). previousState: `{ rpm_limit?: number | null, tpm_limit?: number | null }`, one
 * entry per limit the runbook sets; undo restores exactly those (null restores "no limit").
 */
export const gatewayRateLimit: ActionType<GatewayRateLimitParams> = gatewaySettingsAction(
  GATEWAY_RATE_LIMIT,
  {
    rpm_limit: z.number().nullable(),
    tpm_limit: z.number().nullable(),
  },
);
