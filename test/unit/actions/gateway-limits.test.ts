import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ActionError } from '../../../src/actions/action-error.js';
import { gatewayBudgetCap } from '../../../src/actions/types/gateway-budget-cap.js';
import { gatewayRateLimit } from '../../../src/actions/types/gateway-rate-limit.js';
import {
  ACTOR,
  type ActionHarness,
  MemoryCheckpoints,
  startActionHarness,
  thrown,
} from './action-harness.js';

const KEY = 'sk-agent-runaway-7f3kQ9zZ';

describe('gateway.rate_limit and gateway.budget_cap', () => {
  let h: ActionHarness;
  beforeAll(async () => {
    h = await startActionHarness();
  });
  afterAll(() => h.close());
  beforeEach(() => {
    h.litellm.requests.length = 0;
    h.recorded.length = 0;
    h.litellm.seedKey(KEY, { rpm_limit: 1000, tpm_limit: null, max_budget: null, budget_duration: null });
    h.litellm.seedTeam('team-search', {
      rpm_limit: 600,
      tpm_limit: 90000,
      max_budget: 500,
      budget_duration: '30d',
    });
  });

  const writes = () => h.litellm.requests.filter((request) => request.method !== 'GET');

  it('previews the limits of a key without writing', async () => {
    const outcome = await gatewayRateLimit.run(
      h.context(gatewayRateLimit, { key: KEY, rpm_limit: 100, tpm_limit: 20000 }, { dryRun: true }),
    );
    expect(outcome.changes).toEqual([
      { target: 'key sk-…Q9zZ rpm_limit', from: 1000, to: 100 },
      { target: 'key sk-…Q9zZ tpm_limit', from: null, to: 20000 },
    ]);
    expect(outcome.summary).toBe('Would set rpm_limit 1000 → 100, tpm_limit none → 20000 on key sk-…Q9zZ');
    expect(writes()).toEqual([]);
    expect(h.litellm.key(KEY)).toMatchObject({ rpm_limit: 1000, tpm_limit: null });
  });

  it('sets the limits with the master key and litellm-changed-by, and undo restores them (null as null)', async () => {
    const before = h.litellm.key(KEY);
    const outcome = await gatewayRateLimit.run(
      h.context(gatewayRateLimit, { key: KEY, rpm_limit: 100, tpm_limit: 20000 }),
    );

    expect(outcome.previousState).toEqual({ rpm_limit: 1000, tpm_limit: null });
    expect(h.litellm.key(KEY)).toMatchObject({ rpm_limit: 100, tpm_limit: 20000 });
    expect(writes()).toHaveLength(1);
    expect(writes()[0]).toMatchObject({
      path: '/key/update',
      body: { key: KEY, rpm_limit: 100, tpm_limit: 20000 },
    });
    expect(h.litellm.changedBy()).toEqual([{ path: '/key/update', changedBy: ACTOR }]);
    expect(
      h.litellm.requests.every(
        (request) => request.headers.authorization === `Bearer ${h.litellm.masterKey}`,
      ),
    ).toBe(true);

    const undone = await gatewayRateLimit.undo(
      h.undoContext(gatewayRateLimit, { key: KEY, rpm_limit: 100, tpm_limit: 20000 }, outcome.previousState),
    );
    expect(h.litellm.key(KEY)).toEqual(before);
    expect(writes()[1]).toMatchObject({ body: { key: KEY, rpm_limit: 1000, tpm_limit: null } });
    expect(undone.previousState).toEqual({ rpm_limit: 100, tpm_limit: 20000 });
  });

  it('records and touches only the limits the runbook gives', async () => {
    const outcome = await gatewayRateLimit.run(
      h.context(gatewayRateLimit, { team_id: 'team-search', tpm_limit: 1000 }),
    );
    expect(outcome.previousState).toEqual({ tpm_limit: 90000 });
    expect(writes()[0]).toMatchObject({
      path: '/team/update',
      body: { team_id: 'team-search', tpm_limit: 1000 },
    });
    expect(writes()[0]?.body).not.toHaveProperty('rpm_limit');

    h.litellm.seedTeam('team-search', { rpm_limit: 50, tpm_limit: 1000 }); // someone else changed rpm since
    await gatewayRateLimit.undo(
      h.undoContext(gatewayRateLimit, { team_id: 'team-search', tpm_limit: 1000 }, outcome.previousState),
    );
    expect(h.litellm.team('team-search')).toMatchObject({ rpm_limit: 50, tpm_limit: 90000 });
  });

  it('makes no second update when run again with the same checkpoints', async () => {
    const checkpoints = new MemoryCheckpoints();
    const params = { key: KEY, rpm_limit: 10 };
    const first = await gatewayRateLimit.run(h.context(gatewayRateLimit, params, { checkpoints }));
    const second = await gatewayRateLimit.run(h.context(gatewayRateLimit, params, { checkpoints }));
    expect(second).toEqual(first);
    expect(writes()).toHaveLength(1);
  });

  it('fails without retry for an unknown key, with LiteLLM’s message', async () => {
    const err = await thrown(() =>
      gatewayRateLimit.run(h.context(gatewayRateLimit, { key: 'sk-unknown-key-1234', rpm_limit: 1 })),
    );
    expect(err).toBeInstanceOf(ActionError);
    expect(err).toMatchObject({ integration: 'litellm', status: 404, retryable: false });
    expect((err as ActionError).integrationMessage).toBe('Key not found in database');
  });

  it('fails without retry for an unknown team, and retryably on a 5xx', async () => {
    const team = await thrown(() =>
      gatewayRateLimit.run(h.context(gatewayRateLimit, { team_id: 'nope', rpm_limit: 1 })),
    );
    expect(team).toMatchObject({
      status: 404,
      retryable: false,
      integrationMessage: 'Team not found, passed team_id=nope',
    });

    h.litellm.failNext(500);
    const down = await thrown(() =>
      gatewayRateLimit.run(h.context(gatewayRateLimit, { key: KEY, rpm_limit: 1 })),
    );
    expect(down).toMatchObject({ status: 500, retryable: true });
    expect((down as ActionError).message).toContain('upstream database unavailable');
  });

  it('masks the key in an error message that contains it', async () => {
    h.litellm.seedKey('sk-will-vanish-abcdefgh');
    h.litellm.failNext(404, {
      error: {
        message: 'Key sk-will-vanish-abcdefgh not found',
        type: 'not_found',
        param: 'key',
        code: '404',
      },
    });
    const err = await thrown(() =>
      gatewayRateLimit.run(h.context(gatewayRateLimit, { key: 'sk-will-vanish-abcdefgh', rpm_limit: 1 })),
    );
    expect((err as Error).message).toBe('litellm answered 404: Key sk-…efgh not found');
  });

  it('caps a key budget and undo restores "no budget"', async () => {
    const before = h.litellm.key(KEY);
    const params = { key: KEY, max_budget: 25, budget_duration: '1d' };
    const preview = await gatewayBudgetCap.run(h.context(gatewayBudgetCap, params, { dryRun: true }));
    expect(preview.changes).toEqual([
      { target: 'key sk-…Q9zZ max_budget', from: null, to: 25 },
      { target: 'key sk-…Q9zZ budget_duration', from: null, to: '1d' },
    ]);
    expect(writes()).toEqual([]);

    const outcome = await gatewayBudgetCap.run(h.context(gatewayBudgetCap, params));
    expect(outcome.previousState).toEqual({ max_budget: null, budget_duration: null });
    expect(h.litellm.key(KEY)).toMatchObject({ max_budget: 25, budget_duration: '1d' });
    expect(h.litellm.changedBy()).toEqual([{ path: '/key/update', changedBy: ACTOR }]);

    await gatewayBudgetCap.undo(h.undoContext(gatewayBudgetCap, params, outcome.previousState));
    expect(h.litellm.key(KEY)).toEqual(before);
  });

  it('caps a team budget and keeps its duration when none is given', async () => {
    const before = h.litellm.team('team-search');
    const outcome = await gatewayBudgetCap.run(
      h.context(gatewayBudgetCap, { team_id: 'team-search', max_budget: 50 }),
    );
    expect(outcome.previousState).toEqual({ max_budget: 500 });
    expect(h.litellm.team('team-search')).toMatchObject({ max_budget: 50, budget_duration: '30d' });
    await gatewayBudgetCap.undo(
      h.undoContext(gatewayBudgetCap, { team_id: 'team-search', max_budget: 50 }, outcome.previousState),
    );
    expect(h.litellm.team('team-search')).toEqual(before);
  });

  it('records requests without credentials, the key masked', async () => {
    await gatewayRateLimit.run(h.context(gatewayRateLimit, { key: KEY, rpm_limit: 5 }));
    const audit = JSON.stringify(h.recorded);
    for (const secret of [...h.secrets(), KEY]) expect(audit).not.toContain(secret);
    expect(h.recorded).toEqual([
      { method: 'GET', url: `${h.litellm.url}/key/info?key=sk-%E2%80%A6Q9zZ`, body: undefined, status: 200 },
      {
        method: 'POST',
        url: `${h.litellm.url}/key/update`,
        body: { key: 'sk-…Q9zZ', rpm_limit: 5 },
        status: 200,
      },
    ]);
  });
});
