import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DEMO_FAULTS } from '../../src/demo/demo-story.js';
import { TEST_DB_KIND } from '../support/test-database.js';

const run = promisify(execFile);

/** What each fault of `npm run demo` must end in, as its scoreboard row shows it. */
const EXPECTED: Record<string, { layer: string; conclusion: string; action: string }> = {
  prompt_regression: { layer: 'generation', conclusion: 'prompt_regression', action: 'prompt.rollback' },
  stale_index: { layer: 'retrieval', conclusion: 'index_stale', action: 'http.webhook (approved by bob)' },
  misrouting: { layer: 'routing', conclusion: 'route_changed', action: 'gateway.route (approved by bob)' },
};

// The demo always runs on PGlite, so it runs once, in the PGlite project.
describe.runIf(TEST_DB_KIND === 'pglite')('npm run demo', () => {
  it('walks every fault from its alert to a postmortem on embedded defaults and exits 0', {
    timeout: 240_000,
  }, async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'aisre-demo-'));
    try {
      const { stdout } = await run(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--built-in'],
        {
          env: { PATH: process.env.PATH, AISRE_DATA_DIR: dataDir },
          maxBuffer: 64 * 1024 * 1024,
          timeout: 220_000,
        },
      );
      expect(stdout).toContain("aisre's built-in evaluator (a subset of PromQL)");
      expect(stdout).toContain("Yesterday's baseline is simulated");
      expect(stdout).toContain('no alert fires: yes');
      expect(DEMO_FAULTS).toEqual(Object.keys(EXPECTED));
      for (const [index, fault] of DEMO_FAULTS.entries()) {
        const { layer, conclusion, action } = EXPECTED[fault]!;
        const id = index + 1;
        expect(stdout).toMatch(
          new RegExp(
            `\\| ${fault} \\| [^|]+ \\| ${layer} \\| ${conclusion} \\| ${action.replace(/[().]/g, '\\$&')} \\|`,
          ),
        );
        expect(stdout).toContain(`Verified on the app's metrics`);
        expect(stdout).toContain(`INC-${id} resolved`);
        // The postmortem is printed whole, with the layer found.
        const postmortem = stdout.slice(stdout.indexOf(`GET /api/incidents/${id}/postmortem.md serves it`));
        expect(postmortem).toContain(`# INC-${id}:`);
        expect(postmortem).toContain(`**Layer:** ${layer}`);
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
