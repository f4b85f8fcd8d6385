import { z } from 'zod';
import { parseDuration } from './checks/templates.js';
import { SEVERITIES, type Severity } from './incidents/incident.js';

/** Variables whose values never appear in logs or error messages. */
export const SECRET_VARIABLES = [
  'DATABASE_URL',
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'ALERTMANAGER_TOKEN',
  'AISRE_API_TOKEN',
  'PROMETHEUS_BEARER_TOKEN',
  'LLM_API_KEY',
  'LANGFUSE_SECRET_KEY',
  'LITELLM_API_KEY',
] as const;

const DEFAULT_SEVERITY_MAP =
  'critical=SEV1,page=SEV1,sev1=SEV1,p1=SEV1,high=SEV2,error=SEV2,sev2=SEV2,p2=SEV2,' +
  'warning=SEV3,warn=SEV3,medium=SEV3,sev3=SEV3,p3=SEV3,info=SEV4,low=SEV4,sev4=SEV4,p4=SEV4,*=SEV3';

const blankToUndefined = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

const optionalString = z.preprocess(blankToUndefined, z.string().optional());

const booleanFlag = z.preprocess(
  blankToUndefined,
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .optional()
    .transform((value) => value === 'true' || value === '1' || value === 'yes'),
);

const severityMap = z
  .string()
  .default(DEFAULT_SEVERITY_MAP)
  .transform((raw, ctx) => {
    const map = new Map<string, Severity>();
    for (const pair of raw
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean)) {
      const [label, severity] = pair.split('=').map((part) => part.trim());
      if (!label || !severity || !SEVERITIES.includes(severity.toUpperCase() as Severity)) {
        ctx.addIssue({
          code: 'custom',
          message: `"${pair}" is not label=SEV1..SEV4 (e.g. critical=SEV1,warning=SEV3,*=SEV3)`,
        });
        return z.NEVER;
      }
      map.set(label.toLowerCase(), severity.toUpperCase() as Severity);
    }
    return map;
  });

const slackIdList = (prefixes: string) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .optional()
      .transform((raw, ctx) => {
        const ids = (raw ?? '')
          .split(',')
          .map((id) => id.trim())
          .filter(Boolean);
        const bad = ids.filter((id) => !new RegExp(`^[${prefixes}][A-Z0-9]{2,}$`).test(id));
        if (bad.length > 0) {
          ctx.addIssue({
            code: 'custom',
            message: `${bad.join(', ')}: expected Slack ids starting with ${prefixes.split('').join(' or ')}`,
          });
          return z.NEVER;
        }
        return ids;
      }),
  );

const webhookName = /^[a-z][a-z0-9_-]*$/;

/** `AISRE_WEBHOOKS`: `{"reindex": {"url": "https://…", "secret": "…"}}`, one entry per webhook. */
const webhooks = z.preprocess(
  blankToUndefined,
  z
    .string()
    .default('{}')
    .transform((raw, ctx) => {
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        ctx.addIssue({
          code: 'custom',
          message: 'must be JSON: {"name": {"url": "https://…", "secret": "…"}}',
        });
        return z.NEVER;
      }
      const parsed = z
        .record(
          z.string(),
          z.strictObject({
            url: z.url(),
            secret: z.string().min(16, 'secrets must be at least 16 characters'),
          }),
        )
        .safeParse(value);
      const names =
        value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value) : [];
      const badNames = names.filter((name) => !webhookName.test(name));
      for (const name of badNames) {
        ctx.addIssue({
          code: 'custom',
          message: `${name}: webhook names are lower-case letters, digits, _ and -`,
        });
      }
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          ctx.addIssue({ code: 'custom', message: `${issue.path.join('.')}: ${issue.message}` });
        }
      }
      if (!parsed.success || badNames.length > 0) return z.NEVER;
      return parsed.data;
    }),
);

const durationVariable = (fallback: string) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^\d+(s|m|h)$/, 'must be a duration such as 90s, 2m or 1h')
      .default(fallback),
  );

