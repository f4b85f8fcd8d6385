/**
 * The fixed facts of the reference app's simulated world: the provider's models, what the app
 * starts with (prompt versions, gateway keys and deployments), and the faults that can be injected.
 * Everything that changes at run time lives in ReferenceAppState (state.ts).
 */

/** A model as the provider serves it; prices are US dollars per million tokens. */
export interface ProviderModel {
  /** What the provider reports as `model` (gen_ai_response_model). */
  responseModel: string;
  /** The model a request for this model name is meant to reach; aliases and snapshots share it. */
  family: string;
  contextWindow: number;
  /** Share of answers that pass the app's online evals with a good prompt and retrieval. */
  quality: number;
  inputPrice: number;
  outputPrice: number;
  /** Mean seconds per completion. */
  latency: number;
  fingerprint: string;
  /** The fingerprint after a silent provider update (provider_drift). */
  driftFingerprint: string;
}

const GPT_4O_0806: ProviderModel = {
  responseModel: 'gpt-4o-2024-08-06',
  family: 'gpt-4o',
  contextWindow: 128_000,
  quality: 0.95,
  inputPrice: 2.5,
  outputPrice: 10,
  latency: 1.4,
  fingerprint: 'fp_7f6be3efb0',
  driftFingerprint: 'fp_d2f1a6c9e4',
};

/**
 * Upstream model names a deployment may point at (`litellm_params.model`, a provider prefix such
 * as `openai/` is ignored). `gpt-4o` is an alias of the 2024-08-06 snapshot, which is the one the
 * provider silently updates under provider_drift; pinning the older snapshot avoids it.
 */
export const PROVIDER_MODELS: Readonly<Record<string, ProviderModel>> = {
  'gpt-4o': GPT_4O_0806,
  'gpt-4o-2024-08-06': GPT_4O_0806,
  'gpt-4o-2024-05-13': {
    responseModel: 'gpt-4o-2024-05-13',
    family: 'gpt-4o',
    contextWindow: 128_000,
    quality: 0.95,
    inputPrice: 5,
    outputPrice: 15,
    latency: 1.6,
    fingerprint: 'fp_3aa7262c27',
    driftFingerprint: 'fp_3aa7262c27',
  },
  'gpt-4o-mini': {
    responseModel: 'gpt-4o-mini-2024-07-18',
    family: 'gpt-4o-mini',
    contextWindow: 128_000,
    quality: 0.93,
    inputPrice: 0.15,
    outputPrice: 0.6,
    latency: 0.8,
    fingerprint: 'fp_0ba0d124f1',
    driftFingerprint: 'fp_0ba0d124f1',
  },
  'gpt-3.5-turbo': {
    responseModel: 'gpt-3.5-turbo-0613',
    family: 'gpt-3.5-turbo',
    contextWindow: 4_096,
    quality: 0.78,
    inputPrice: 1.5,
    outputPrice: 2,
    latency: 0.6,
    fingerprint: 'fp_legacy_0613',
    driftFingerprint: 'fp_legacy_0613',
  },
};

/** The provider model behind an upstream name, or undefined when the provider has no such model. */
export function providerModel(upstream: string): ProviderModel | undefined {
  const name = upstream.includes('/') ? upstream.slice(upstream.lastIndexOf('/') + 1) : upstream;
  return Object.hasOwn(PROVIDER_MODELS, name) ? PROVIDER_MODELS[name] : undefined;
}

/** The service label every metric carries, unless the app is started with another. */
export const DEFAULT_SERVICE = 'rag-assistant';
export const PROVIDER_NAME = 'openai';

/** The Langfuse prompt the RAG answers use; a prompt deploy moves its `production` label. */
export const PROMPT_NAME = 'rag-answer';

/** What a prompt version does to answers: the seeded ones are good, faults deploy the others. */
export type PromptEffect = 'good' | 'context_only' | 'over_strict';

export const SEED_PROMPTS: ReadonlyArray<{ text: string; commitMessage: string; effect: PromptEffect }> = [
  {
    text: 'You are the support assistant. Answer the question using the context.\n\nContext:\n{{context}}\n\nQuestion: {{question}}',
    commitMessage: 'First version',
    effect: 'good',
  },
  {
    text: 'You are the support assistant. Answer briefly and correctly, using the context where it helps, and cite the documents you used.\n\nContext:\n{{context}}\n\nQuestion: {{question}}',
    commitMessage: 'Cite sources; answer briefly',
    effect: 'good',
  },
];

/** The two workloads of the app and the LiteLLM virtual keys they call the gateway with. */
export const WORKLOADS = {
  /** User questions answered with retrieval and one completion each. */
  rag: { key: 'sk-rag-assistant-0001', alias: 'rag-assistant', model: 'gpt-4o' },
  /** A support agent: sessions of several tool-using completions. */
  agent: { key: 'sk-support-agent-0001', alias: 'support-agent', model: 'gpt-4o-mini' },
} as const;
export type Workload = keyof typeof WORKLOADS;

export const TEAM_ID = 'ai-platform';

/** Month-to-date spend the keys start with (a budget cap below it stops the key at once). */
export const SEED_SPEND: Readonly<Record<Workload, number>> = { rag: 312.4, agent: 61.2 };

/** LiteLLM deployments (`model_info.id`) the gateway starts with, one per model group. */
export const SEED_DEPLOYMENTS: ReadonlyArray<{ modelId: string; modelName: string; upstream: string }> = [
  { modelId: 'gpt-4o-primary', modelName: 'gpt-4o', upstream: 'gpt-4o' },
  { modelId: 'gpt-4o-mini-primary', modelName: 'gpt-4o-mini', upstream: 'gpt-4o-mini' },
  { modelId: 'gpt-35-legacy', modelName: 'gpt-3.5-turbo', upstream: 'gpt-3.5-turbo' },
];

export const FALLBACK_TYPES = ['general', 'context_window', 'content_policy'] as const;
export type FallbackType = (typeof FALLBACK_TYPES)[number];

/** Only long-context requests have somewhere to go at first; nothing else falls back. */
export const SEED_FALLBACKS: ReadonlyArray<{ type: FallbackType; model: string; fallbacks: string[] }> = [
  { type: 'context_window', model: 'gpt-4o', fallbacks: ['gpt-4o-mini'] },
];

export const EMBEDDING_MODEL = 'text-embedding-3-small';
export const SWAPPED_EMBEDDING_MODEL = 'text-embedding-3-large';

/** One fault per layer; see faults.ts for what each changes and the change event it posts. */
export const FAULTS = [
  'prompt_regression',
  'embedding_swap',
  'stale_index',
  'misrouting',
  'provider_drift',
  'integration_mapping',
  'cost_runaway',
  'agent_loop',
  'safety_regression',
] as const;
export type FaultName = (typeof FAULTS)[number];

export function isFaultName(value: unknown): value is FaultName {
  return typeof value === 'string' && (FAULTS as readonly string[]).includes(value);
}

/** The simulation advances in steps of this much simulated time. */
export const STEP_MS = 250;
