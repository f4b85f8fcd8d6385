import express, { type Router } from 'express';
import { z } from 'zod';
import type { ActionService } from '../actions/action-service.js';
import { redactBody } from '../actions/integration-client.js';
import { AppError, validationError } from '../errors.js';
import { INCIDENT_STATUSES, type IncidentStatus, OPEN_STATUSES } from '../incidents/incident.js';
import type { IncidentService } from '../incidents/incident-service.js';
import type { PostmortemService } from '../postmortems/postmortem-service.js';
import type { SlackDeliveryStore } from '../slack/delivery/delivery-store.js';
import { MAX_STORABLE_INTEGER } from '../storable.js';
import { requireApiToken } from './bearer-auth.js';

const listQuery = z.object({
  status: z
    .string()
    .optional()
    .transform((value, ctx): IncidentStatus[] | undefined => {
      if (!value || value === 'all') return undefined;
      if (value === 'open') return [...OPEN_STATUSES];
      const statuses = value.split(',');
      const bad = statuses.filter((status) => !INCIDENT_STATUSES.includes(status as IncidentStatus));
      if (bad.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown status ${bad.join(', ')}; use open, all or ${INCIDENT_STATUSES.join(', ')}`,
        });
        return z.NEVER;
      }
      return statuses as IncidentStatus[];
    }),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.coerce.number().int().positive().max(MAX_STORABLE_INTEGER).optional(),
});

const versionQuery = z.object({
  version: z.coerce.number().int().positive().max(MAX_STORABLE_INTEGER).optional(),
});

const idParam = z.object({
  id: z
    .string()
    .regex(/^(INC-)?\d+$/i, 'must be an incident number such as 42 or INC-42')
    .transform((value) => Number.parseInt(value.replace(/^INC-/i, ''), 10))
    .refine((id) => id <= MAX_STORABLE_INTEGER, 'is larger than any incident number'),
});

/** Read-only JSON API over incidents, behind `Authorization: Bearer <AISRE_API_TOKEN>`. */
export function incidentsApiRouter(options: {
  incidents: IncidentService;
  actions: ActionService;
  postmortems: PostmortemService;
  slack: SlackDeliveryStore;
  token: string | undefined;
}): Router {
  const router = express.Router();

  const authenticate = requireApiToken(options.token);

  router.get('/api/incidents', authenticate, async (req, res) => {
    const query = listQuery.safeParse(req.query);
    if (!query.success) throw validationError('query', query.error.issues);
    const incidents = await options.incidents.list({
      limit: query.data.limit,
      ...(query.data.status ? { statuses: query.data.status } : {}),
      ...(query.data.before ? { beforeId: query.data.before } : {}),
    });
    const last = incidents.at(-1);
    res.json({
      incidents,
      next: incidents.length === query.data.limit && last ? `/api/incidents?before=${last.id}` : null,
    });
  });

  // The action runs of an incident and their complete audit: params with keys masked, requests
  // without credentials.
  router.get('/api/incidents/:id/actions', authenticate, async (req, res) => {
    const params = idParam.safeParse(req.params);
    if (!params.success) throw validationError('incident id', params.error.issues);
    const incident = await options.incidents.get(params.data.id);
    const [runs, audit] = await Promise.all([
      options.actions.runs(incident.id),
      options.actions.audit({ incidentId: incident.id }),
    ]);
    res.json({
      runs: runs.map((run) => ({ ...run, params: redactBody(run.params), leaseUntil: undefined })),
      audit,
    });
  });

  // The latest postmortem draft as Markdown, or `?version=n`. Resolving the incident drafts the
  // first one; `/aisre postmortem` drafts one on demand.
  router.get('/api/incidents/:id/postmortem.md', authenticate, async (req, res) => {
    const params = idParam.safeParse(req.params);
    if (!params.success) throw validationError('incident id', params.error.issues);
    const query = versionQuery.safeParse(req.query);
    if (!query.success) throw validationError('query', query.error.issues);
    const id = params.data.id;
    await options.incidents.get(id);
    const found =
      query.data.version === undefined
        ? await options.postmortems.latest(id)
        : await options.postmortems.version(id, query.data.version);
    if (!found) {
      throw new AppError(
        'not_found',
        query.data.version === undefined
          ? `INC-${id} has no postmortem yet: it is drafted when the incident is resolved, or run /aisre postmortem INC-${id}.`
          : `INC-${id} has no postmortem version ${query.data.version}.`,
      );
    }
    res
      .type('text/markdown; charset=utf-8')
      .set('x-aisre-postmortem-version', String(found.version))
      .set('content-disposition', `inline; filename="inc-${id}-postmortem-v${found.version}.md"`)
      .send(found.markdown);
  });

  router.get('/api/incidents/:id', authenticate, async (req, res) => {
    const params = idParam.safeParse(req.params);
    if (!params.success) throw validationError('incident id', params.error.issues);
    const id = params.data.id;
    const incident = await options.incidents.get(id);
    const [alerts, timeline, channel] = await Promise.all([
      options.incidents.alerts(id),
      options.incidents.timeline(id),
      options.slack.channelFor(id),
    ]);
    res.json({
      incident,
      alerts,
      timeline,
      slack: channel
        ? { mode: channel.mode, channelId: channel.channelId, channelName: channel.channelName }
        : null,
    });
  });

  return router;
}
