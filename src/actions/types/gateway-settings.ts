import { z } from 'zod';
import type { ActionDefinition } from '../action-catalog.js';
import type { ActionChange, ActionContext, ActionType, IntegrationClient } from '../action-type.js';
import {
  describeGatewayTarget,
  expectShape,
  LITELLM_CHANGED_BY,
  previousStateOf,
  send,
  snapshot,
} from './support.js';

/** A LiteLLM key or team: exactly one of the two is set (the catalog's params enforce it). */
export interface GatewayTarget {
  key?: string | undefined;
  team_id?: string | undefined;
}

type Fields = Record<string, z.ZodType>;
type Values = Record<string, unknown>;

const keyInfoAnswer = z.looseObject({ info: z.record(z.string(), z.unknown()) });
const teamInfoAnswer = z.looseObject({ team_info: z.record(z.string(), z.unknown()) });

/** Reads `fields` of a key (`GET /key/info?key=`) or team (`GET /team/info?team_id=`); absent is null. */
export async function readGatewayFields(
  litellm: IntegrationClient,
  target: GatewayTarget,
  fields: Fields,
): Promise<Values> {
  const record =
    target.key !== undefined
      ? expectShape(
          keyInfoAnswer,
          await litellm.request('GET', `/key/info?key=${encodeURIComponent(target.key)}`),
          'litellm',
          'GET /key/info',
        ).info
      : expectShape(
          teamInfoAnswer,
          await litellm.request('GET', `/team/info?team_id=${encodeURIComponent(target.team_id ?? '')}`),
          'litellm',
          'GET /team/info',
        ).team_info;
  const values: Values = {};
  for (const [field, schema] of Object.entries(fields)) {
    values[field] = expectShape(
      schema,
      record[field] ?? null,
      'litellm',
      `${field} of ${describeGatewayTarget(target)}`,
    );
  }
  return values;
}

/** `POST /key/update` or `POST /team/update` with `values`, attributed with `litellm-changed-by`. */
export async function updateGatewayFields(
  ctx: Pick<ActionContext<unknown>, 'logger' | 'actor'>,
  litellm: IntegrationClient,
  target: GatewayTarget,
  values: Values,
): Promise<void> {
  const [path, id] =
    target.key !== undefined
      ? ['/key/update', { key: target.key }]
      : ['/team/update', { team_id: target.team_id }];
  await send(ctx, litellm, 'POST', path, { ...id, ...values }, { [LITELLM_CHANGED_BY]: ctx.actor });
}

function show(value: unknown): string {
  return value === null || value === undefined ? 'none' : String(value);
}

function describeChanges(changes: ActionChange[]): string {
  return changes
    .map((change) => `${change.target.split(' ').pop()} ${show(change.from)} → ${show(change.to)}`)
    .join(', ');
}

/**
 * An action that sets some fields of a LiteLLM key or team (limits, budgets) and restores them on
 * undo. `previousState` holds the previous value of each field it sets, null where none was set
 * (restored as null). Fields the runbook did not give are neither recorded nor touched.
 */
export function gatewaySettingsAction<P extends GatewayTarget>(
  definition: ActionDefinition<P>,
  fields: Fields,
): ActionType<P> {
  const wantedOf = (params: P): Values => {
    const values: Values = {};
    for (const field of Object.keys(fields)) {
      const value = (params as Record<string, unknown>)[field];
      if (value !== undefined) values[field] = value;
    }
    return values;
  };
  const previousSchema = z.strictObject(
    Object.fromEntries(Object.entries(fields).map(([field, schema]) => [field, schema.optional()])),
  );

  return {
    ...definition,

    async run(ctx) {
      const litellm = ctx.integration('litellm');
      const wanted = wantedOf(ctx.params);
      const subset = Object.fromEntries(Object.keys(wanted).map((field) => [field, fields[field]!]));
      const before = await snapshot(ctx, 'before', () => readGatewayFields(litellm, ctx.params, subset));
      const target = describeGatewayTarget(ctx.params);
      const changes = Object.entries(wanted).map(([field, to]) => ({
        target: `${target} ${field}`,
        from: before[field] ?? null,
        to,
      }));
      if (changes.every((change) => change.from === change.to)) {
        return {
          summary: `${target} already has ${describeChanges(changes)}; nothing to change`,
          changes: [],
          previousState: before,
        };
      }
      if (ctx.isDryRun) {
        return {
          summary: `Would set ${describeChanges(changes)} on ${target}`,
          changes,
          previousState: before,
        };
      }
      await ctx.checkpoint('update', async () => {
        await updateGatewayFields(ctx, litellm, ctx.params, wanted);
        return { updated: Object.keys(wanted) };
      });
      return { summary: `Set ${describeChanges(changes)} on ${target}`, changes, previousState: before };
    },

    async undo(ctx) {
      const previous = previousStateOf(previousSchema, ctx, definition.id) as Values;
      const litellm = ctx.integration('litellm');
      const subset = Object.fromEntries(Object.keys(previous).map((field) => [field, fields[field]!]));
      const current = await ctx.checkpoint('undo:before', () =>
        readGatewayFields(litellm, ctx.params, subset),
      );
      const target = describeGatewayTarget(ctx.params);
      const changes = Object.entries(previous).map(([field, to]) => ({
        target: `${target} ${field}`,
        from: current[field] ?? null,
        to,
      }));
      if (changes.length > 0) {
        await ctx.checkpoint('undo:update', async () => {
          await updateGatewayFields(ctx, litellm, ctx.params, previous);
          return { restored: Object.keys(previous) };
        });
      }
      return {
        summary: `Restored ${describeChanges(changes)} on ${target}`,
        changes,
        previousState: current,
      };
    },
  };
}
