import express, { type Response, type Router } from 'express';
import { z } from 'zod';
import { secretsEqual } from '../http/bearer-auth.js';
import { chatAnswer } from './answers.js';
import { type Route, route } from './behaviour.js';
import { INVALID_JSON, jsonBody, readText, type StateStore, sendJson } from './http-support.js';
import { productionEffect } from './state.js';

const message = z.looseObject({
  role: z.string(),
  content: z.union([
    z.string(),
    z.array(z.looseObject({ type: z.string(), text: z.string().optional() })),
    z.null(),
  ]),
});
const completionRequest = z.looseObject({
  model: z.string().min(1),
  messages: z.array(message).min(1),
});

/** OpenAI's error body. */
function openAiError(res: Response, status: number, text: string, type: string, param: string | null = null) {
  sendJson(res, status, { error: { message: text, type, param, code: String(status) } });
}

function textOf(content: z.infer<typeof message>['content']): string {
  if (content === null) return '';
  if (typeof content === 'string') return content;
  return content.map((part) => part.text ?? '').join('\n');
}

/** About four characters a token, as tokenizers average on English. */
function tokensOf(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

const ROUTE_ERRORS: Record<Exclude<Route, { ok: true }>['error'], { status: number; type: string }> = {
  invalid_model: { status: 400, type: 'invalid_request_error' },
  not_found: { status: 404, type: 'not_found_error' },
  context_length_exceeded: { status: 400, type: 'invalid_request_error' },
  content_filter: { status: 400, type: 'invalid_request_error' },
};

/**
 * An OpenAI-compatible `POST /v1/chat/completions` (and `GET /v1/models`) through the app's
 * gateway: the request's model is routed as the simulated LiteLLM routes it (deployments,
 * fallbacks, drift), and the answer is generated with the production prompt. The response reports
 * the `model` and `system_fingerprint` that answered, so a golden set sees misrouting and silent
 * provider updates. Authorization is optional (a local golden-set probe needs none); a virtual key
 * that is blocked or over its budget is refused as LiteLLM refuses it. Probes are not counted in
 * the traffic metrics.
 */
export function chatRouter(options: { store: StateStore; masterKey: string }): Router {
  const { store } = options;
  const router = express.Router();
  let completions = 0;

  router.get('/v1/models', (_req, res) => {
    const names = [...new Set(store.get().gateway.deployments.map((d) => d.modelName))];
    sendJson(res, 200, {
      object: 'list',
      data: names.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'openai' })),
    });
  });

  router.post('/v1/chat/completions', readText, (req, res) => {
    const state = store.get();
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
    if (bearer !== undefined && !secretsEqual(bearer, options.masterKey)) {
      const key = Object.hasOwn(state.gateway.keys, bearer) ? state.gateway.keys[bearer] : undefined;
      if (!key)
        return openAiError(
          res,
          401,
          'Authentication Error, Invalid proxy server token passed.',
          'auth_error',
        );
      if (key.blocked) {
        return openAiError(res, 401, `Authentication Error, Key is blocked. Key=${key.alias}`, 'auth_error');
      }
      if (key.maxBudget !== null && key.spend >= key.maxBudget) {
        return openAiError(
          res,
          400,
          `Budget has been exceeded! Current cost: ${key.spend.toFixed(2)}, Max budget: ${key.maxBudget}`,
          'budget_exceeded',
        );
      }
    }
    const body = jsonBody(req);
    if (body === INVALID_JSON)
      return openAiError(res, 400, 'The body is not valid JSON.', 'invalid_request_error');
    const parsed = completionRequest.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return openAiError(
        res,
        400,
        `Invalid request: ${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`,
        'invalid_request_error',
        issue?.path.join('.') || null,
      );
    }
    const { model, messages } = parsed.data;
    const question = textOf(messages.filter((m) => m.role === 'user').at(-1)?.content ?? null);
    const promptTokens = tokensOf(messages.map((m) => textOf(m.content)).join('\n'));
    const routed = route(state, model, { inputTokens: promptTokens, filtered: false });
    if (!routed.ok) {
      const { status, type } = ROUTE_ERRORS[routed.error];
      const text =
        routed.error === 'invalid_model'
          ? `Invalid model name passed in model=${model}. Call \`/v1/models\` to view available models.`
          : `${routed.error}: the request could not be served by model group ${model}`;
      return openAiError(res, status, text, type, routed.error === 'invalid_model' ? 'model' : null);
    }
    const content = chatAnswer(question, { effect: productionEffect(state), drifted: routed.drifted });
    const completionTokens = tokensOf(content);
    completions += 1;
    sendJson(res, 200, {
      id: `chatcmpl-reference-${completions}`,
      object: 'chat.completion',
      created: Math.floor(state.clockMs / 1000),
      model: routed.model.responseModel,
      system_fingerprint: routed.fingerprint,
      choices: [{ index: 0, message: { role: 'assistant', content }, logprobs: null, finish_reason: 'stop' }],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      },
    });
  });
  return router;
}
