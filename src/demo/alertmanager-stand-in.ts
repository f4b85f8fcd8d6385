import type { Labels } from './promql-subset.js';
import type { AlertUpdate } from './rule-evaluator.js';

/** Alertmanager's zero time, which firing alerts carry as `endsAt`. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface AlertmanagerStandInOptions {
  /** aisre's webhook: `{aisreUrl}/alertmanager`. */
  webhookUrl: string;
  bearerToken: string;
  externalUrl: string;
  receiver?: string;
  groupBy?: readonly string[];
  groupWaitMs?: number;
  groupIntervalMs?: number;
  repeatIntervalMs?: number;
  fetch?: typeof fetch;
}

/** The v4 webhook body Alertmanager posts. */
export interface WebhookPayload {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Labels;
  commonLabels: Labels;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: Array<{
    status: 'firing' | 'resolved';
    labels: Labels;
    annotations: Record<string, string>;
    startsAt: string;
    endsAt: string;
    generatorURL: string;
    fingerprint: string;
  }>;
}

/** A notification as sent, and what aisre answered. */
export interface Delivery {
  payload: WebhookPayload;
  status: number;
  body: unknown;
}

interface GroupAlert extends AlertUpdate {
  fingerprint: string;
}

interface Group {
  key: string;
  labels: Labels;
  alerts: Map<string, GroupAlert>;
  createdAtMs: number;
  lastFlushMs: number | null;
  lastSent: string | null;
}

/** Alertmanager's fingerprint: FNV-1a 64 over the sorted label pairs, 16 hex digits. */
export function fingerprint(labels: Labels): string {
  let hash = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const names = Object.keys(labels).sort();
  for (const name of names) {
    for (const byte of [...Buffer.from(name), 0xff, ...Buffer.from(labels[name] ?? ''), 0xff]) {
      hash ^= BigInt(byte);
      hash = (hash * prime) & 0xffffffffffffffffn;
    }
  }
  return hash.toString(16).padStart(16, '0');
}

function labelSet(labels: Labels): string {
  const pairs = Object.keys(labels)
    .sort()
    .map((name) => `${name}=${JSON.stringify(labels[name])}`);
  return `{${pairs.join(', ')}}`;
}

function common<T extends Record<string, string>>(sets: readonly T[]): Record<string, string> {
  const [first, ...rest] = sets;
  if (!first) return {};
  return Object.fromEntries(
    Object.entries(first).filter(([name, value]) => rest.every((s) => s[name] === value)),
  );
}

/**
 * Stands in for Alertmanager between the demo's rule evaluator and aisre, with the end-to-end
 * suite's route: one group per `service`, a first notification `group_wait` after the group
 * appears, then one whenever its alerts changed, at most every `group_interval`, firing and
 * then resolved (send_resolved), posted with bearer auth. Resolved alerts leave the group once
 * delivered; a failed delivery is tried again at the next flush, as Alertmanager retries.
 */
export class AlertmanagerStandIn {
  private readonly groups = new Map<string, Group>();
  private readonly receiver: string;
  private readonly groupBy: readonly string[];

  constructor(private readonly options: AlertmanagerStandInOptions) {
    this.receiver = options.receiver ?? 'aisre';
    this.groupBy = options.groupBy ?? ['service'];
  }

  /** The route's settings, for the narration. */
  describe(): string {
    const s = (ms: number | undefined, fallback: number) => `${(ms ?? fallback) / 1000}s`;
    return `group_by [${this.groupBy.join(', ')}], group_wait ${s(this.options.groupWaitMs, 30_000)}, group_interval ${s(this.options.groupIntervalMs, 60_000)}, send_resolved, bearer auth`;
  }

  /** Takes the alerts Prometheus sent at `atMs`: the firing ones and those that just resolved. */
  receive(updates: readonly AlertUpdate[], atMs: number): void {
    for (const update of updates) {
      const groupLabels = Object.fromEntries(
        this.groupBy.flatMap((name) => (update.labels[name] ? [[name, update.labels[name]]] : [])),
      );
      const key = `{}:${labelSet(groupLabels)}`;
      const id = fingerprint(update.labels);
      let group = this.groups.get(key);
      if (!group) {
        if (update.endsAt !== null) continue;
        group = {
          key,
          labels: groupLabels,
          alerts: new Map(),
          createdAtMs: atMs,
          lastFlushMs: null,
          lastSent: null,
        };
        this.groups.set(key, group);
      }
      const known = group.alerts.get(id);
      if (!known && update.endsAt !== null) continue;
      group.alerts.set(id, { ...update, fingerprint: id });
    }
  }

  /** Sends every group notification due at `atMs`. */
  async flush(atMs: number): Promise<Delivery[]> {
    const deliveries: Delivery[] = [];
    for (const group of [...this.groups.values()]) {
      const wait =
        group.lastFlushMs === null
          ? (this.options.groupWaitMs ?? 30_000)
          : (this.options.groupIntervalMs ?? 60_000);
      if (atMs - (group.lastFlushMs ?? group.createdAtMs) < wait) continue;
      const alerts = [...group.alerts.values()].sort((a, b) =>
        labelSet(a.labels).localeCompare(labelSet(b.labels)),
      );
      const state = alerts.map((a) => `${a.fingerprint}:${a.startsAt}:${a.endsAt ?? ''}`).join(',');
      const repeatDue =
        group.lastFlushMs !== null &&
        atMs - group.lastFlushMs >= (this.options.repeatIntervalMs ?? 4 * 3_600_000);
      if (state === group.lastSent && !repeatDue) continue;
      const payload = this.payload(group, alerts);
      const delivery = await this.post(payload);
      deliveries.push(delivery);
      if (delivery.status < 200 || delivery.status >= 300) continue;
      group.lastFlushMs = atMs;
      group.lastSent = state;
      for (const alert of alerts) if (alert.endsAt !== null) group.alerts.delete(alert.fingerprint);
      if (group.alerts.size === 0) this.groups.delete(group.key);
    }
    return deliveries;
  }

  private payload(group: Group, alerts: readonly GroupAlert[]): WebhookPayload {
    return {
      version: '4',
      groupKey: group.key,
      truncatedAlerts: 0,
      status: alerts.some((a) => a.endsAt === null) ? 'firing' : 'resolved',
      receiver: this.receiver,
      groupLabels: group.labels,
      commonLabels: common(alerts.map((a) => a.labels)),
      commonAnnotations: common(alerts.map((a) => a.annotations)),
      externalURL: this.options.externalUrl,
      alerts: alerts.map((alert) => ({
        status: alert.endsAt === null ? 'firing' : 'resolved',
        labels: alert.labels,
        annotations: alert.annotations,
        startsAt: new Date(alert.startsAt).toISOString(),
        endsAt: alert.endsAt === null ? ZERO_TIME : new Date(alert.endsAt).toISOString(),
        generatorURL: alert.generatorURL,
        fingerprint: alert.fingerprint,
      })),
    };
  }

  private async post(payload: WebhookPayload): Promise<Delivery> {
    const doFetch = this.options.fetch ?? fetch;
    try {
      const response = await doFetch(this.options.webhookUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${this.options.bearerToken}`,
          'user-agent': 'aisre-demo-alertmanager',
        },
        body: JSON.stringify(payload),
      });
      const text = await response.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Not JSON: keep the text.
      }
      return { payload, status: response.status, body };
    } catch (err) {
      return { payload, status: 0, body: (err as Error).message };
    }
  }
}
