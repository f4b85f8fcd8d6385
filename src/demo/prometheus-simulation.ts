import { STEP_MS } from '../reference-app/catalog.js';
import type { ReferenceApp } from '../reference-app/reference-app.js';
import type { AlertmanagerStandIn, Delivery } from './alertmanager-stand-in.js';
import type { RuleEvaluator } from './rule-evaluator.js';
import type { ScrapeStore } from './scrape-store.js';
import type { SimulatedClock } from './simulated-clock.js';

export interface PrometheusSimulationOptions {
  clock: SimulatedClock;
  app: ReferenceApp;
  store: ScrapeStore;
  rules: RuleEvaluator;
  alertmanager: AlertmanagerStandIn;
  /** Scrape and rule-evaluation interval, a multiple of the app's 250 ms step. */
  intervalMs: number;
  /** Called with every notification sent to aisre and its answer. */
  onDelivery?: (delivery: Delivery) => void;
}

/** How often, in wall time, the simulation catches up with a running clock. */
const PUMP_MS = 200;

/**
 * What Prometheus and Alertmanager do, on the simulated clock: at every interval the reference
 * app's traffic runs up to that instant, its `/metrics` exposition is scraped into the store,
 * the alert rules are evaluated on the store, and due notifications go to aisre. While the clock
 * only runs, a pump keeps up with it; when the story skips time, `advance` runs every scrape
 * and evaluation in between, in order, before it returns.
 */
export class PrometheusSimulation {
  private nextMs: number;
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;
  private pump: NodeJS.Timeout | undefined;

  constructor(private readonly options: PrometheusSimulationOptions) {
    if (options.intervalMs % STEP_MS !== 0)
      throw new Error(`the interval must be a multiple of ${STEP_MS} ms`);
    this.nextMs = options.app.state().clockMs + options.intervalMs;
  }

  /** Runs every scrape and evaluation due by the clock. */
  catchUp(): Promise<void> {
    this.chain = this.chain.then(() => this.runDue());
    return this.chain;
  }

  /** Skips `ms` of simulated time, running what falls due in between. */
  async advance(ms: number): Promise<void> {
    this.options.clock.skip(ms);
    await this.catchUp();
  }

  /** Keeps the simulation up with the clock in the background until `stop`. */
  start(): void {
    this.pump ??= setInterval(() => {
      this.catchUp().catch(() => undefined);
    }, PUMP_MS);
    this.pump.unref();
  }

  async stop(): Promise<void> {
    if (this.pump) clearInterval(this.pump);
    this.pump = undefined;
    await this.chain.catch(() => undefined);
  }

  private async runDue(): Promise<void> {
    if (this.failure) throw this.failure;
    const { clock, app, store, rules, alertmanager, intervalMs } = this.options;
    const target = { job: 'reference-app', instance: new URL(app.url).host };
    try {
      while (this.nextMs <= clock.nowMs()) {
        const at = this.nextMs;
        const steps = Math.round((at - app.state().clockMs) / STEP_MS);
        if (steps > 0) app.tick(steps);
        store.ingest(await app.metrics(), at, target);
        alertmanager.receive(rules.evaluate(at), at);
        for (const delivery of await alertmanager.flush(at)) this.options.onDelivery?.(delivery);
        this.nextMs += intervalMs;
      }
    } catch (err) {
      this.failure = err;
      throw err;
    }
  }
}
