import express, { type RequestHandler, type Router } from 'express';
import { AppError, toAppError, validationError } from '../errors.js';
import type { AlertIntakeService } from '../intake/alert-intake-service.js';
import { alertmanagerPayloadSchema } from '../intake/alertmanager-payload.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { authorizationMatches } from './bearer-auth.js';
import { sendError } from './error-handler.js';

export interface AlertmanagerRouteOptions {
  intake: AlertIntakeService;
  token: string | undefined;
  allowUnauthenticated: boolean;
  maxBodyBytes: number;
  metrics: Metrics;
  logger: Logger;
  /** Called after the commit that opened an incident, e.g. to start its diagnosis. */
  onIncidentOpened?: ((incidentId: number) => void) | undefined;
}

/**
 * `POST /alertmanager`. Credentials are checked before the body is read; the body is parsed and
 * validated in full before anything is written; the answer is 2xx only after the commit, and 5xx
 * only when retrying can help (Alertmanager retries 5xx, never 4xx).
 */
export function alertmanagerRouter(options: AlertmanagerRouteOptions): Router {
  const router = express.Router();
  const { metrics, logger } = options;

  const authenticate: RequestHandler = (req, res, next) => {
    if (options.token && authorizationMatches(req.headers.authorization, options.token, true)) return next();
    if (!options.token && options.allowUnauthenticated) return next();
    metrics.deliveries.inc({ outcome: 'unauthorized' });
    res.setHeader('WWW-Authenticate', 'Bearer realm="aisre", Basic realm="aisre"');
    sendError(
      res,
      new AppError(
        'unauthorized',
        'Missing or wrong credentials: send Authorization: Bearer <ALERTMANAGER_TOKEN>.',
      ),
    );
  };

  router.post(
    '/alertmanager',
    authenticate,
    express.raw({ type: () => true, limit: options.maxBodyBytes }),
    async (req, res) => {
      const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch (err) {
        metrics.deliveries.inc({ outcome: 'invalid' });
        sendError(
          res,
          new AppError('validation_failed', `The body is not valid JSON: ${(err as Error).message}`),
        );
        return;
      }
      const parsed = alertmanagerPayloadSchema.safeParse(json);
      if (!parsed.success) {
        metrics.deliveries.inc({ outcome: 'invalid' });
        sendError(res, validationError('Alertmanager payload', parsed.error.issues));
        return;
      }
      const payload = parsed.data;
      try {
        const result = await options.intake.ingest(payload);
        metrics.deliveries.inc({ outcome: 'accepted' });
        for (const alert of payload.alerts) metrics.alertsReceived.inc({ status: alert.status });
        if (result.opened && result.severity) {
          metrics.incidentsOpened.inc({ severity: result.severity, source: 'alertmanager' });
          if (result.incidentId !== null) options.onIncidentOpened?.(result.incidentId);
          logger.info(
            { incidentId: result.incidentId, receiver: payload.receiver, groupKey: payload.groupKey },
            'incident opened from Alertmanager',
          );
        }
        res.status(200).json({ status: 'accepted', ...result });
      } catch (err) {
        const error = toAppError(err);
        metrics.deliveries.inc({ outcome: error.code === 'unavailable' ? 'unavailable' : 'error' });
        logger.error(
          { err, receiver: payload.receiver, groupKey: payload.groupKey },
          'Alertmanager delivery not stored',
        );
        sendError(res, error);
      }
    },
  );
  return router;
}
