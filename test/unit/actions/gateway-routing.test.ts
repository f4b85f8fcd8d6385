import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ActionError } from '../../../src/actions/action-error.js';
import { gatewayBlock } from '../../../src/actions/types/gateway-block.js';
import { gatewayFallback } from '../../../src/actions/types/gateway-fallback.js';
import { gatewayRoute } from '../../../src/actions/types/gateway-route.js';
import {
  ACTOR,
  type ActionHarness,
  MemoryCheckpoints,
  startActionHarness,
  thrown,
} from './action-harness.js';

const AGENT_KEY = 'sk-agent-loop-4hT2mPq8';

describe('gateway.fallback, gateway.route and gateway.block', () => {
  let h: ActionHarness;
  beforeAll(async () => {
    h = await startActionHarness();
  });
  afterAll(() => h.close());
  beforeEach(() => {
    h.litellm.requests.length = 0;
    h.recorded.length = 0;
    h.litellm.seedDeployment({ model_id: 'dep-gpt-main', model_name: 'chat-main', model: 'openai/gpt-4.1' });
    h.litellm.seedDeployment({ model_id: 'dep-mini', model_name: 'chat-mini', model: 'openai/gpt-4.1-mini' });
    h.litellm.seedDeployment({
      model_id: 'dep-claude',
      model_name: 'chat-claude',
      model: 'anthropic/claude-haiku',
    });
    h.litellm.seedKey(AGENT_KEY, { blocked: null });
  });

  const writes = () => h.litellm.requests.filter((request) => request.method !== 'GET');

  describe('gateway.fallback', () => {
    it('previews, sets and (with no fallbacks before) undo deletes them', async () => {
      const params = { model: 'chat-main', fallback_models: ['chat-mini', 'chat-claude'] };
      const preview = await gatewayFallback.run(h.context(gatewayFallback, params, { dryRun: true }));
      expect(preview.changes).toEqual([
        { target: 'model group "chat-main" general fallbacks', from: null, to: ['chat-mini', 'chat-claude'] },
      ]);
      expect(writes()).toEqual([]);

      const outcome = await gatewayFallback.run(h.context(gatewayFallback, params));
      expect(outcome.previousState).toEqual({ fallback_models: null });
      expect(h.litellm.fallbacks('chat-main')).toEqual(['chat-mini', 'chat-claude']);
      expect(writes()[0]).toMatchObject({
        method: 'POST',
        path: '/fallback',
        body: { model: 'chat-main', fallback_models: ['chat-mini', 'chat-claude'], fallback_type: 'general' },
      });

      await gatewayFallback.undo(h.undoContext(gatewayFallback, params, outcome.previousState));
      expect(h.litellm.fallbacks('chat-main')).toBeUndefined();
      expect(writes().at(-1)).toMatchObject({
        method: 'DELETE',
        path: '/fallback/chat-main',
        query: { fallback_type: 'general' },
      });
      expect(h.litellm.changedBy()).toEqual([
        { path: '/fallback', changedBy: ACTOR },
        { path: '/fallback/chat-main', changedBy: ACTOR },
      ]);
    });

    it('restores the fallbacks that were there, per fallback type', async () => {
      h.litellm.seedFallbacks('chat-main', ['chat-claude'], 'context_window');
      const params = { model: 'chat-main', fallback_models: ['chat-mini'], fallback_type: 'context_window' };
      const outcome = await gatewayFallback.run(h.context(gatewayFallback, params));
      expect(outcome.previousState).toEqual({ fallback_models: ['chat-claude'] });
      expect(h.litellm.fallbacks('chat-main', 'context_window')).toEqual(['chat-mini']);
      expect(h.litellm.fallbacks('chat-main', 'general')).toBeUndefined();

      await gatewayFallback.undo(h.undoContext(gatewayFallback, params, outcome.previousState));
      expect(h.litellm.fallbacks('chat-main', 'context_window')).toEqual(['chat-claude']);
    });

    it('fails without retry when LiteLLM refuses the fallback models', async () => {
      const err = await thrown(() =>
        gatewayFallback.run(
          h.context(gatewayFallback, { model: 'chat-main', fallback_models: ['chat-nope'] }),
        ),
      );
      expect(err).toBeInstanceOf(ActionError);
      expect(err).toMatchObject({
        status: 400,
        retryable: false,
        integrationMessage: "Invalid fallback models: ['chat-nope']",
      });
    });

    it('posts once across reruns with the same checkpoints', async () => {
      const checkpoints = new MemoryCheckpoints();
      const params = { model: 'chat-main', fallback_models: ['chat-mini'] };
      await gatewayFallback.run(h.context(gatewayFallback, params, { checkpoints }));
      await gatewayFallback.run(h.context(gatewayFallback, params, { checkpoints }));
      expect(writes()).toHaveLength(1);
    });
  });

  describe('gateway.route', () => {
    it('previews, points the deployment at another upstream model, and undo points it back', async () => {
      const before = h.litellm.deployment('dep-gpt-main');
      const params = { model_id: 'dep-gpt-main', upstream_model: 'openai/gpt-4.1-mini' };
      const preview = await gatewayRoute.run(h.context(gatewayRoute, params, { dryRun: true }));
      expect(preview.changes).toEqual([
        {
          target: 'deployment dep-gpt-main of "chat-main" upstream model',
          from: 'openai/gpt-4.1',
          to: 'openai/gpt-4.1-mini',
        },
      ]);
      expect(writes()).toEqual([]);

      const outcome = await gatewayRoute.run(h.context(gatewayRoute, params));
      expect(outcome.previousState).toEqual({ model_name: 'chat-main', upstream_model: 'openai/gpt-4.1' });
      expect(h.litellm.deployment('dep-gpt-main')?.litellm_params.model).toBe('openai/gpt-4.1-mini');
      expect(writes()[0]).toMatchObject({
        path: '/model/update',
        body: { model_info: { id: 'dep-gpt-main' }, litellm_params: { model: 'openai/gpt-4.1-mini' } },
      });
      expect(h.litellm.changedBy()).toEqual([{ path: '/model/update', changedBy: ACTOR }]);

      await gatewayRoute.undo(h.undoContext(gatewayRoute, params, outcome.previousState));
      expect(h.litellm.deployment('dep-gpt-main')).toEqual(before);
    });

    it('fails without retry for an unknown deployment, and retryably on a 502', async () => {
      const unknown = await thrown(() =>
        gatewayRoute.run(
          h.context(gatewayRoute, { model_id: 'dep-nope', upstream_model: 'x' }, { dryRun: true }),
        ),
      );
      expect(unknown).toMatchObject({
        status: 404,
        retryable: false,
        integrationMessage: 'Model id = dep-nope not found on litellm proxy',
      });

      h.litellm.failNext(502);
      const down = await thrown(() =>
        gatewayRoute.run(h.context(gatewayRoute, { model_id: 'dep-mini', upstream_model: 'x' })),
      );
      expect(down).toMatchObject({ status: 502, retryable: true });
    });

    it('reads the message LiteLLM nests in a ProxyException', async () => {
      // The deployment was read (and checkpointed) before it was deleted from LiteLLM.
      const checkpoints = new MemoryCheckpoints();
      checkpoints.stored.set(
        'before',
        JSON.stringify({ model_name: 'chat-old', upstream_model: 'openai/gpt-4o' }),
      );
      const err = await thrown(() =>
        gatewayRoute.run(
          h.context(gatewayRoute, { model_id: 'dep-gone', upstream_model: 'x' }, { checkpoints }),
        ),
      );
      expect(err).toMatchObject({
        status: 400,
        retryable: false,
        integrationMessage: 'Model with id=dep-gone not found in db',
      });
    });
  });

  describe('gateway.block', () => {
    it('previews, blocks, and undo unblocks', async () => {
      const preview = await gatewayBlock.run(h.context(gatewayBlock, { key: AGENT_KEY }, { dryRun: true }));
      expect(preview.changes).toEqual([{ target: 'key sk-…mPq8 blocked', from: false, to: true }]);
      expect(writes()).toEqual([]);

      const outcome = await gatewayBlock.run(h.context(gatewayBlock, { key: AGENT_KEY }));
      expect(outcome.previousState).toEqual({ blocked: false });
      expect(h.litellm.key(AGENT_KEY)?.blocked).toBe(true);
      expect(writes()).toMatchObject([{ path: '/key/block', body: { key: AGENT_KEY } }]);

      await gatewayBlock.undo(h.undoContext(gatewayBlock, { key: AGENT_KEY }, outcome.previousState));
      expect(h.litellm.key(AGENT_KEY)?.blocked).toBe(false);
      expect(h.litellm.changedBy()).toEqual([
        { path: '/key/block', changedBy: ACTOR },
        { path: '/key/unblock', changedBy: ACTOR },
      ]);
    });

    it('leaves a key that was already blocked alone, on run and on undo', async () => {
      h.litellm.seedKey(AGENT_KEY, { blocked: true });
      const outcome = await gatewayBlock.run(h.context(gatewayBlock, { key: AGENT_KEY }));
      expect(outcome).toMatchObject({ changes: [], previousState: { blocked: true } });
      await gatewayBlock.undo(h.undoContext(gatewayBlock, { key: AGENT_KEY }, outcome.previousState));
      expect(writes()).toEqual([]);
      expect(h.litellm.key(AGENT_KEY)?.blocked).toBe(true);
    });

    it('blocks once across reruns, and fails without retry for an unknown key', async () => {
      const checkpoints = new MemoryCheckpoints();
      await gatewayBlock.run(h.context(gatewayBlock, { key: AGENT_KEY }, { checkpoints }));
      await gatewayBlock.run(h.context(gatewayBlock, { key: AGENT_KEY }, { checkpoints }));
      expect(writes()).toHaveLength(1);

      const err = await thrown(() =>
        gatewayBlock.run(h.context(gatewayBlock, { key: 'sk-not-a-real-key-0000' })),
      );
      expect(err).toMatchObject({ status: 404, retryable: false });
    });

    it('records requests without credentials and with the key masked', async () => {
      await gatewayBlock.run(h.context(gatewayBlock, { key: AGENT_KEY }));
      const audit = JSON.stringify(h.recorded);
      for (const secret of [...h.secrets(), AGENT_KEY]) expect(audit).not.toContain(secret);
      expect(h.recorded.at(-1)).toEqual({
        method: 'POST',
        url: `${h.litellm.url}/key/block`,
        body: { key: 'sk-…mPq8' },
        status: 200,
      });
    });
  });
});
