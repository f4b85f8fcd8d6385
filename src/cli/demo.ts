import { runDemoStory } from '../demo/demo-story.js';

/**
 * `npm run demo`: the whole story on embedded defaults (see src/demo/demo-story.ts). `--keep`
 * leaves the service, the reference app and the PromQL API running afterwards.
 */
export async function runDemo(options: { keep: boolean; dataDir: string }): Promise<void> {
  await runDemoStory({ ...options, print: (line) => process.stdout.write(`${line}\n`) });
}
