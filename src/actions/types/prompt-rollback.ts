import { z } from 'zod';
import { PROMPT_ROLLBACK, type PromptRollbackParams } from '../action-catalog.js';
import { ActionError } from '../action-error.js';
import type { ActionType, IntegrationClient } from '../action-type.js';
import { expectShape, previousStateOf, snapshot } from './support.js';

const promptAnswer = z.looseObject({ version: z.number().int(), labels: z.array(z.string()).optional() });
const promptListAnswer = z.looseObject({
  data: z.array(z.looseObject({ name: z.string(), versions: z.array(z.number().int()) })),
});

/** What run records: the version the label was moved FROM (Langfuse keeps no label history). */
const previousSchema = z.strictObject({
  prompt: z.string(),
  label: z.string(),
  fromVersion: z.number().int(),
  toVersion: z.number().int(),
});
export type PromptRollbackState = z.output<typeof previousSchema>;

/** Prompt names may contain folders (`team/rag-answer`): Langfuse wants them URL-encoded. */
function promptPath(name: string): string {
  return `/api/public/v2/prompts/${encodeURIComponent(name)}`;
}

async function labelledVersion(langfuse: IntegrationClient, name: string, label: string): Promise<number> {
  const answer = await langfuse.request('GET', `${promptPath(name)}?label=${encodeURIComponent(label)}`);
  return expectShape(promptAnswer, answer, 'langfuse', `GET prompt "${name}" label ${label}`).version;
}

async function versionBefore(langfuse: IntegrationClient, name: string, current: number): Promise<number> {
  const answer = await langfuse.request('GET', `/api/public/v2/prompts?name=${encodeURIComponent(name)}`);
  const list = expectShape(promptListAnswer, answer, 'langfuse', `GET prompts named "${name}"`);
  const versions = list.data.find((entry) => entry.name === name)?.versions ?? [];
  const earlier = versions.filter((version) => version < current);
  if (earlier.length === 0) {
    throw new ActionError({
      integration: 'langfuse',
      kind: 'invalid',
      integrationMessage: `prompt "${name}" has no version before v${current} to roll back to`,
    });
  }
  return Math.max(...earlier);
}

/** `PATCH …/versions/{version}` with `newLabels: [label]`: Langfuse moves the label off the others. */
async function moveLabel(langfuse: IntegrationClient, name: string, version: number, label: string) {
  const answer = await langfuse.request('PATCH', `${promptPath(name)}/versions/${version}`, {
    newLabels: [label],
  });
  const prompt = expectShape(promptAnswer, answer, 'langfuse', `PATCH prompt "${name}" v${version}`);
  return { version: prompt.version, labels: prompt.labels ?? [] };
}

/**
 * `prompt.rollback`: moves a Langfuse label (production by default) to `to_version`, or to the
 * version before the one that has it now. previousState: `{ prompt, label, fromVersion, toVersion }`;
 * undo moves the label back to `fromVersion`. SDKs cache prompts for about 60 s, so the rollback
 * takes effect in clients within a minute.
 */
export const promptRollback: ActionType<PromptRollbackParams> = {
  ...PROMPT_ROLLBACK,

  async run(ctx) {
    const { prompt, label } = ctx.params;
    const langfuse = ctx.integration('langfuse');
    const state: PromptRollbackState = await snapshot(ctx, 'before', async () => {
      const fromVersion = await labelledVersion(langfuse, prompt, label);
      const toVersion = ctx.params.to_version ?? (await versionBefore(langfuse, prompt, fromVersion));
      if (ctx.params.to_version !== undefined && toVersion !== fromVersion) {
        // Fails with Langfuse's own 404 when that version does not exist.
        await langfuse.request('GET', `${promptPath(prompt)}?version=${toVersion}`);
      }
      return { prompt, label, fromVersion, toVersion };
    });
    const target = `prompt "${prompt}" ${label} label`;
    if (state.fromVersion === state.toVersion) {
      return {
        summary: `${target} is already on v${state.toVersion}; nothing to change`,
        changes: [],
        previousState: state,
      };
    }
    const changes = [{ target, from: state.fromVersion, to: state.toVersion }];
    if (ctx.isDryRun) {
      return {
        summary: `Would move ${target} from v${state.fromVersion} to v${state.toVersion}`,
        changes,
        previousState: state,
      };
    }
    await ctx.checkpoint('patch-label', () => moveLabel(langfuse, prompt, state.toVersion, label));
    return {
      summary: `Moved ${target} from v${state.fromVersion} to v${state.toVersion} (SDK caches refresh within about 60 s)`,
      changes,
      previousState: state,
    };
  },

  async undo(ctx) {
    const previous = previousStateOf(previousSchema, ctx, PROMPT_ROLLBACK.id);
    const langfuse = ctx.integration('langfuse');
    const current = await ctx.checkpoint('undo:before', () =>
      labelledVersion(langfuse, previous.prompt, previous.label),
    );
    const state: PromptRollbackState = { ...previous, fromVersion: current, toVersion: previous.fromVersion };
    const target = `prompt "${previous.prompt}" ${previous.label} label`;
    if (current === previous.fromVersion) {
      return {
        summary: `${target} is already on v${current}; nothing to undo`,
        changes: [],
        previousState: state,
      };
    }
    if (current !== previous.toVersion) {
      ctx.logger.warn(
        { prompt: previous.prompt, label: previous.label, current, expected: previous.toVersion },
        'the label moved since the rollback; undo moves it back anyway',
      );
    }
    await ctx.checkpoint('undo:patch-label', () =>
      moveLabel(langfuse, previous.prompt, previous.fromVersion, previous.label),
    );
    const moved =
      current !== previous.toVersion ? ` (it was on v${current}, not v${previous.toVersion} as set)` : '';
    return {
      summary: `Moved ${target} back to v${previous.fromVersion}${moved}`,
      changes: [{ target, from: current, to: previous.fromVersion }],
      previousState: state,
    };
  },
};
