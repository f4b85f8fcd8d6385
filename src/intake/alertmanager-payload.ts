import { z } from 'zod';

/** Alertmanager writes the zero time for alerts that have not ended. */
const ZERO_TIME = /^0001-01-01T00:00:00(\.0+)?Z$/;

const timestamp = z.iso.datetime({ offset: true, message: 'must be an RFC 3339 timestamp' });

const labelSet = z.record(z.string(), z.string());

const alertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: labelSet.refine((labels) => typeof labels.alertname === 'string' && labels.alertname.length > 0, {
    message: 'must include alertname',
  }),
  annotations: labelSet.default({}),
  startsAt: timestamp.transform((value) => new Date(value)),
  endsAt: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (!value || ZERO_TIME.test(value)) return null;
      const parsed = timestamp.safeParse(value);
      if (!parsed.success) {
        ctx.addIssue({ code: 'custom', message: 'must be an RFC 3339 timestamp' });
        return z.NEVER;
      }
      return new Date(value);
    }),
  generatorURL: z.string().max(8192).default(''),
  fingerprint: z.string().regex(/^[0-9a-fA-F]{1,64}$/, 'must be a hex fingerprint'),
});

/** Alertmanager's webhook payload, version 4 (the only version it has sent since 0.6). */
export const alertmanagerPayloadSchema = z.object({
  version: z.literal('4', { message: 'must be "4" (Alertmanager webhook payload version)' }),
  groupKey: z.string().min(1).max(8192),
  truncatedAlerts: z.number().int().min(0).default(0),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().min(1).max(1024),
  groupLabels: labelSet.default({}),
  commonLabels: labelSet.default({}),
  commonAnnotations: labelSet.default({}),
  externalURL: z.string().max(8192).default(''),
  alerts: z.array(alertSchema).max(10_000),
});

export type AlertmanagerPayload = z.infer<typeof alertmanagerPayloadSchema>;
export type AlertmanagerAlert = AlertmanagerPayload['alerts'][number];
