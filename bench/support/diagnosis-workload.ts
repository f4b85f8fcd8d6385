import { createHash } from 'node:crypto';
import { scenarioChangeFacts } from '../../test/scenarios/scenario-runner.js';
import { DEFAULT_SERVICE, SCENARIOS, type Scenario } from '../../test/scenarios/scenarios.js';
import { alertmanagerBody } from '../../test/support/alertmanager-payloads.js';

/**
 * One test/scenarios scenario as the diagnosis bench plays it: a service of its own (so its
 * metrics and change events answer only its incidents), whose metrics turn from the scenario's
 * baseline to its values "now" at `cutoff`, the moment every bench incident started.
 */
export interface ScenarioService {
  scenario: Scenario;
  service: string;
}

/** What a settled session must look like: concluded at a node (with its layer), or asking at one. */
export type ExpectedOutcome =
  | { status: 'concluded'; node: string; layer: string }
  | { status: 'waiting'; node: string };

export function scenarioServices(scenarios: readonly Scenario[] = SCENARIOS): ScenarioService[] {
  return scenarios.map((scenario) => ({
    scenario,
    service: `${scenario.service ?? DEFAULT_SERVICE}-${scenario.name}`,
  }));
}

/** Scenarios whose checks are conclusive: the tree reaches a conclusion without a person. */
export function concludes(entry: ScenarioService): boolean {
  return 'conclusion' in entry.scenario.expect;
}

export function expectedOutcome(entry: ScenarioService): ExpectedOutcome {
  const { expect } = entry.scenario;
  return 'asks' in expect
    ? { status: 'waiting', node: expect.asks }
    : { status: 'concluded', node: expect.conclusion, layer: expect.layer };
}

/** `POST /changes` bodies for the scenario's change events, timed against the incident start. */
export function changeBodies(entry: ScenarioService, start: Date): Array<Record<string, unknown>> {
  return scenarioChangeFacts(entry.scenario, { start, service: entry.service }).map((change) => ({
    service: change.service,
    kind: change.kind,
    from: change.fromVersion,
    to: change.toVersion,
    author: change.author,
    at: change.at.toISOString(),
    summary: change.summary,
  }));
}

/**
 * An Alertmanager v4 notification opening one incident about the scenario's service: one firing
 * alert that started at `startsAt`, in an alert group of its own (`key`).
 */
export function alertBody(entry: ScenarioService, key: string, startsAt: Date): Buffer {
  const labels = { alertname: 'AiServiceDegraded', service: entry.service, severity: 'critical' };
  const body = alertmanagerBody({
    alerts: [
      {
        name: labels.alertname,
        fingerprint: createHash('sha1').update(key).digest('hex').slice(0, 16),
        startsAt: startsAt.toISOString(),
        labels: { ...labels, bench: key },
        annotations: { summary: `${entry.scenario.name} (${key})` },
      },
    ],
    receiver: 'aisre',
    groupKey: `{}/{service="${entry.service}"}:{bench="${key}"}`,
    commonLabels: { ...labels, bench: key },
  });
  return Buffer.from(JSON.stringify({ ...body, groupLabels: { service: entry.service, bench: key } }));
}
