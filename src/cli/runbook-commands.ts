import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ActionCatalog } from '../actions/action-catalog.js';
import { createCheckRegistry } from '../checks/built-in-checks.js';
import { loadRunbooks, parseRunbook } from '../diagnosis/runbook-loader.js';
import { runbookToMermaid } from '../diagnosis/runbook-mermaid.js';
import { runbookJsonSchema } from '../diagnosis/runbook-schema.js';
import { AppError } from '../errors.js';

const validators = () => ({ checks: createCheckRegistry(), actions: new ActionCatalog() });

/**
 * `aisre runbook validate|schema|mermaid`. Validation prints every problem as `file:path: message`
 * and exits non-zero, so it fits a pre-commit hook or CI.
 */
export async function runbookCommand(args: string[], runbooksDir: string): Promise<number> {
  const [verb, target] = args;
  switch (verb) {
    case 'validate': {
      if (target) {
        const result = parseRunbook(await readFile(target, 'utf8'), target, validators());
        if (result.problems.length > 0) {
          process.stderr.write(`${result.problems.join('\n')}\n`);
          return 1;
        }
        process.stdout.write(`${target}: ok (${Object.keys(result.runbook!.runbook.nodes).length} nodes)\n`);
        return 0;
      }
      try {
        const loaded = await loadRunbooks(runbooksDir, validators());
        for (const { file, runbook, version } of loaded) {
          process.stdout.write(
            `${file}: ok (${runbook.id}@${version}, ${Object.keys(runbook.nodes).length} nodes)\n`,
          );
        }
        return 0;
      } catch (err) {
        if (err instanceof AppError && Array.isArray(err.details)) {
          process.stderr.write(`${(err.details as string[]).join('\n')}\n`);
          return 1;
        }
        throw err;
      }
    }
    case 'schema':
      process.stdout.write(`${JSON.stringify(runbookJsonSchema(), null, 2)}\n`);
      return 0;
    case 'mermaid': {
      const loaded = await loadRunbooks(runbooksDir, validators());
      const chosen = target
        ? loaded.find((l) => l.runbook.id === target || path.basename(l.file) === target)
        : loaded[0];
      if (!chosen) {
        process.stderr.write(
          `No runbook "${target}". Known: ${loaded.map((l) => l.runbook.id).join(', ')}\n`,
        );
        return 1;
      }
      process.stdout.write(runbookToMermaid(chosen.runbook));
      return 0;
    }
    default:
      process.stderr.write('Usage: aisre runbook validate [file] | schema | mermaid [runbook-id]\n');
      return 2;
  }
}
