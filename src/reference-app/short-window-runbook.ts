import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';

/**
 * Writes the default runbook (`ai-incident.yaml` from `runbooksDir`) into `dir/runbooks` with one
 * change, rates over 1 minute instead of 15, and returns that directory. The reference app changes
 * state in seconds: a 15-minute rate would still hold a fault long after its fix, so a game day on
 * the wall clock (the demo on real Prometheus, the end-to-end suite) could not see recovery.
 * Queries, thresholds and the tree stay the shipped ones; the 1-minute window is the shipped
 * rules' own.
 */
export async function writeShortWindowRunbook(runbooksDir: string, dir: string): Promise<string> {
  const doc = parseDocument(await readFile(path.join(runbooksDir, 'ai-incident.yaml'), 'utf8'));
  doc.setIn(['vars', 'window'], '1m');
  const runbooks = path.join(dir, 'runbooks');
  await mkdir(runbooks, { recursive: true });
  await writeFile(path.join(runbooks, 'ai-incident.yaml'), doc.toString());
  return runbooks;
}
