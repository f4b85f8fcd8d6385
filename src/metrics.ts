import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The service's Prometheus metrics, one registry per process so tests can run side by side. */
export interface Metrics {
  registry: Registry;
  alertsReceived: Counter<'status'>;
  deliveries: Counter<'outcome'>;
  incidentsOpened: Counter<'severity' | 'source'>;
  slackApiErrors: Counter<'method' | 'error'>;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  /** Wires the outbox gauges to a live reading, taken on each scrape. */
  observeOutbox(
    read: () => Promise<{ pending: number; dead: number; oldestPendingAgeSeconds: number }>,
  ): void;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'aisre_' });
  let readOutbox:
    | (() => Promise<{ pending: number; dead: number; oldestPendingAgeSeconds: number }>)
    | undefined;
  let lastReading: Promise<{ pending: number; dead: number; oldestPendingAgeSeconds: number } | undefined> =
    Promise.resolve(undefined);
  // One database read serves all three gauges of a scrape.
  const reading = () => {
    lastReading = readOutbox ? readOutbox().catch(() => undefined) : Promise.resolve(undefined);
    return lastReading;
  };

  new Gauge({
    name: 'aisre_slack_outbox_depth',
    help: 'Slack deliveries waiting to be sent',
    registers: [registry],
    async collect() {
      const value = await reading();
      if (value) this.set(value.pending);
    },
  });
  new Gauge({
    name: 'aisre_slack_outbox_oldest_age_seconds',
    help: 'Age of the oldest Slack delivery still waiting',
    registers: [registry],
    async collect() {
      const value = await lastReading;
      if (value) this.set(value.oldestPendingAgeSeconds);
    },
  });
  new Gauge({
    name: 'aisre_slack_outbox_dead',
    help: 'Slack deliveries that Slack refused permanently',
    registers: [registry],
    async collect() {
      const value = await lastReading;
      if (value) this.set(value.dead);
    },
  });

  return {
    registry,
    alertsReceived: new Counter({
      name: 'aisre_alerts_received_total',
      help: 'Alerts received from Alertmanager, by their own status',
      labelNames: ['status'],
      registers: [registry],
    }),
    deliveries: new Counter({
      name: 'aisre_alertmanager_deliveries_total',
      help: 'Alertmanager webhook deliveries, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    incidentsOpened: new Counter({
      name: 'aisre_incidents_opened_total',
      help: 'Incidents opened, by severity and source',
      labelNames: ['severity', 'source'],
      registers: [registry],
    }),
    slackApiErrors: new Counter({
      name: 'aisre_slack_api_errors_total',
      help: 'Failed Slack Web API calls, by method and Slack error',
      labelNames: ['method', 'error'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'aisre_http_request_duration_seconds',
      help: 'HTTP request durations, by route',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    observeOutbox(read) {
      readOutbox = read;
    },
  };
}
