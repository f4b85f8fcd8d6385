import { z } from 'zod';
import { isStorableTime, MAX_STORABLE_INTEGER, STORABLE_TIME_MESSAGE, storableText } from '../storable.js';

/** Alertmanager writes the zero time for alerts that have not ended. */
const ZERO_TIME = /^0001-01-01T00:00:00(\.0+)?Z$/;

const timestamp = z.iso
  .datetime({ offset: true, message: 'must be an RFC 3339 timestamp' })
  .transform((value) => new Date(value))
  .refine(isStorableTime, STORABLE_TIME_MESSAGE);

/** Free text from the body, made storable (see `storableText`). */
const text = z.string().transform(storableText);

const labelSet = z.record(text, text);

const alertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: labelSet.refine((labels) => typeof labels.alertname === 'string' && labels.alertname.length > 0, {
    message: 'must include alertname',
  }),
  annotations: labelSet.default({}),
  startsAt: timestamp,
  endsAt: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (!value || ZERO_TIME.test(value)) return null;
      const parsed = timestamp.safeParse(value);
      if (!parsed.success) {
        ctx.addIssue({ code: 'custom', message: parsed.error.issues[0]?.message ?? 'is not a timestamp' });
        return z.NEVER;
      }
      return parsed.data;
    }),
  generatorURL: text.pipe(z.string().max(8192)).default(''),
  fingerprint: z.string().regex(/^[0-9a-fA-F]{1,64}$/, 'must be a hex fingerprint'),
});

/** Alertmanager's webhook payload, version 4 (the only version it has sent since 0.6). */
export const alertmanagerPayloadSchema = z.object({
  version: z.literal('4', { message: 'must be "4" (Alertmanager webhook payload version)' }),
  groupKey: text.pipe(z.string().min(1).max(8192)),
  truncatedAlerts: z.number().int().min(0).max(MAX_STORABLE_INTEGER).default(0),
  status: z.enum(['firing', 'resolved']),
  receiver: text.pipe(z.string().min(1).max(1024)),
  groupLabels: labelSet.default({}),
  commonLabels: labelSet.default({}),
  commonAnnotations: labelSet.default({}),
  externalURL: text.pipe(z.string().max(8192)).default(''),
  alerts: z.array(alertSchema).max(10_000),
});

export type AlertmanagerPayload = z.infer<typeof alertmanagerPayloadSchema>;
export type AlertmanagerAlert = AlertmanagerPayload['alerts'][number];
