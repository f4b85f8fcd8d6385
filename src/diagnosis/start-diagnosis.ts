import type { Actor } from '../incidents/incident.js';
import type { IncidentService } from '../incidents/incident-service.js';
import type { DiagnosisCommandResult, DiagnosisEngine } from './diagnosis-engine.js';

/**
 * What "Start diagnosis" means to a responder: the incident moves to investigating (the person
 * becomes a responder, and commander if there is none) and the diagnosis tree starts.
 */
export async function startDiagnosis(
  deps: { incidents: IncidentService; diagnosis: DiagnosisEngine },
  incidentId: number,
  actor: Actor,
  runbookId?: string,
): Promise<DiagnosisCommandResult> {
  const incident = await deps.incidents.get(incidentId);
  if (
    incident.status !== 'investigating' &&
    incident.status !== 'resolved' &&
    incident.status !== 'cancelled'
  ) {
    await deps.incidents.startInvestigation(incidentId, actor);
  }
  return deps.diagnosis.start(incidentId, actor, runbookId);
}
