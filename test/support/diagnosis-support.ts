import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';
import type { ChangeEventFact } from '../../src/checks/check-type.js';
import { KnexDiagnosisStore } from '../../src/db/stores/diagnosis-store.js';
import type { DiagnosisSession, DiagnosisStep } from '../../src/diagnosis/diagnosis.js';
import { scenarioChangeFacts, serveScenarioMetrics } from '../scenarios/scenario-runner.js';
import { SCENARIOS, type Scenario } from '../scenarios/scenarios.js';
import { alertmanagerBody } from './alertmanager-payloads.js';
import type { PrometheusStandIn } from './prometheus-stand-in.js';
import { ALERTMANAGER_TOKEN, API_TOKEN } from './test-service.js';

/** The shipped runbooks (`ai_incident`), as the service loads them by default. */
export const RUNBOOKS_DIR = fileURLToPath(new URL('../../runbooks/', import.meta.url));

/** How long before "now" the tests' incidents started: the baseline (1d ago) is well before. */
const STARTED_MINUTES_AGO = 20;

export function scenarioNamed(name: string): Scenario {
  const scenario = SCENARIOS.find((candidate) => candidate.name === name);
  if (!scenario) throw new Error(`no scenario "${name}" in test/scenarios/scenarios.ts`);
  return scenario;
}

/** One firing alert of `service` in a group of its own, so every service gets its own incident. */
export function serviceAlertBody(
  service: string,
  options: { startsAt: Date; fingerprint?: string; alertname?: string },
) {
  const alertname = options.alertname ?? 'AiServiceDegraded';
  return alertmanagerBody({
    groupKey: `{}/{service="${service}"}:{alertname="${alertname}"}`,
    commonLabels: { service },
    alerts: [
      {
        name: alertname,
        fingerprint: options.fingerprint ?? Buffer.from(service).toString('hex').padEnd(16, '0').slice(0, 16),
        startsAt: options.startsAt.toISOString(),
        labels: { service },
        annotations: { summary: `${alertname} on ${service}` },
      },
    ],
  });
}

/** Records changes through `POST /changes`, as a deploy pipeline would. */
export async function recordChanges(baseUrl: string, facts: readonly ChangeEventFact[]): Promise<void> {
  for (const fact of facts) {
    const response = await fetch(`${baseUrl}/changes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}` },
      body: JSON.stringify({
        service: fact.service,
        kind: fact.kind,
        from: fact.fromVersion,
        to: fact.toVersion,
        author: fact.author,
        at: fact.at.toISOString(),
        summary: fact.summary,
      }),
    });
    if (response.status !== 201) {
      throw new Error(`POST /changes answered ${response.status}: ${await response.text()}`);
    }
  }
}

/** Posts an Alertmanager body and returns the incident it opened or joined. */
export async function postAlertBody(baseUrl: string, body: unknown): Promise<number> {
  const response = await fetch(`${baseUrl}/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERTMANAGER_TOKEN}` },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as { incidentId?: number };
  if (response.status !== 200 || typeof json.incidentId !== 'number') {
    throw new Error(`POST /alertmanager answered ${response.status}: ${JSON.stringify(json)}`);
  }
  return json.incidentId;
}

/**
 * Makes a scenario happen to `service` on a running aisre: the stand-in answers its metrics
 * (the scenario runner's own logic, with the incident's start as the baseline cutoff), its
 * changes are recorded through `POST /changes`, and its alert opens an incident.
 */
export async function openScenarioIncident(
  baseUrl: string,
  standIn: PrometheusStandIn,
  scenario: Scenario,
  service: string,
): Promise<{ incidentId: number; startedAt: Date }> {
  const startedAt = new Date(Date.now() - STARTED_MINUTES_AGO * 60_000);
  serveScenarioMetrics(standIn, scenario, { service, cutoff: startedAt });
  await recordChanges(baseUrl, scenarioChangeFacts(scenario, { service, start: startedAt }));
  const incidentId = await postAlertBody(baseUrl, serviceAlertBody(service, { startsAt: startedAt }));
  return { incidentId, startedAt };
}

/** Every diagnosis session of an incident, oldest first, with its steps: for assertions only. */
export async function diagnosisRecords(
  knex: Knex,
  incidentId: number,
): Promise<Array<{ session: DiagnosisSession; steps: DiagnosisStep[] }>> {
  const store = new KnexDiagnosisStore(knex);
  const ids = (await knex('diagnosis_sessions')
    .where({ incident_id: incidentId })
    .orderBy('id')
    .select('id')) as Array<{ id: number }>;
  const records: Array<{ session: DiagnosisSession; steps: DiagnosisStep[] }> = [];
  for (const { id } of ids) {
    const session = await store.get(id);
    if (session) records.push({ session, steps: await store.steps(id) });
  }
  return records;
}

/** Check statuses of a step, by check id. */
export function statuses(step: DiagnosisStep | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(step?.results ?? {}).map(([id, result]) => [id, result.status]));
}
