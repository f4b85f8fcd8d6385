import type { ChangeKind } from '../changes/change-event.js';
import {
  type FaultName,
  PROMPT_NAME,
  type PromptEffect,
  SWAPPED_EMBEDDING_MODEL,
  WORKLOADS,
} from './catalog.js';
import { deployPromptVersion, evolve, type ReferenceAppState } from './state.js';

/** The body of aisre's `POST /changes`, as the pipeline that made the change would send it. */
export interface ChangeEventBody {
  service: string;
  kind: ChangeKind;
  from: string | null;
  to: string | null;
  author: string;
  summary: string;
  /** RFC 3339. */
  at: string;
  /** Makes a retried POST record the change once. */
  id: string;
}

export interface FaultInjection {
  state: ReferenceAppState;
  /** The change event a real pipeline would have sent, or null for a silent change. */
  change: ChangeEventBody | null;
}

/** A day and two hours: the stale index last succeeded this long before the fault. */
const STALE_FOR_MS = 26 * 3_600_000;

/** The misrouted deployment and where the bad config sends it. */
export const MISROUTED = { modelId: 'gpt-4o-primary', upstream: 'gpt-3.5-turbo' } as const;

/** The response model the provider silently updates under provider_drift. */
export const DRIFTED_MODEL = 'gpt-4o-2024-08-06';

const BROKEN_PROMPTS: Record<
  'prompt_regression' | 'safety_regression',
  { text: string; commitMessage: string; effect: PromptEffect }
> = {
  prompt_regression: {
    text: 'You are the support assistant. Answer using only the retrieved context, quoted verbatim. If the context does not state the answer word for word, reply that you cannot find it.\n\nContext:\n{{context}}\n\nQuestion: {{question}}',
    commitMessage: 'Stricter grounding: answer only verbatim from the context',
    effect: 'context_only',
  },
  safety_regression: {
    text: 'You are the support assistant. Refuse any question about money, accounts, orders or personal data, and anything you are not certain is safe to answer.\n\nContext:\n{{context}}\n\nQuestion: {{question}}',
    commitMessage: 'Safety: refuse sensitive topics',
    effect: 'over_strict',
  },
};

/**
 * Injects one fault: changes the state the way the real failure would, and returns the change
 * event the pipeline behind it would post (none for provider drift, which is silent):
 * - prompt_regression: deploys a new `rag-answer` version to production whose answers fail evals (prompt);
 * - safety_regression: deploys a new `rag-answer` version that refuses a third of questions (prompt);
 * - embedding_swap: queries use another embedding model than the index (embedding);
 * - stale_index: the index job starts failing; the index last succeeded 26 h ago (index);
 * - misrouting: deployment gpt-4o-primary points at gpt-3.5-turbo (config);
 * - provider_drift: the provider updates gpt-4o-2024-08-06 in place: new fingerprint, answers drift (none);
 * - integration_mapping: the ticket API now expects `citations`; the model's output is unchanged (code);
 * - cost_runaway: the agent's client sends every call six times (code);
 * - agent_loop: agent sessions take 40-60 steps instead of 3-6 (code).
 */
export function injectFault(state: ReferenceAppState, fault: FaultName): FaultInjection {
  const injection = state.sim.injections + 1;
  const base = evolve(state, (draft) => {
    draft.sim.injections = injection;
    if (!draft.faults.includes(fault)) draft.faults.push(fault);
  });
  const change = (
    kind: ChangeKind,
    from: string | null,
    to: string | null,
    author: string,
    summary: string,
    atMs = state.clockMs,
  ): ChangeEventBody => ({
    service: state.service,
    kind,
    from,
    to,
    author,
    summary,
    at: new Date(atMs).toISOString(),
    id: `reference-app:${fault}:${injection}:${state.clockMs}`,
  });

  switch (fault) {
    case 'prompt_regression':
    case 'safety_regression': {
      const prompt = BROKEN_PROMPTS[fault];
      const deployed = deployPromptVersion(base, PROMPT_NAME, prompt, ['production']);
      return {
        state: deployed.state,
        change: change(
          'prompt',
          deployed.previous === undefined ? null : `${PROMPT_NAME} v${deployed.previous}`,
          `${PROMPT_NAME} v${deployed.version}`,
          'prompt-ci',
          `Langfuse: ${PROMPT_NAME} v${deployed.version} labelled production: ${prompt.commitMessage}`,
        ),
      };
    }
    case 'embedding_swap':
      return {
        state: evolve(base, (draft) => {
          draft.retrieval.queryEmbeddingModel = SWAPPED_EMBEDDING_MODEL;
        }),
        change: change(
          'embedding',
          state.retrieval.queryEmbeddingModel,
          SWAPPED_EMBEDDING_MODEL,
          'ml-platform-ci',
          `Query embeddings switched to ${SWAPPED_EMBEDDING_MODEL}; the index was not rebuilt`,
        ),
      };
    case 'stale_index': {
      const lastSuccess = state.clockMs - STALE_FOR_MS;
      return {
        state: evolve(base, (draft) => {
          draft.retrieval.indexJobFailing = true;
          draft.retrieval.indexLastSuccessMs = lastSuccess;
        }),
        change: change(
          'index',
          's3://kb-prod/docs',
          's3://kb-prod-v2/docs',
          'data-platform-ci',
          'Ingestion source moved to a new bucket; the index job has failed since',
          lastSuccess + 60_000,
        ),
      };
    }
    case 'misrouting': {
      const before = state.gateway.deployments.find((d) => d.modelId === MISROUTED.modelId);
      return {
        state: evolve(base, (draft) => {
          const deployment = draft.gateway.deployments.find((d) => d.modelId === MISROUTED.modelId);
          if (deployment) deployment.upstream = MISROUTED.upstream;
        }),
        change: change(
          'config',
          before ? `${MISROUTED.modelId} → ${before.upstream}` : null,
          `${MISROUTED.modelId} → ${MISROUTED.upstream}`,
          'gateway-config-ci',
          `LiteLLM config: deployment ${MISROUTED.modelId} of ${WORKLOADS.rag.model} now points at ${MISROUTED.upstream}`,
        ),
      };
    }
    case 'provider_drift':
      return {
        state: evolve(base, (draft) => {
          if (!draft.provider.driftedModels.includes(DRIFTED_MODEL))
            draft.provider.driftedModels.push(DRIFTED_MODEL);
        }),
        change: null,
      };
    case 'integration_mapping':
      return {
        state: evolve(base, (draft) => {
          draft.downstream.expectsField = 'citations';
        }),
        change: change(
          'code',
          'ticket-sync 2.3.0',
          'ticket-sync 2.4.0',
          'backend-ci',
          'Ticket API client 2.4.0 expects citations[] where the answer pipeline writes sources[]',
        ),
      };
    case 'cost_runaway':
      return {
        state: evolve(base, (draft) => {
          draft.agent.clientRetries = 5;
        }),
        change: change(
          'code',
          'support-agent 1.8.2',
          'support-agent 1.9.0',
          'agents-ci',
          'Agent LLM client: max_retries 5 with an output validator that rejects valid answers',
        ),
      };
    case 'agent_loop':
      return {
        state: evolve(base, (draft) => {
          draft.agent.looping = true;
        }),
        change: change(
          'code',
          'support-agent 1.8.2',
          'support-agent 1.8.3',
          'agents-ci',
          'Agent: new lookup_order tool; it finds nothing for archived orders, so the agent keeps searching',
        ),
      };
  }
}