const envSchema = z.object({
  PORT: z.preprocess(
    blankToUndefined,
    z.coerce.number({ message: 'must be a port number' }).int().min(0).max(65535).default(3000),
  ),
  HOST: z.preprocess(blankToUndefined, z.string().default('0.0.0.0')),
  PUBLIC_URL: z.preprocess(blankToUndefined, z.url().optional()),
  DATABASE_URL: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// connection string')
      .optional(),
  ),
  AISRE_DATA_DIR: z.preprocess(blankToUndefined, z.string().default('./.aisre')),
  SLACK_BOT_TOKEN: z.preprocess(
    blankToUndefined,
    z.string().startsWith('xoxb-', 'must be a bot token (xoxb-…)').optional(),
  ),
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_APP_TOKEN: z.preprocess(
    blankToUndefined,
    z.string().startsWith('xapp-', 'must be an app-level token (xapp-…)').optional(),
  ),
  SLACK_API_URL: z.preprocess(blankToUndefined, z.url().optional()),
  SLACK_INCIDENTS_CHANNEL: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^[CG][A-Z0-9]{2,}$/, 'must be a channel id such as C0123ABCD, not a #name')
      .optional(),
  ),
  SLACK_RESPONDERS: slackIdList('UWS'),
  ALERTMANAGER_TOKEN: optionalString,
  ALERTMANAGER_ALLOW_UNAUTHENTICATED: booleanFlag,
  ALERTMANAGER_MAX_BODY_BYTES: z.preprocess(
    blankToUndefined,
    z.coerce.number({ message: 'must be a number of bytes' }).int().min(1024).default(1_048_576),
  ),
  AISRE_API_TOKEN: optionalString,
  AISRE_SEVERITY_MAP: z.preprocess(blankToUndefined, severityMap),
  AISRE_RUNBOOKS_DIR: z.preprocess(blankToUndefined, z.string().default('./runbooks')),
  AISRE_AUTO_DIAGNOSE: booleanFlag,
  AISRE_DIAGNOSIS_RECHECK: durationVariable('2m'),
  AISRE_DIAGNOSIS_LEASE: durationVariable('15s'),
  PROMETHEUS_URL: z.preprocess(blankToUndefined, z.url().optional()),
  PROMETHEUS_PUBLIC_URL: z.preprocess(blankToUndefined, z.url().optional()),
  PROMETHEUS_BEARER_TOKEN: optionalString,
  LLM_BASE_URL: z.preprocess(blankToUndefined, z.url().optional()),
  LLM_API_KEY: optionalString,
  AISRE_POSTMORTEM_MODEL: optionalString,
  AISRE_QUALITY_SLO: z.preprocess(
    blankToUndefined,
    z.coerce.number({ message: 'must be a pass rate between 0 and 1' }).gt(0).lte(1).default(0.9),
  ),
  LANGFUSE_URL: z.preprocess(blankToUndefined, z.url().optional()),
  LANGFUSE_PUBLIC_KEY: optionalString,
  LANGFUSE_SECRET_KEY: optionalString,
  LITELLM_URL: z.preprocess(blankToUndefined, z.url().optional()),
  LITELLM_API_KEY: optionalString,
  AISRE_WEBHOOKS: webhooks,
  AISRE_ACTION_SETTLE: durationVariable('2m'),
  AISRE_ACTION_VERIFY_WINDOW: durationVariable('20m'),
  AISRE_ACTION_LEASE: durationVariable('30s'),
  AISRE_ACTION_EXECUTORS: slackIdList('US'),
  AISRE_ACTION_APPROVERS: slackIdList('US'),
  LOG_LEVEL: z.preprocess(
    blankToUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
});

/**
 * Rules that span variables. They read the raw values so that they are reported even when
 * another variable is invalid: zod skips refinements of an object that already failed.
 */
