import { runDemoStory } from '../demo/demo-story.js';
import { FAULTS, isFaultName } from '../reference-app/catalog.js';

/**
 * `npm run demo`: the whole story on embedded defaults (see src/demo/demo-story.ts). `--keep`
 * leaves everything running afterwards; `--built-in` uses the built-in PromQL subset even where
 * Prometheus and Alertmanager are installed; `--faults=a,b` picks the faults (in that order).
 */
export async function runDemo(options: {
  flags: readonly string[];
  dataDir: string;
  runbooksDir: string;
}): Promise<void> {
  const chosen = options.flags.find((flag) => flag.startsWith('--faults='))?.slice('--faults='.length);
  const faults = chosen?.split(',').map((name) => name.trim());
  const unknown = faults?.filter((name) => !isFaultName(name)) ?? [];
  if (unknown.length > 0) {
    throw new Error(`unknown fault ${unknown.join(', ')}; the reference app has ${FAULTS.join(', ')}`);
  }
  await runDemoStory({
    ...(faults ? { faults: faults.filter(isFaultName) } : {}),
    dataDir: options.dataDir,
    runbooksDir: options.runbooksDir,
    keep: options.flags.includes('--keep'),
    builtIn: options.flags.includes('--built-in'),
    print: (line) => process.stdout.write(`${line}\n`),
  });
}
