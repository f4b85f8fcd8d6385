import { parseArgs } from 'node:util';
import { AppError } from '../errors.js';
import { FAULTS } from './catalog.js';
import { type ReferenceAppOptions, startReferenceApp } from './reference-app.js';

export const REFERENCE_APP_USAGE = `aisre reference-app [--port N] [--aisre-url URL --aisre-token T] [--service NAME]
                    [--hook-secret S] [--interval MS]

Runs a simulated LLM/RAG app for game days: Prometheus metrics, an OpenAI-compatible chat
endpoint, Langfuse's prompt API, LiteLLM's admin API, a signed remedy webhook, and faults to
inject with POST /faults {"fault": <name>}. With --aisre-url and --aisre-token (AISRE_API_TOKEN)
each fault posts its change event to aisre's POST /changes.`;

function usageError(message: string): AppError {
  return new AppError('validation_failed', `${message}\n\n${REFERENCE_APP_USAGE}`);
}

function integer(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw usageError(`${flag} must be a whole number from ${min} to ${max}`);
  }
  return parsed;
}

/** The options `aisre reference-app` flags give; an AppError names a bad flag. */
export function parseReferenceAppFlags(flags: string[]): ReferenceAppOptions {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: flags,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'aisre-url': { type: 'string' },
        'aisre-token': { type: 'string' },
        service: { type: 'string' },
        'hook-secret': { type: 'string' },
        interval: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }).values as Record<string, string | undefined>;
  } catch (err) {
    throw usageError((err as Error).message);
  }
  const aisreUrl = values['aisre-url'];
  const aisreToken = values['aisre-token'];
  if ((aisreUrl === undefined) !== (aisreToken === undefined)) {
    throw usageError('--aisre-url and --aisre-token go together');
  }
  if (aisreUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(aisreUrl)) {
    throw usageError('--aisre-url must be an http(s) URL');
  }
  const hookSecret = values['hook-secret'];
  if (hookSecret !== undefined && hookSecret.length < 16)
    throw usageError('--hook-secret needs 16+ characters');
  const port = integer(values.port, '--port', 0, 65_535);
  const interval = integer(values.interval, '--interval', 0, 60_000);
  return {
    ...(port !== undefined ? { port } : {}),
    ...(values.host ? { host: values.host } : {}),
    ...(values.service ? { service: values.service } : {}),
    ...(aisreUrl && aisreToken ? { aisre: { url: aisreUrl, token: aisreToken } } : {}),
    ...(hookSecret ? { hookSecret } : {}),
    ...(interval !== undefined ? { trafficIntervalMs: interval } : {}),
  };
}

/**
 * `aisre reference-app`: starts the app, prints how to point Prometheus and aisre at it, and runs
 * until SIGINT or SIGTERM.
 */
export async function runReferenceAppCommand(flags: string[], print: (line: string) => void): Promise<void> {
  if (flags.includes('--help') || flags.includes('-h')) {
    print(REFERENCE_APP_USAGE);
    return;
  }
  const options = parseReferenceAppFlags(flags);
  const app = await startReferenceApp(options);
  print(`Reference AI app "${app.service}" running at ${app.url}`);
  print(`  Prometheus scrape target: ${app.url}/metrics`);
  print(
    `  Faults: curl -X POST ${app.url}/faults -d '{"fault":"prompt_regression"}'; clear with DELETE /faults`,
  );
  print(`  Available faults: ${FAULTS.join(', ')}`);
  print(
    `  LiteLLM keys (alert label litellm_key): rag ${app.credentials.keys.rag}, agent ${app.credentials.keys.agent}`,
  );
  print(
    options.aisre
      ? `  Change events go to ${options.aisre.url}/changes`
      : '  No --aisre-url: faults post no change events',
  );
  print('Environment for aisre:');
  for (const [name, value] of Object.entries(app.aisreEnv())) print(`  ${name}='${value}'`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await app.close();
}
