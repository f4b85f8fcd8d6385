import { runDemoStory } from '../demo/demo-story.js';

/**
 * `npm run demo`: the whole story on embedded defaults (see src/demo/demo-story.ts). `--keep`
 * leaves everything running afterwards; `--built-in` uses the built-in PromQL subset even where
 * Prometheus and Alertmanager are installed.
 */
export async function runDemo(options: {
  flags: readonly string[];
  dataDir: string;
  runbooksDir: string;
}): Promise<void> {
  await runDemoStory({
    dataDir: options.dataDir,
    runbooksDir: options.runbooksDir,
    keep: options.flags.includes('--keep'),
    builtIn: options.flags.includes('--built-in'),
    print: (line) => process.stdout.write(`${line}\n`),
  });
}
