import { z } from 'zod';
import { AppError } from '../../errors.js';
import { isStorableId, storableText } from '../../storable.js';
import type { SlackDeliveryStore } from '../delivery/delivery-store.js';

/** A button's `value`: the incident id the card was rendered for. */
export const incidentIdValue = z
  .string()
  .regex(/^\d+$/, 'must be an incident id')
  .transform((value) => Number.parseInt(value, 10))
  .refine(isStorableId, 'must be an incident id');

/** Parses `INC-42`, `inc-42` or `42`. */
export function parseIncidentRef(token: string | undefined): number | undefined {
  const match = token ? /^(?:INC-)?(\d+)$/i.exec(token.trim()) : null;
  return match ? Number.parseInt(match[1]!, 10) : undefined;
}

/**
 * Resolves which incident a command means: an explicit `INC-42`, or the incident whose channel
 * the command was typed in.
 */
export async function resolveIncidentId(
  token: string | undefined,
  channelId: string,
  store: SlackDeliveryStore,
): Promise<number> {
  const explicit = parseIncidentRef(token);
  if (explicit !== undefined && !isStorableId(explicit)) {
    throw new AppError('not_found', `There is no incident ${token?.trim()}.`);
  }
  if (explicit !== undefined) return explicit;
  const fromChannel = await store.incidentForChannel(storableText(channelId));
  if (fromChannel !== undefined) return fromChannel;
  throw new AppError(
    'validation_failed',
    'Which incident? Name it, e.g. `INC-42`, or run the command in the incident channel.',
  );
}