function crossFieldProblems(env: Record<string, string | undefined>): string[] {
  const set = (name: string) => (env[name]?.trim() ?? '') !== '';
  const problems: string[] = [];
  const optOut = ['true', '1', 'yes'].includes(env.ALERTMANAGER_ALLOW_UNAUTHENTICATED?.trim() ?? '');
  if (!set('ALERTMANAGER_TOKEN') && !optOut) {
    problems.push(
      'ALERTMANAGER_TOKEN is required so that /alertmanager refuses anonymous posts ' +
        '(set ALERTMANAGER_ALLOW_UNAUTHENTICATED=true to opt out explicitly)',
    );
  }
  if (set('SLACK_BOT_TOKEN')) {
    if (!set('SLACK_SIGNING_SECRET') && !set('SLACK_APP_TOKEN')) {
      problems.push(
        'SLACK_SIGNING_SECRET is required with SLACK_BOT_TOKEN unless SLACK_APP_TOKEN enables Socket Mode',
      );
    }
    if (!set('SLACK_INCIDENTS_CHANNEL')) {
      problems.push(
        'SLACK_INCIDENTS_CHANNEL is required with SLACK_BOT_TOKEN: incidents are announced there',
      );
    }
  }
  if (set('LANGFUSE_URL') !== (set('LANGFUSE_PUBLIC_KEY') && set('LANGFUSE_SECRET_KEY'))) {
    problems.push('LANGFUSE_URL, LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY are set together or not at all');
  }
  if (set('AISRE_POSTMORTEM_MODEL') && !set('LLM_BASE_URL')) {
    problems.push('AISRE_POSTMORTEM_MODEL needs LLM_BASE_URL: the OpenAI-compatible endpoint that serves it');
  }
  if (set('LITELLM_API_KEY') && !set('LITELLM_URL')) {
    problems.push('LITELLM_API_KEY is set but LITELLM_URL is not: set the gateway URL too');
  }
  return problems;
}

/** The validated, typed configuration: built once in the composition root and passed down. */
export interface Config {
  port: number;
  host: string;
  publicUrl: string | undefined;
  database: { kind: 'postgres'; url: string } | { kind: 'pglite'; dataDir: string };
  slack:
    | {
        enabled: true;
        botToken: string;
        signingSecret: string | undefined;
        appToken: string | undefined;
        apiUrl: string | undefined;
        incidentsChannel: string;
        responders: string[];
      }
    | {
        enabled: false;
        apiUrl: string | undefined;
        incidentsChannel: string | undefined;
        responders: string[];
      };
  alertmanager: { token: string | undefined; allowUnauthenticated: boolean; maxBodyBytes: number };
  apiToken: string | undefined;
  severityMap: ReadonlyMap<string, Severity>;
  diagnosis: {
    runbooksDir: string;
    autoStart: boolean;
    recheckAfterMs: number;
    /** How long a replica that died keeps its diagnosis sessions before another takes them over. */
    leaseMs: number;
    prometheus: { url: string | undefined; publicUrl: string | undefined; bearerToken: string | undefined };
    llm: { baseUrl: string | undefined; apiKey: string | undefined };
  };
  actions: {
    langfuse: { url: string; publicKey: string; secretKey: string } | undefined;
    litellm: { url: string; apiKey: string | undefined } | undefined;
    webhooks: Readonly<Record<string, { url: string; secret: string }>>;
    /** How long after an action its recovery is first checked. */
    settleMs: number;
    /** How long after the first check recovery may still show before the run counts as not recovered. */
    verifyWindowMs: number;
    /** How long a process's claim on an executing action lasts unrenewed; after a crash, the wait before another takes over. */
    leaseMs: number;
    /** Slack user or user-group ids allowed to execute actions; empty means every responder. */
    executors: string[];
    /** Slack user or user-group ids allowed to approve high-risk actions; empty means anyone but the requester. */
    approvers: string[];
  };
  postmortems: {
    /** The model that rewrites postmortem summaries in prose (over LLM_BASE_URL); none when unset. */
    summaryModel: string | undefined;
    /** The eval pass rate the quality error budget is measured against. */
    qualitySlo: number;
  };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  secrets: string[];
}

