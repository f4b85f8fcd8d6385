import type { CheckType } from './check-type.js';

/** Check plugins by type. Registering a type twice is a programming error, so it throws. */
export class CheckRegistry {
  private readonly types = new Map<string, CheckType<unknown>>();

  constructor(types: ReadonlyArray<CheckType<never>> = []) {
    for (const type of types) this.register(type);
  }

  register<P>(type: CheckType<P>): void {
    if (this.types.has(type.type)) throw new Error(`check type "${type.type}" is registered twice`);
    this.types.set(type.type, type as CheckType<unknown>);
  }

  get(type: string): CheckType<unknown> | undefined {
    return this.types.get(type);
  }

  /** Like `get`, for callers that validated the runbook already. */
  require(type: string): CheckType<unknown> {
    const found = this.types.get(type);
    if (!found) throw new Error(`unknown check type "${type}"`);
    return found;
  }

  list(): string[] {
    return [...this.types.keys()].sort();
  }
}
