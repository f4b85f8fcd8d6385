import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../src');

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) =>
      entry.isDirectory()
        ? sourceFiles(path.join(dir, entry.name))
        : Promise.resolve([path.join(dir, entry.name)]),
    ),
  );
  return nested.flat().filter((file) => file.endsWith('.ts'));
}

describe('architecture', () => {
  it('keeps the domain core free of Slack, knex, pg and express', async () => {
    const domain = ['incidents', 'intake', 'changes', 'diagnosis', 'checks', 'actions', 'postmortems'];
    const offenders: string[] = [];
    for (const folder of domain) {
      for (const file of await sourceFiles(path.join(SRC, folder))) {
        const text = await readFile(file, 'utf8');
        if (/from '(knex|pg|express|@slack\/[a-z-]+)'/.test(text)) offenders.push(path.relative(SRC, file));
        if (/from '\.\.\/(db|slack|http)\//.test(text)) offenders.push(path.relative(SRC, file));
      }
    }
    expect(offenders).toEqual([]);
  });

  it('reads process.env only in the config module', async () => {
    const readers: string[] = [];
    for (const file of await sourceFiles(SRC)) {
      if (path.relative(SRC, file) === 'config.ts') continue;
      if ((await readFile(file, 'utf8')).includes('process.env')) readers.push(path.relative(SRC, file));
    }
    expect(readers).toEqual([]);
  });
});
