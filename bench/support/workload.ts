import { createHash } from 'node:crypto';

/**
 * A model of Alertmanager sending webhook notifications for many alert groups. Each group holds
 * the alerts Alertmanager would list in its next notification: firing ones, plus resolved ones for
 * a notification or two until they are flushed. Like Alertmanager, a group never has two
 * notifications in flight at once (its aggregation group sends them one after another), and its
 * state only advances once a notification was accepted; a failed one is simply not applied.
 */

const ZERO_TIME = '0001-01-01T00:00:00Z';
const RECEIVERS = ['aisre', 'aisre-platform'] as const;
const ALERTNAMES = [
  'EvalPassRateLow',
  'RetrievalRecallDrop',
  'LlmLatencyHigh',
  'TokenBudgetExceeded',
  'GuardrailBlockRateHigh',
  'EmbeddingQueueBacklog',
  'ModelServerErrors',
  'HallucinationScoreHigh',
] as const;
const LAYERS = ['retrieval', 'generation', 'routing', 'guardrails', 'serving'] as const;

/** A deterministic PRNG (mulberry32), so two runs with the same seed send the same traffic. */
export function createRng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const between = (rng: Rng, min: number, max: number) => min + Math.floor(rng() * (max - min + 1));

/** The identity of an occurrence in aisre: receiver + fingerprint + startsAt (ms precision). */
export const occurrenceKey = (receiver: string, fingerprint: string, startsAtMs: number) =>
  `${receiver}\u0000${fingerprint}\u0000${startsAtMs}`;

interface AlertState {
  instance: number;
  fingerprint: string;
  startsAt: string;
  startsAtMs: number;
  status: 'firing' | 'resolved';
  endsAt: string;
  severity: 'warning' | 'critical';
  /** Accepted notifications that listed this alert as resolved. */
  resolvedSends: number;
}

interface Group {
  index: number;
  receiver: string;
  groupKey: string;
  alertname: string;
  service: string;
  layer: string;
  alerts: AlertState[];
  /** Instances that fired, resolved and were flushed; they may fire again with a new startsAt. */
  retired: number[];
  nextInstance: number;
  lastStartsAtMs: Map<number, number>;
  lastBody: string | undefined;
  lastAlertCount: number;
  inFlight: boolean;
}

export type DeliveryKind = 'open' | 'change' | 'repeat';

/** One notification ready to send; `accept()` applies it to the model once aisre answered 2xx. */
export interface Delivery {
  kind: DeliveryKind;
  group: number;
  body: Buffer;
  alerts: number;
  accept(): void;
  release(): void;
}

export interface WorkloadOptions {
  groups: number;
  maxAlerts: number;
  repeatRatio: number;
  seed: number;
  /** Every group's first notification before any group's second: a storm in which all groups fire. */
  openAllFirst?: boolean;
}

export class Workload {
  private readonly rng: Rng;
  private readonly groups: Group[];
  private readonly idle: Set<number>;
  /** With `openAllFirst`: every group below this one has been opened. */
  private unopened = 0;
  /** Every occurrence aisre accepted, with its last accepted status (resolution is final). */
  readonly expected = new Map<string, 'firing' | 'resolved'>();
  /** Groups with at least one accepted delivery: each must have opened exactly one incident. */
  readonly openedGroups = new Set<string>();

  constructor(private readonly options: WorkloadOptions) {
    this.rng = createRng(options.seed);
    this.groups = Array.from({ length: options.groups }, (_, index) => this.newGroup(index));
    this.idle = new Set(this.groups.map((group) => group.index));
  }

  get groupCount(): number {
    return this.groups.length;
  }

