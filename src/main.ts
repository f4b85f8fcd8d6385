import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { ActionPolicy } from './actions/action-policy.js';
import { ActionService } from './actions/action-service.js';
import { ActionRegistry } from './actions/built-in-actions.js';
import { integrationFactory } from './actions/integrations.js';
import { ChangeService } from './changes/change-service.js';
import { createCheckRegistry } from './checks/built-in-checks.js';
import type { CheckRegistry } from './checks/check-registry.js';
import type { CheckDependencies } from './checks/check-type.js';
import { createNodeCheckRunner } from './checks/node-check-runner.js';
import { prometheusClient } from './checks/types/prometheus-api.js';
import type { Config } from './config.js';
import { type Database, openDatabase } from './db/database.js';
import { migrateLatest, pendingMigrations } from './db/migrations.js';
import { KnexGoldenBaselineStore } from './db/stores/golden-baseline-store.js';
import { KnexSlackDeliveryStore } from './db/stores/slack-delivery-store.js';
import { createKnexUnitOfWork } from './db/unit-of-work.js';
import { DiagnosisEngine } from './diagnosis/diagnosis-engine.js';
import { RunbookLibrary } from './diagnosis/runbook-library.js';
import { type LoadedRunbook, loadRunbooks } from './diagnosis/runbook-loader.js';
import { retryWhileUnavailable } from './errors.js';
import { alertmanagerRouter } from './http/alertmanager-route.js';
import { changesRouter } from './http/changes-route.js';
import { errorHandler } from './http/error-handler.js';
import { operationsRouter } from './http/health-routes.js';
import { createHttpApp, notFound } from './http/http-app.js';
import { incidentsApiRouter } from './http/incidents-api-route.js';
import { IncidentService } from './incidents/incident-service.js';
import type { Clock } from './incidents/ports.js';
import { AlertIntakeService } from './intake/alert-intake-service.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { prometheusImpactReader } from './postmortems/postmortem-impact.js';
import { PostmortemService } from './postmortems/postmortem-service.js';
import { createSummaryWriter } from './postmortems/summary-writer.js';
import { createSlackApp } from './slack/bolt-app.js';
import { ConsoleSlackGateway } from './slack/console-slack-gateway.js';
import { IncidentSlackSync } from './slack/delivery/incident-slack-sync.js';
import { OutboxWorker } from './slack/delivery/outbox-worker.js';
import type { SlackGateway } from './slack/slack-gateway.js';
import { SlackGroupDirectory } from './slack/slack-group-directory.js';
import { createWebClient, WebSlackGateway } from './slack/web-slack-gateway.js';

export interface StartOptions {
  logger?: Logger;
  /** Where Slack messages are printed when no Slack credentials are configured. */
  print?: (text: string) => void;
  clock?: Clock;
  outboxPollIntervalMs?: number;
}

/** A running aisre process: its address, its parts for tools like the demo, and how to stop it. */
export interface RunningAisre {
  url: string;
  port: number;
  db: Database;
  incidents: IncidentService;
  diagnosis: DiagnosisEngine;
  actions: ActionService;
  postmortems: PostmortemService;
  outbox: OutboxWorker;
  logger: Logger;
  stop(): Promise<void>;
}

const systemClock: Clock = { now: () => new Date() };
const SHUTDOWN_GRACE_MS = 10_000;
const RECHECK_POLL_MS = 5_000;
// Action leases and verifications, and postmortems of resolved incidents, are looked for this often.
const ACTION_POLL_MS = 1_000;

/** A missing runbooks directory leaves diagnosis unavailable rather than stopping the service. */
async function loadRunbookDirectory(
  directory: string,
  checks: CheckRegistry,
  actions: ActionRegistry,
  logger: Logger,
): Promise<LoadedRunbook[]> {
  try {
    const loaded = await loadRunbooks(directory, { checks, actions: actions.catalog() });
    logger.info({ runbooks: loaded.map((r) => `${r.runbook.id}@${r.version}`) }, 'loaded runbooks');
    return loaded;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    logger.warn(
      { directory },
      'no runbooks directory: diagnosis is unavailable until AISRE_RUNBOOKS_DIR points at one',
    );
    return [];
  }
}

/**
 * The composition root: config → database → domain services → Slack delivery → HTTP. Nothing
 * else constructs these parts, so swapping one (PGlite for Postgres, console for Slack) happens
 * here and only here.
 */
