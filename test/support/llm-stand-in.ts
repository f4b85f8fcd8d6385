import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

export const LLM_STAND_IN_KEY = 'sk-test-stand-in';

/** One completion; `model` and `systemFingerprint` default to the stand-in's own. */
export interface LlmReply {
  content: string;
  model?: string;
  /** `null` sends `system_fingerprint: null`, as providers that do not report one do. */
  systemFingerprint?: string | null;
}

export type LlmAnswer =
  | LlmReply
  | { status: number; message?: string }
  | { delayMs: number; answer?: LlmAnswer };

export type PromptMatcher = string | RegExp | ((prompt: string) => boolean);

/** A request as received: the last user message is `prompt`. */
export interface ReceivedCompletion {
  model: string;
  prompt: string;
  system: string | undefined;
  temperature: number | undefined;
}

export interface LlmStandIn {
  /** Base URL including `/v1`, as `deps.llm.baseUrl` takes it. */
  baseUrl: string;
  requests: ReceivedCompletion[];
  /** The most requests that were in flight at once. */
  maxInFlight: number;
  /**
   * Answers prompts that match (the latest matching registration wins). Several answers are
   * given in turn, one per call, starting over at the end, e.g. to alternate right and wrong.
   */
  answer(matcher: PromptMatcher, answers: LlmAnswer | LlmAnswer[]): void;
  /** The `model` and `system_fingerprint` of every later reply that does not set its own. */
  serve(model: string, systemFingerprint: string | null): void;
  close(): Promise<void>;
}

interface ChatRequest {
  model?: string;
  temperature?: number;
  messages?: Array<{ role?: string; content?: string }>;
}

function matches(matcher: PromptMatcher, prompt: string): boolean {
  if (typeof matcher === 'string') return prompt === matcher;
  if (matcher instanceof RegExp) return matcher.test(prompt);
  return matcher(prompt);
}

function sendError(res: ServerResponse, status: number, message: string, type: string, code: string | null) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { message, type, param: null, code } }));
}

async function readJson(req: IncomingMessage): Promise<ChatRequest | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatRequest;
  } catch {
    return undefined;
  }
}

/**
 * A loopback OpenAI-compatible `POST /v1/chat/completions`. It checks the bearer key, answers
 * per prompt, and reports `model` and `system_fingerprint` the way OpenAI does.
 */
export async function startLlmStandIn(options: { apiKey?: string } = {}): Promise<LlmStandIn> {
  const apiKey = options.apiKey ?? LLM_STAND_IN_KEY;
  const rules: Array<{ matcher: PromptMatcher; answers: LlmAnswer[]; calls: number }> = [];
  const requests: ReceivedCompletion[] = [];
  let served = { model: 'gpt-4o-2024-08-06', fingerprint: 'fp_stand_in_1' as string | null };
  let inFlight = 0;
  const standIn = {
    baseUrl: '',
    requests,
    maxInFlight: 0,
  };

  async function reply(res: ServerResponse, answer: LlmAnswer): Promise<void> {
    if ('delayMs' in answer) {
      await delay(answer.delayMs);
      return reply(res, answer.answer ?? { content: '' });
    }
    if ('status' in answer) {
      return sendError(res, answer.status, answer.message ?? 'The server had an error', 'server_error', null);
    }
    const body = {
      id: `chatcmpl-${randomBytes(12).toString('hex')}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: answer.model ?? served.model,
      system_fingerprint:
        answer.systemFingerprint === undefined ? served.fingerprint : answer.systemFingerprint,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: answer.content, refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 12, completion_tokens: answer.content.split(/\s+/).length, total_tokens: 0 },
    };
    body.usage.total_tokens = body.usage.prompt_tokens + body.usage.completion_tokens;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  const server = createServer(async (req, res) => {
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      return sendError(res, 404, `Invalid URL (${req.method} ${req.url})`, 'invalid_request_error', null);
    }
    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      return sendError(res, 401, 'Incorrect API key provided', 'invalid_request_error', 'invalid_api_key');
    }
    const body = await readJson(req);
    const messages = body?.messages ?? [];
    const prompt = messages.findLast((message) => message.role === 'user')?.content;
    if (!body?.model || prompt === undefined) {
      return sendError(res, 400, 'model and a user message are required', 'invalid_request_error', null);
    }
    requests.push({
      model: body.model,
      prompt,
      system: messages.find((message) => message.role === 'system')?.content,
      temperature: body.temperature,
    });
    inFlight++;
    standIn.maxInFlight = Math.max(standIn.maxInFlight, inFlight);
    try {
      const rule = rules.findLast((candidate) => matches(candidate.matcher, prompt));
      const answer = rule ? rule.answers[rule.calls++ % rule.answers.length]! : { content: '' };
      await reply(res, answer);
    } finally {
      inFlight--;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  standIn.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;

  return Object.assign(standIn, {
    answer(matcher: PromptMatcher, answers: LlmAnswer | LlmAnswer[]) {
      rules.push({ matcher, answers: Array.isArray(answers) ? answers : [answers], calls: 0 });
    },
    serve(model: string, systemFingerprint: string | null) {
      served = { model, fingerprint: systemFingerprint };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  });
}