/** Raised when the environment is invalid; `problems` lists every bad variable at once. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the environment into a Config. This module is the only reader of process.env;
 * callers such as the demo pass overrides instead of mutating the environment.
 */
export function loadConfig(overrides: Record<string, string | undefined> = {}): Config {
  const env = { ...process.env, ...overrides };
  const parsed = envSchema.safeParse(env);
  const problems = [
    ...(parsed.error?.issues ?? []).map(
      (issue) => `${issue.path.join('.') || 'environment'} ${issue.message}`,
    ),
    ...crossFieldProblems(env),
  ];
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  const secrets = [
    ...SECRET_VARIABLES.map((name) => e[name]),
    ...Object.values(e.AISRE_WEBHOOKS).map((webhook) => webhook.secret),
  ].filter((value): value is string => typeof value === 'string' && value.length > 0);
  return {
    port: e.PORT,
    host: e.HOST,
    publicUrl: e.PUBLIC_URL,
    database: e.DATABASE_URL
      ? { kind: 'postgres', url: e.DATABASE_URL }
      : { kind: 'pglite', dataDir: e.AISRE_DATA_DIR },
    slack: e.SLACK_BOT_TOKEN
      ? {
          enabled: true,
          botToken: e.SLACK_BOT_TOKEN,
          signingSecret: e.SLACK_SIGNING_SECRET,
          appToken: e.SLACK_APP_TOKEN,
          apiUrl: e.SLACK_API_URL,
          incidentsChannel: e.SLACK_INCIDENTS_CHANNEL!,
          responders: e.SLACK_RESPONDERS,
        }
      : {
          enabled: false,
          apiUrl: e.SLACK_API_URL,
          incidentsChannel: e.SLACK_INCIDENTS_CHANNEL,
          responders: e.SLACK_RESPONDERS,
        },
    alertmanager: {
      token: e.ALERTMANAGER_TOKEN,
      allowUnauthenticated: e.ALERTMANAGER_ALLOW_UNAUTHENTICATED,
      maxBodyBytes: e.ALERTMANAGER_MAX_BODY_BYTES,
    },
    apiToken: e.AISRE_API_TOKEN,
    severityMap: e.AISRE_SEVERITY_MAP,
    diagnosis: {
      runbooksDir: e.AISRE_RUNBOOKS_DIR,
      autoStart: e.AISRE_AUTO_DIAGNOSE,
      recheckAfterMs: parseDuration(e.AISRE_DIAGNOSIS_RECHECK),
      leaseMs: parseDuration(e.AISRE_DIAGNOSIS_LEASE),
      prometheus: {
        url: e.PROMETHEUS_URL,
        publicUrl: e.PROMETHEUS_PUBLIC_URL,
        bearerToken: e.PROMETHEUS_BEARER_TOKEN,
      },
      llm: { baseUrl: e.LLM_BASE_URL, apiKey: e.LLM_API_KEY },
    },
    actions: {
      langfuse:
        e.LANGFUSE_URL && e.LANGFUSE_PUBLIC_KEY && e.LANGFUSE_SECRET_KEY
          ? { url: e.LANGFUSE_URL, publicKey: e.LANGFUSE_PUBLIC_KEY, secretKey: e.LANGFUSE_SECRET_KEY }
          : undefined,
      litellm: e.LITELLM_URL ? { url: e.LITELLM_URL, apiKey: e.LITELLM_API_KEY } : undefined,
      webhooks: e.AISRE_WEBHOOKS,
      settleMs: parseDuration(e.AISRE_ACTION_SETTLE),
      verifyWindowMs: parseDuration(e.AISRE_ACTION_VERIFY_WINDOW),
      leaseMs: parseDuration(e.AISRE_ACTION_LEASE),
      executors: e.AISRE_ACTION_EXECUTORS,
      approvers: e.AISRE_ACTION_APPROVERS,
    },
    postmortems: { summaryModel: e.AISRE_POSTMORTEM_MODEL, qualitySlo: e.AISRE_QUALITY_SLO },
    logLevel: e.LOG_LEVEL,
    secrets,
  };
}
