import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import type {
  ChangeEventFact,
  ChangeEventReader,
  CheckDependencies,
  CheckIncident,
  CheckResult,
  CheckType,
  GoldenBaseline,
  GoldenBaselineStore,
} from '../../../src/checks/check-type.js';
import { type CheckRunSpec, runCheck } from '../../../src/checks/run-check.js';

/** When the tests' incidents are diagnosed. */
export const NOW = new Date('2026-11-22T12:00:00Z');

export const silentLogger = pino({ level: 'silent' });

export function testIncident(overrides: Partial<CheckIncident> = {}): CheckIncident {
  return {
    id: 7,
    title: 'EvalPassRateLow',
    service: 'rag-api',
    layerHint: 'retrieval',
    labels: { alertname: 'EvalPassRateLow', service: 'rag-api' },
    startedAt: new Date('2026-11-22T11:30:00Z'),
    ...overrides,
  };
}

/** Change events in memory, filtered like the knex store: inclusive bounds, null service = all. */
export class InMemoryChangeEvents implements ChangeEventReader {
  readonly filters: Array<Parameters<ChangeEventReader['list']>[0]> = [];

  constructor(private readonly events: ChangeEventFact[] = []) {}

  async list(filter: Parameters<ChangeEventReader['list']>[0]): Promise<ChangeEventFact[]> {
    this.filters.push(filter);
    return this.events.filter(
      (event) =>
        (filter.service === null || event.service === filter.service) &&
        filter.kinds.includes(event.kind) &&
        event.at >= filter.from &&
        event.at <= filter.to,
    );
  }
}

/** Baselines in memory; like the knex store, the first save of a key wins. */
export class InMemoryGoldenBaselines implements GoldenBaselineStore {
  readonly baselines = new Map<string, GoldenBaseline>();
  saves = 0;

  async get(key: string): Promise<GoldenBaseline | undefined> {
    return this.baselines.get(key);
  }

  async save(key: string, baseline: GoldenBaseline): Promise<void> {
    this.saves++;
    if (!this.baselines.has(key)) this.baselines.set(key, baseline);
  }
}

export function testDeps(overrides: Partial<CheckDependencies> = {}): CheckDependencies {
  return {
    prometheus: { url: undefined, publicUrl: undefined, headers: {} },
    llm: { baseUrl: undefined, apiKey: undefined },
    changes: new InMemoryChangeEvents(),
    goldenBaselines: new InMemoryGoldenBaselines(),
    fetch: globalThis.fetch,
    ...overrides,
  };
}

/** Runs a check the way the diagnosis engine does: params validated, timeout enforced. */
export function run<P>(
  type: CheckType<P>,
  params: unknown,
  deps: CheckDependencies,
  options: Omit<CheckRunSpec, 'params'> & { incident?: CheckIncident; now?: Date } = {},
): Promise<CheckResult> {
  return runCheck(
    type as CheckType<unknown>,
    { params, timeoutMs: options.timeoutMs, vars: options.vars },
    { incident: options.incident ?? testIncident(), now: options.now ?? NOW, logger: silentLogger, deps },
  );
}

/** A loopback port nothing listens on, for "unreachable" cases. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
