const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface AlertSpec {
  name: string;
  fingerprint: string;
  status?: 'firing' | 'resolved';
  startsAt?: string;
  endsAt?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/**
 * Builds an Alertmanager v4 body shaped like the ones a real Alertmanager 0.25 sends (see
 * shared field notes): the top-level status is "firing" if any alert fires.
 */
export function alertmanagerBody(options: {
  alerts: AlertSpec[];
  receiver?: string;
  groupKey?: string;
  truncatedAlerts?: number;
  status?: 'firing' | 'resolved';
  commonLabels?: Record<string, string>;
}) {
  const alerts = options.alerts.map((alert) => {
    const status = alert.status ?? 'firing';
    return {
      status,
      labels: { alertname: alert.name, service: 'rag-assistant', severity: 'warning', ...alert.labels },
      annotations: { summary: `${alert.name} summary`, ...alert.annotations },
      startsAt: alert.startsAt ?? '2026-11-22T10:00:00.123456789Z',
      endsAt: status === 'resolved' ? (alert.endsAt ?? '2026-11-22T10:30:00Z') : ZERO_TIME,
      generatorURL: 'http://prometheus.local:9090/graph?g0.expr=up',
      fingerprint: alert.fingerprint,
    };
  });
  return {
    version: '4',
    groupKey: options.groupKey ?? '{}/{service="rag-assistant"}:{alertname="EvalPassRateLow"}',
    truncatedAlerts: options.truncatedAlerts ?? 0,
    status: options.status ?? (alerts.some((alert) => alert.status === 'firing') ? 'firing' : 'resolved'),
    receiver: options.receiver ?? 'aisre',
    groupLabels: { service: 'rag-assistant' },
    commonLabels: options.commonLabels ?? { service: 'rag-assistant' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.local:9093',
    alerts,
  };
}