  /**
   * The next notification of a random group with nothing in flight, or undefined when every
   * group is busy. Each group's first notification opens it; later ones repeat the previous body
   * byte for byte (`repeatRatio`) or change it: alerts resolve, resolved ones get flushed, new
   * instances join and old ones fire again under a new startsAt.
   */
  next(): Delivery | undefined {
    if (this.idle.size === 0) return undefined;
    const index = this.pickIdle();
    const group = this.groups[index]!;
    group.inFlight = true;
    this.idle.delete(index);
    const release = () => {
      group.inFlight = false;
      this.idle.add(index);
    };

    if (group.lastBody !== undefined && this.rng() < this.options.repeatRatio) {
      const body = Buffer.from(group.lastBody);
      return {
        kind: 'repeat',
        group: index,
        body,
        alerts: group.lastAlertCount,
        accept: () => {},
        release,
      };
    }

    const kind: DeliveryKind = group.lastBody === undefined ? 'open' : 'change';
    const next = kind === 'open' ? this.initialAlerts(group) : this.changedAlerts(group);
    const text = JSON.stringify(this.body(group, next.alerts));
    return {
      kind,
      group: index,
      body: Buffer.from(text),
      alerts: next.alerts.length,
      accept: () => {
        for (const alert of next.alerts) {
          if (alert.status === 'resolved') alert.resolvedSends += 1;
          const key = occurrenceKey(group.receiver, alert.fingerprint, alert.startsAtMs);
          // Resolution is final for an occurrence, in aisre as in this model.
          if (this.expected.get(key) !== 'resolved') this.expected.set(key, alert.status);
          group.lastStartsAtMs.set(alert.instance, alert.startsAtMs);
        }
        group.alerts = next.alerts;
        group.retired = next.retired;
        group.nextInstance = next.nextInstance;
        group.lastBody = text;
        group.lastAlertCount = next.alerts.length;
        this.openedGroups.add(`${group.receiver}\u0000${group.groupKey}`);
      },
      release,
    };
  }

  /** The last accepted body of some group, busy or not: a retry racing a newer notification. */
  anyRepeat(): Delivery | undefined {
    const candidates = this.groups.filter((group) => group.lastBody !== undefined);
    if (candidates.length === 0) return undefined;
    const group = pick(this.rng, candidates);
    return {
      kind: 'repeat',
      group: group.index,
      body: Buffer.from(group.lastBody!),
      alerts: group.lastAlertCount,
      accept: () => {},
      release: () => {},
    };
  }

  /** Receivers and group keys, for looking the groups up in the database. */
  describeGroups(): Array<{ receiver: string; groupKey: string }> {
    return this.groups.map((group) => ({ receiver: group.receiver, groupKey: group.groupKey }));
  }

  private pickIdle(): number {
    if (this.options.openAllFirst) {
      while (this.unopened < this.groups.length && this.groups[this.unopened]!.lastBody !== undefined) {
        this.unopened += 1;
      }
      for (let index = this.unopened; index < this.groups.length; index++) {
        if (this.idle.has(index) && this.groups[index]!.lastBody === undefined) return index;
      }
    }
    // Random probes first (cheap while most groups are idle), then a scan.
    for (let i = 0; i < 8; i++) {
      const index = Math.floor(this.rng() * this.groups.length);
      if (this.idle.has(index)) return index;
    }
    const idle = [...this.idle];
    return idle[Math.floor(this.rng() * idle.length)]!;
  }

  private newGroup(index: number): Group {
    const alertname = ALERTNAMES[index % ALERTNAMES.length]!;
    const service = `rag-svc-${String(index).padStart(3, '0')}`;
    const receiver = RECEIVERS[index % RECEIVERS.length]!;
    return {
      index,
      receiver,
      groupKey: `{}/{severity=~"warning|critical"}:{alertname="${alertname}", service="${service}"}`,
      alertname,
      service,
      layer: LAYERS[index % LAYERS.length]!,
      alerts: [],
      retired: [],
      nextInstance: 0,
      lastStartsAtMs: new Map(),
      lastBody: undefined,
      lastAlertCount: 0,
      inFlight: false,
    };
  }

  private initialAlerts(group: Group) {
    const count = between(this.rng, Math.ceil(this.options.maxAlerts / 2), this.options.maxAlerts);
    const alerts: AlertState[] = [];
    for (let i = 0; i < count; i++) alerts.push(this.firingAlert(group, i));
    return { alerts, retired: [] as number[], nextInstance: count };
  }

