import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { round } from './stats.js';

/** One normalised SQL statement as bench/support/probe.ts counted it in a segment. */
export interface ProbeSql {
  sql: string;
  calls: number;
  totalMs: number;
  meanMs: number;
  rows: number;
}

/** What the probe measured over one or more segments. */
export interface ProbeReading {
  /** Most time first. */
  statements: ProbeSql[];
  calls: number;
  transactions: number;
  totalMs: number;
  meanRoundTripMs: number;
  eventLoopUtilization: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
}

interface LoopFile {
  utilization: number;
  activeMs: number;
  delayMs: { p50: number; p99: number; max: number };
}

/**
 * The aisre child instrumented by bench/support/probe.ts, writing into `dir` (emptied first): the
 * node arguments and environment that preload the probe, and `mark`, which closes the current
 * segment and opens the next (see probe.ts). Without `enabled` all of it does nothing.
 */
export function probeLaunch(options: { enabled: boolean; dir: string; cpuProfile: boolean }) {
  const { enabled, dir, cpuProfile } = options;
  if (enabled) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  }
  let segment = 'startup';
  return {
    nodeArgs: enabled ? ['--import', pathToFileURL(path.join(import.meta.dirname, 'probe.ts')).href] : [],
    env: enabled
      ? { AISRE_BENCH_PROBE_DIR: dir, AISRE_BENCH_PROBE_CPU: cpuProfile ? '1' : '0' }
      : ({} as Record<string, string>),
    /** Closes the segment under way in the aisre process `pid` and opens `name`. */
    async mark(pid: number, name: string): Promise<void> {
      if (!enabled) return;
      writeFileSync(path.join(dir, 'segment'), name);
      const closing = path.join(dir, `${segment}.${cpuProfile ? 'cpuprofile' : 'loop.json'}`);
      segment = name;
      process.kill(pid, 'SIGUSR2');
      const deadline = performance.now() + 15_000;
      while (!existsSync(closing) && performance.now() < deadline) await delay(20);
      await delay(50);
    },
  };
}

/** Reads segments the probe wrote into `dir` and adds them up; undefined when none was written. */
export function readProbe(dir: string, segments: readonly string[]): ProbeReading | undefined {
  const found = segments.filter(
    (name) =>
      existsSync(path.join(dir, `${name}.sql.json`)) && existsSync(path.join(dir, `${name}.loop.json`)),
  );
  if (found.length === 0) return undefined;
  const merged = new Map<string, ProbeSql>();
  const loops: LoopFile[] = [];
  for (const name of found) {
    for (const row of JSON.parse(readFileSync(path.join(dir, `${name}.sql.json`), 'utf8')) as ProbeSql[]) {
      const entry = merged.get(row.sql) ?? { sql: row.sql, calls: 0, totalMs: 0, meanMs: 0, rows: 0 };
      entry.calls += row.calls;
      entry.totalMs += row.totalMs;
      entry.rows += row.rows;
      entry.meanMs = round(entry.totalMs / entry.calls, 3);
      merged.set(row.sql, entry);
    }
    loops.push(JSON.parse(readFileSync(path.join(dir, `${name}.loop.json`), 'utf8')) as LoopFile);
  }
  const statements = [...merged.values()].sort((a, b) => b.totalMs - a.totalMs);
  const calls = statements.reduce((sum, row) => sum + row.calls, 0);
  const totalMs = statements.reduce((sum, row) => sum + row.totalMs, 0);
  const activeMs = loops.reduce((sum, loop) => sum + loop.activeMs, 0);
  const elapsedMs = loops.reduce((sum, loop) => sum + loop.activeMs / Math.max(loop.utilization, 1e-6), 0);
  return {
    statements,
    calls,
    // A transaction that takes advisory locks sends them with its BEGIN.
    transactions: statements
      .filter((row) => /^BEGIN\b/.test(row.sql))
      .reduce((sum, row) => sum + row.calls, 0),
    totalMs,
    meanRoundTripMs: round(totalMs / Math.max(1, calls), 3),
    eventLoopUtilization: round(activeMs / Math.max(1, elapsedMs), 3),
    eventLoopDelayMs: {
      p50: Math.max(...loops.map((loop) => loop.delayMs.p50)),
      p99: Math.max(...loops.map((loop) => loop.delayMs.p99)),
      max: Math.max(...loops.map((loop) => loop.delayMs.max)),
    },
  };
}
