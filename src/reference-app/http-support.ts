import express, { type Request, type Response } from 'express';
import type { ReferenceAppState } from './state.js';

/** Holds the app's current state; routes read it and replace it with the result of a transition. */
export interface StateStore {
  get(): ReferenceAppState;
  set(state: ReferenceAppState): void;
}

/** A store over one variable. */
export function createStateStore(initial: ReferenceAppState): StateStore {
  let current = initial;
  return {
    get: () => current,
    set(state) {
      current = state;
    },
  };
}

/** Reads the body as text whatever its content type: each API parses (and rejects) it its own way. */
export const readText = express.text({ type: () => true, limit: '256kb' });

export const INVALID_JSON = Symbol('invalid JSON');

/** The parsed JSON body, undefined when empty, INVALID_JSON when it does not parse. */
export function jsonBody(req: Request): unknown {
  const raw = typeof req.body === 'string' ? req.body : '';
  if (raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return INVALID_JSON;
  }
}

export function sendJson(res: Response, status: number, body: unknown): void {
  res.status(status).json(body);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
