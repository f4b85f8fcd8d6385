import { z } from 'zod';
import { GATEWAY_BLOCK, type GatewayBlockParams } from '../action-catalog.js';
import { maskKey } from '../action-error.js';
import type { ActionType } from '../action-type.js';
import { readGatewayFields } from './gateway-settings.js';
import { LITELLM_CHANGED_BY, previousStateOf, send, snapshot } from './support.js';

/** Whether the key was blocked before the action ran. */
const previousSchema = z.strictObject({ blocked: z.boolean() });
export type GatewayBlockState = z.output<typeof previousSchema>;

const blockedField = { blocked: z.boolean().nullable() };

/**
 * `gateway.block`: the circuit breaker for a runaway agent: `POST /key/block`. previousState:
 * `{ blocked: boolean }`; undo unblocks (`POST /key/unblock`) only a key that was not blocked before.
 */
export const gatewayBlock: ActionType<GatewayBlockParams> = {
  ...GATEWAY_BLOCK,

  async run(ctx) {
    const { key } = ctx.params;
    const litellm = ctx.integration('litellm');
    const state: GatewayBlockState = await snapshot(ctx, 'before', async () => ({
      blocked: (await readGatewayFields(litellm, { key }, blockedField)).blocked === true,
    }));
    const target = `key ${maskKey(key)} blocked`;
    if (state.blocked) {
      return {
        summary: `key ${maskKey(key)} is already blocked; nothing to change`,
        changes: [],
        previousState: state,
      };
    }
    const changes = [{ target, from: false, to: true }];
    if (ctx.isDryRun) return { summary: `Would block key ${maskKey(key)}`, changes, previousState: state };
    await ctx.checkpoint('block', async () => {
      await send(ctx, litellm, 'POST', '/key/block', { key }, { [LITELLM_CHANGED_BY]: ctx.actor });
      return { blocked: true };
    });
    return {
      summary: `Blocked key ${maskKey(key)}: its requests are refused until undone`,
      changes,
      previousState: state,
    };
  },

  async undo(ctx) {
    const previous = previousStateOf(previousSchema, ctx, GATEWAY_BLOCK.id);
    const { key } = ctx.params;
    const litellm = ctx.integration('litellm');
    const current: GatewayBlockState = await ctx.checkpoint('undo:before', async () => ({
      blocked: (await readGatewayFields(litellm, { key }, blockedField)).blocked === true,
    }));
    const target = `key ${maskKey(key)} blocked`;
    if (previous.blocked) {
      return {
        summary: `key ${maskKey(key)} was already blocked before the action; left blocked`,
        changes: [],
        previousState: current,
      };
    }
    if (current.blocked) {
      await ctx.checkpoint('undo:unblock', async () => {
        await send(ctx, litellm, 'POST', '/key/unblock', { key }, { [LITELLM_CHANGED_BY]: ctx.actor });
        return { blocked: false };
      });
    }
    return {
      summary: `Unblocked key ${maskKey(key)}`,
      changes: [{ target, from: current.blocked, to: false }],
      previousState: current,
    };
  },
};