export async function startAisre(config: Config, options: StartOptions = {}): Promise<RunningAisre> {
  const logger = options.logger ?? createLogger({ level: config.logLevel, secrets: config.secrets });
  const clock = options.clock ?? systemClock;
  // Runbooks are checked before anything opens, so a broken one stops startup with its file and path.
  const checkRegistry = createCheckRegistry();
  const actionRegistry = new ActionRegistry();
  const runbooks = new RunbookLibrary(
    await loadRunbookDirectory(config.diagnosis.runbooksDir, checkRegistry, actionRegistry, logger),
  );
  const db = await openDatabase(config.database, { logger });
  try {
    const applied = await migrateLatest(db.knex);
    if (applied.length > 0) logger.info({ migrations: applied }, 'applied database migrations');
  } catch (err) {
    await db.close();
    throw err;
  }

  const metrics = createMetrics();
  const slackStore = new KnexSlackDeliveryStore(db.knex);
  let outbox: OutboxWorker | undefined;
  const uow = createKnexUnitOfWork(db.knex, () => outbox?.wake());
  const incidents = new IncidentService({ uow, clock });
  const intake = new AlertIntakeService({ uow, clock, severityMap: config.severityMap });
  const changes = new ChangeService({ uow, clock });
  const checkDeps: CheckDependencies = {
    prometheus: {
      url: config.diagnosis.prometheus.url,
      publicUrl: config.diagnosis.prometheus.publicUrl,
      headers: config.diagnosis.prometheus.bearerToken
        ? { authorization: `Bearer ${config.diagnosis.prometheus.bearerToken}` }
        : {},
    },
    llm: config.diagnosis.llm,
    changes: uow.read.changes,
    goldenBaselines: new KnexGoldenBaselineStore(db.knex),
    fetch: globalThis.fetch,
  };
  const checkRunner = createNodeCheckRunner({ registry: checkRegistry, clock, logger, deps: checkDeps });
  const { baseUrl: llmBaseUrl, apiKey: llmApiKey } = config.diagnosis.llm;
  const postmortems = new PostmortemService({
    uow,
    clock,
    logger: logger.child({ component: 'postmortems' }),
    impact: prometheusImpactReader({
      prometheus: prometheusClient(checkDeps),
      sloPassRate: config.postmortems.qualitySlo,
      logger,
    }),
    summaryWriter:
      llmBaseUrl && config.postmortems.summaryModel
        ? createSummaryWriter({
            baseUrl: llmBaseUrl,
            model: config.postmortems.summaryModel,
            logger,
            ...(llmApiKey ? { apiKey: llmApiKey } : {}),
          })
        : undefined,
  });
  let actions: ActionService | undefined;
  const diagnosis = new DiagnosisEngine({
    uow,
    runbooks,
    clock,
    logger: logger.child({ component: 'diagnosis' }),
    recheckAfterMs: config.diagnosis.recheckAfterMs,
    checks: checkRunner,
    onConcluded: (session) => actions?.scheduleAuto(session),
    // Unique per start, so that a restarted process is not mistaken for the one that died.
    owner: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
    leaseMs: config.diagnosis.leaseMs,
  });

  let gateway: SlackGateway;
  if (config.slack.enabled) {
    const client = createWebClient({ token: config.slack.botToken, apiUrl: config.slack.apiUrl, logger });
    gateway = new WebSlackGateway(client, (method, error) =>
      metrics.slackApiErrors.inc({ method, error: error.slackError }),
    );
  } else {
    const print = options.print ?? ((text: string) => process.stdout.write(`${text}\n`));
    gateway = new ConsoleSlackGateway(print);
    logger.info('no SLACK_BOT_TOKEN: Slack messages are printed instead of posted');
  }
  actions = new ActionService({
    uow,
    registry: actionRegistry,
    policy: new ActionPolicy(config.actions, new SlackGroupDirectory(gateway, clock)),
    integrations: integrationFactory(config.actions),
    checks: checkRunner,
    clock,
    logger: logger.child({ component: 'actions' }),
    settleMs: config.actions.settleMs,
    verifyWindowMs: config.actions.verifyWindowMs,
    leaseMs: config.actions.leaseMs,
  });
  const sync = new IncidentSlackSync({
    store: slackStore,
    gateway,
    incidents,
    diagnosis: uow.read.diagnosis,
    actions,
    postmortems: uow.read.postmortems,
    incidentsChannel: config.slack.enabled
      ? config.slack.incidentsChannel
      : (config.slack.incidentsChannel ?? 'incidents'),
    responders: config.slack.responders,
    clock,
    logger,
  });
  outbox = new OutboxWorker({
    store: slackStore,
    handle: (op) => sync.handle(op),
    clock,
    logger: logger.child({ component: 'outbox' }),
    ...(options.outboxPollIntervalMs ? { pollIntervalMs: options.outboxPollIntervalMs } : {}),
  });
  metrics.observeOutbox(() => slackStore.depth());

  let draining = false;
  const http = createHttpApp({ metrics, isDraining: () => draining });
  const listenerDeps = { incidents, diagnosis, actions, postmortems, slackStore, clock, metrics, logger };
  const slackApp = config.slack.enabled
    ? createSlackApp({
        botToken: config.slack.botToken,
        signingSecret: config.slack.signingSecret,
        appToken: config.slack.appToken,
        apiUrl: config.slack.apiUrl,
        httpApp: http,
        deps: listenerDeps,
        logger,
      })
    : undefined;
  http.use(
    operationsRouter({
      registry: metrics.registry,
      checkReady: async () => {
        await db.knex.raw('select 1');
        const pending = await pendingMigrations(db.knex);
        return pending.length === 0
          ? { ready: true }
          : { ready: false, reason: `pending migrations: ${pending.join(', ')}` };
      },
    }),
  );
  http.use(
    alertmanagerRouter({
      intake,
      onIncidentOpened: config.diagnosis.autoStart
        ? (incidentId) => {
            // The incident is stored; a database restart right after must not leave it undiagnosed.
            retryWhileUnavailable(() => diagnosis.start(incidentId, { kind: 'system' })).catch(
              (err: unknown) => logger.warn({ err, incidentId }, 'automatic diagnosis did not start'),
            );
          }
        : undefined,
      token: config.alertmanager.token,
      allowUnauthenticated: config.alertmanager.allowUnauthenticated,
      maxBodyBytes: config.alertmanager.maxBodyBytes,
      metrics,
      logger,
    }),
  );
  http.use(
    incidentsApiRouter({ incidents, actions, postmortems, slack: slackStore, token: config.apiToken }),
  );
  http.use(changesRouter({ changes, token: config.apiToken, clock, logger }));
  http.use(notFound);
  http.use(errorHandler(logger));

  const server = createServer(http);
  server.keepAliveTimeout = 65_000;
  try {
    await listen(server, config.port, config.host);
  } catch (err) {
    await db.close();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host}:${port}`;
  outbox.start();
  const resumed = await diagnosis.resumeAll();
  if (resumed > 0) logger.info({ sessions: resumed }, 'resumed diagnosis sessions');
  await actions.resume();
  // Question reminders, action leases and verification deadlines live in the database; this
  // only looks for due ones.
  const recheckTimer = setInterval(() => {
    diagnosis.recheckDue().catch((err: unknown) => logger.error({ err }, 'diagnosis recheck failed'));
  }, RECHECK_POLL_MS);
  recheckTimer.unref();
  const leaseTimer = setInterval(
    () => {
      diagnosis.maintainLeases().catch((err: unknown) => logger.error({ err }, 'diagnosis leases failed'));
    },
    Math.max(100, Math.floor(config.diagnosis.leaseMs / 3)),
  );
  leaseTimer.unref();
  const actionTimer = setInterval(() => {
    actions?.processDue().catch((err: unknown) => logger.error({ err }, 'action processing failed'));
    postmortems.draftDue().catch((err: unknown) => logger.error({ err }, 'postmortem drafting failed'));
  }, ACTION_POLL_MS);
  actionTimer.unref();
  await slackApp?.start();
  logger.info(
    { url, database: db.kind, slack: config.slack.enabled ? 'web-api' : 'console' },
    'aisre is running',
  );

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      draining = true;
      logger.info('shutting down: intake stopped, draining in-flight work');
      await closeServer(server);
      clearInterval(recheckTimer);
      clearInterval(leaseTimer);
      clearInterval(actionTimer);
      await diagnosis.stop();
      await actions?.stop();
      await outbox?.stop();
      await slackApp
        ?.stop()
        .catch((err: unknown) => logger.warn({ err }, 'Slack Socket Mode did not stop cleanly'));
      await db.close();
      logger.info('shutdown complete');
    })();
    return stopping;
  };

  return { url, port, db, incidents, diagnosis, actions, postmortems, outbox, logger, stop };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Stops accepting connections, lets in-flight requests finish, then cuts what is left. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
