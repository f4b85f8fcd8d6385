import { type Logger, pino } from 'pino';

export type { Logger } from 'pino';

const REDACTED_PATHS = [
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["x-slack-signature"]',
  'botToken',
  '*.botToken',
  'signingSecret',
  '*.signingSecret',
  'appToken',
  '*.appToken',
  'apiToken',
  '*.apiToken',
  'password',
  '*.password',
];

/**
 * Creates the root logger. Field paths that usually carry credentials are redacted, and the
 * configured secret values are scrubbed from any message or field that still contains them.
 */
export function createLogger(options: {
  level: string;
  secrets?: readonly string[];
  destination?: pino.DestinationStream;
}): Logger {
  const secrets = (options.secrets ?? []).filter((secret) => secret.length >= 4);
  const scrub = (value: string) =>
    secrets.reduce((text, secret) => text.split(secret).join('[REDACTED]'), value);
  return pino(
    {
      level: options.level,
      base: { service: 'aisre' },
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
      formatters: {
        log(object) {
          return secrets.length === 0 ? object : scrubDeep(object, scrub);
        },
      },
      hooks: {
        logMethod(args, method) {
          if (secrets.length > 0) {
            for (let i = 0; i < args.length; i++) {
              if (typeof args[i] === 'string') args[i] = scrub(args[i] as string);
            }
          }
          method.apply(this, args);
        },
      },
      serializers: { err: pino.stdSerializers.err },
    },
    options.destination,
  );
}

function scrubDeep<T>(value: T, scrub: (text: string) => string, depth = 0): T {
  if (depth > 6) return value;
  if (typeof value === 'string') return scrub(value) as T;
  if (Array.isArray(value)) return value.map((item) => scrubDeep(item, scrub, depth + 1)) as T;
  if (value && typeof value === 'object') {
    if (value instanceof Error) {
      return {
        type: value.name,
        message: scrub(value.message),
        stack: value.stack && scrub(value.stack),
      } as T;
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = scrubDeep(item, scrub, depth + 1);
    return out as T;
  }
  return value;
}

/** A logger that discards everything; for tests and tools that print their own output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
