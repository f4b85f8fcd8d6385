import express, { type Express, type RequestHandler } from 'express';
import { AppError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import { sendError } from './error-handler.js';

/**
 * The express app every route mounts on, Slack's included. It times requests for /metrics and,
 * once draining starts, turns new requests away with 503 so load balancers and Alertmanager
 * retry elsewhere or later.
 */
export function createHttpApp(options: { metrics: Metrics; isDraining: () => boolean }): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  const timing: RequestHandler = (req, res, next) => {
    const end = options.metrics.httpDuration.startTimer({ method: req.method });
    res.on('finish', () => {
      const route = req.route?.path ?? (res.statusCode === 404 ? 'unmatched' : req.path);
      end({ route: String(route), status: String(res.statusCode) });
    });
    next();
  };
  const draining: RequestHandler = (_req, res, next) => {
    if (!options.isDraining()) return next();
    res.setHeader('Connection', 'close');
    sendError(res, new AppError('unavailable', 'aisre is shutting down; retry shortly.'));
  };
  app.use(timing, draining);
  return app;
}

/** Answers unknown paths with the same JSON error shape as everything else. */
export const notFound: RequestHandler = (req, res) => {
  sendError(res, new AppError('not_found', `No route for ${req.method} ${req.path}.`));
};
