import type { CheckRunner } from '../diagnosis/diagnosis-engine.js';
import type { Clock } from '../incidents/ports.js';
import type { Logger } from '../logger.js';
import type { CheckRegistry } from './check-registry.js';
import type { CheckDependencies } from './check-type.js';
import { runChecks } from './run-check.js';

/** The diagnosis engine's CheckRunner over the plugin registry and the configured integrations. */
export function createNodeCheckRunner(options: {
  registry: CheckRegistry;
  deps: CheckDependencies;
  clock: Clock;
  logger: Logger;
}): CheckRunner {
  return {
    run: ({ checks, incident, vars, signal, onResult }) =>
      runChecks(
        options.registry,
        checks,
        {
          incident,
          now: options.clock.now(),
          deps: options.deps,
          logger: options.logger.child({ incidentId: incident.id }),
        },
        { signal, vars, onResult },
      ),
  };
}
