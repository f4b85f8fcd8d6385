import type { ActionService } from '../../actions/action-service.js';
import type { DiagnosisEngine } from '../../diagnosis/diagnosis-engine.js';
import type { IncidentService } from '../../incidents/incident-service.js';
import type { Clock } from '../../incidents/ports.js';
import type { Logger } from '../../logger.js';
import type { Metrics } from '../../metrics.js';
import type { PostmortemService } from '../../postmortems/postmortem-service.js';
import type { SlackDeliveryStore } from '../delivery/delivery-store.js';

/** What Slack listeners may call: domain services and lookups, never the database directly. */
export interface ListenerDeps {
  incidents: IncidentService;
  diagnosis: DiagnosisEngine;
  actions: ActionService;
  postmortems: PostmortemService;
  slackStore: SlackDeliveryStore;
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
}
