import { ActionCatalog } from './action-catalog.js';
import type { ActionType } from './action-type.js';
import { gatewayBlock } from './types/gateway-block.js';
import { gatewayBudgetCap } from './types/gateway-budget-cap.js';
import { gatewayFallback } from './types/gateway-fallback.js';
import { gatewayRateLimit } from './types/gateway-rate-limit.js';
import { gatewayRoute } from './types/gateway-route.js';
import { httpWebhook } from './types/http-webhook.js';
import { promptRollback } from './types/prompt-rollback.js';

/** The seven built-in action plugins, in catalog order. */
export function builtInActionTypes(): ActionType[] {
  return [
    promptRollback,
    gatewayRateLimit,
    gatewayFallback,
    gatewayRoute,
    gatewayBlock,
    gatewayBudgetCap,
    httpWebhook,
  ];
}

/**
 * Action plugins by id. Refuses two plugins with one id; `get` throws for an unknown id (use
 * `find` to ask). `catalog()` gives the definitions for the runbook loader.
 */
export class ActionRegistry {
  private readonly byId = new Map<string, ActionType>();

  constructor(types: ReadonlyArray<ActionType> = builtInActionTypes()) {
    for (const type of types) {
      if (this.byId.has(type.id)) throw new Error(`action "${type.id}" is registered twice`);
      this.byId.set(type.id, type);
    }
  }

  find(id: string): ActionType | undefined {
    return this.byId.get(id);
  }

  get(id: string): ActionType {
    const type = this.byId.get(id);
    if (!type) throw new Error(`unknown action "${id}" (known: ${this.list().join(', ')})`);
    return type;
  }

  list(): string[] {
    return [...this.byId.keys()].sort();
  }

  catalog(): ActionCatalog {
    return new ActionCatalog([...this.byId.values()]);
  }
}
