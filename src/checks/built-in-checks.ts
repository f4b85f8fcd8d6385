import { CheckRegistry } from './check-registry.js';
import type { CheckType } from './check-type.js';
import { changesCheck } from './types/changes-check.js';
import { fingerprintCheck } from './types/fingerprint-check.js';
import { goldenSetCheck } from './types/golden-set-check.js';
import { httpCheck } from './types/http-check.js';
import { prometheusCheck } from './types/prometheus-check.js';
import { prometheusCompareCheck } from './types/prometheus-compare-check.js';

/** Every check type aisre ships. */
export function builtInCheckTypes(): CheckType[] {
  return [prometheusCheck, prometheusCompareCheck, fingerprintCheck, changesCheck, goldenSetCheck, httpCheck];
}

/** A registry holding the built-in check types, for the runbook loader and the diagnosis engine. */
export function createCheckRegistry(): CheckRegistry {
  const registry = new CheckRegistry();
  for (const type of builtInCheckTypes()) registry.register(type);
  return registry;
}
