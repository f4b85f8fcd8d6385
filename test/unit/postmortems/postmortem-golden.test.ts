import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { draftPostmortem, renderPostmortemMarkdown } from '../../../src/postmortems/postmortem-draft.js';
import { GOLDEN_SCENARIOS } from './postmortem-scenarios.js';

// `UPDATE_GOLDEN=1 npx vitest run --project unit test/unit/postmortems` rewrites the files; review the diff.
const GOLDEN_DIR = path.join(import.meta.dirname, 'golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

describe('postmortem Markdown', () => {
  for (const [name, scenario] of Object.entries(GOLDEN_SCENARIOS)) {
    it(`matches golden/${name}.md`, () => {
      const markdown = renderPostmortemMarkdown(draftPostmortem(scenario()));
      const file = path.join(GOLDEN_DIR, `${name}.md`);
      if (UPDATE) {
        mkdirSync(GOLDEN_DIR, { recursive: true });
        writeFileSync(file, markdown);
      }
      expect(existsSync(file), `${file} is missing; run with UPDATE_GOLDEN=1`).toBe(true);
      expect(markdown).toBe(readFileSync(file, 'utf8'));
    });
  }
});
