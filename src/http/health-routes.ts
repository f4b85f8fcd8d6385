import express, { type Router } from 'express';
import type { Registry } from 'prom-client';

/** Liveness, readiness and metrics. Readiness means the database answers and its schema is current. */
export function operationsRouter(options: {
  checkReady: () => Promise<{ ready: boolean; reason?: string }>;
  registry: Registry;
}): Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const readiness = await options
      .checkReady()
      .catch((err: Error) => ({ ready: false, reason: err.message }));
    res
      .status(readiness.ready ? 200 : 503)
      .json(readiness.ready ? { status: 'ready' } : { status: 'not_ready', reason: readiness.reason });
  });
  router.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', options.registry.contentType);
    res.send(await options.registry.metrics());
  });
  return router;
}