  private changedAlerts(group: Group) {
    const rng = this.rng;
    let nextInstance = group.nextInstance;
    const retired = [...group.retired];
    // Resolved alerts are flushed from the group after being notified once or twice.
    let alerts = group.alerts
      .filter((alert) => {
        const flush = alert.status === 'resolved' && alert.resolvedSends >= between(rng, 1, 2);
        if (flush) retired.push(alert.instance);
        return !flush;
      })
      .map((alert) => ({ ...alert }));

    let changed = alerts.length !== group.alerts.length;
    const firing = alerts.filter((alert) => alert.status === 'firing');
    if (firing.length > 0 && rng() < 0.6) {
      const now = Date.now();
      for (let i = between(rng, 1, Math.min(3, firing.length)); i > 0; i--) {
        const alert = firing.splice(Math.floor(rng() * firing.length), 1)[0]!;
        alert.status = 'resolved';
        alert.endsAt = nanoIso(now, rng);
        changed = true;
      }
    }
    const room = this.options.maxAlerts - alerts.length;
    if (room > 0 && (rng() < 0.7 || !changed)) {
      for (let i = between(rng, 1, Math.min(3, room)); i > 0; i--) {
        // Old instances fire again (a new occurrence: same fingerprint, new startsAt) as often as new ones join.
        const refire = retired.length > 0 && rng() < 0.5;
        const instance = refire ? retired.splice(Math.floor(rng() * retired.length), 1)[0]! : nextInstance++;
        alerts.push(this.firingAlert(group, instance));
      }
    }
    if (alerts.length === 0) alerts = [this.firingAlert(group, nextInstance++)];
    alerts.sort((a, b) => a.instance - b.instance);
    return { alerts, retired, nextInstance };
  }

  private firingAlert(group: Group, instance: number): AlertState {
    const now = Date.now();
    // Alertmanager's startsAt is when Prometheus saw the rule fire: a little in the past, and later
    // than the instance's previous occurrence.
    const previous = group.lastStartsAtMs.get(instance) ?? 0;
    const startsAtMs = Math.max(now - Math.floor(this.rng() * 60_000), previous + 1);
    return {
      instance,
      fingerprint: createHash('sha256')
        .update(`${group.receiver}|${group.groupKey}|${instance}`)
        .digest('hex')
        .slice(0, 16),
      startsAt: nanoIso(startsAtMs, this.rng),
      startsAtMs,
      status: 'firing',
      endsAt: ZERO_TIME,
      severity: this.rng() < 0.2 ? 'critical' : 'warning',
      resolvedSends: 0,
    };
  }

  /** A v4 body shaped like Alertmanager 0.27's (field order, zero endsAt, nanosecond times). */
  private body(group: Group, alerts: AlertState[]) {
    const commonLabels = { alertname: group.alertname, service: group.service, namespace: 'ml-prod' };
    return {
      receiver: group.receiver,
      status: alerts.some((alert) => alert.status === 'firing') ? 'firing' : 'resolved',
      alerts: alerts.map((alert) => ({
        status: alert.status,
        labels: {
          alertname: group.alertname,
          instance: `10.42.${group.index % 250}.${alert.instance % 250}:9090`,
          job: 'rag-eval',
          layer: group.layer,
          namespace: 'ml-prod',
          pod: `${group.service}-${(alert.instance * 2654435761).toString(36).slice(-5)}`,
          prometheus: 'monitoring/k8s',
          service: group.service,
          severity: alert.severity,
          shard: String(alert.instance),
        },
        annotations: {
          description: `Pass rate of the ${group.layer} evaluation suite on shard ${alert.instance} of ${group.service} fell below 0.85 over the last 15m.`,
          runbook_url: `https://runbooks.example.com/ai/${group.alertname}`,
          summary: `${group.alertname} on ${group.service} shard ${alert.instance}`,
        },
        startsAt: alert.startsAt,
        endsAt: alert.endsAt,
        generatorURL: `http://prometheus.monitoring:9090/graph?g0.expr=rag_eval_pass_rate%7Bservice%3D%22${group.service}%22%7D+%3C+0.85&g0.tab=1`,
        fingerprint: alert.fingerprint,
      })),
      groupLabels: { alertname: group.alertname, service: group.service },
      commonLabels,
      commonAnnotations: {},
      externalURL: 'http://alertmanager.monitoring:9093',
      version: '4',
      groupKey: group.groupKey,
      truncatedAlerts: 0,
    };
  }
}

/** RFC 3339 with nanoseconds, as Go formats it; the sub-millisecond digits are noise aisre drops. */
function nanoIso(ms: number, rng: Rng): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, -1)}${String(Math.floor(rng() * 1_000_000)).padStart(6, '0')}Z`;
}
