import { readdirSync, readFileSync } from 'node:fs';

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Percentiles by the nearest-rank method, in milliseconds. */
export function summarize(samples: readonly number[]): LatencySummary {
  if (samples.length === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  return {
    count: sorted.length,
    p50: round(at(0.5)),
    p95: round(at(0.95)),
    p99: round(at(0.99)),
    max: round(sorted[sorted.length - 1]!),
    mean: round(mean),
  };
}

export function countBy<T>(items: Iterable<T>, key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) {
    const k = key(item);
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}

/** Renders rows as an aligned two-or-more column table. */
export function table(rows: Array<Array<string | number>>): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, String(cell).length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => String(cell).padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export { round };

/** CPU time (ms) of processes, read from /proc; zero where /proc is unavailable. */
function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

function postgresPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
        } catch {
          return false;
        }
      });
  } catch {
    return [];
  }
}

function machineCpuMs(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const total = values.reduce((sum, value) => sum + value, 0);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    return { busy: ((total - idle) * 1000) / 100, total: (total * 1000) / 100 };
  } catch {
    return { busy: 0, total: 0 };
  }
}

export interface CpuSnapshot {
  at: number;
  bench: number;
  service: number;
  postgres: Map<number, number>;
  machine: { busy: number; total: number };
}

/** Where CPU time went between two snapshots, in cores used on average (2.0 = both cores busy). */
export interface CpuUsage {
  benchCores: number;
  serviceCores: number;
  /** Every postgres process on the machine, other databases' backends included. */
  postgresCores: number;
  machineBusyCores: number;
  /** Busy time not accounted for by the three above: other processes, and the kernel's own work. */
  otherCores: number;
}

export function cpuSnapshot(servicePid: number): CpuSnapshot {
  const usage = process.cpuUsage();
  return {
    at: performance.now(),
    bench: (usage.user + usage.system) / 1000,
    service: procCpuMs(servicePid),
    postgres: new Map(postgresPids().map((pid) => [pid, procCpuMs(pid)])),
    machine: machineCpuMs(),
  };
}

export function cpuBetween(start: CpuSnapshot, end: CpuSnapshot): CpuUsage {
  const wall = end.at - start.at;
  let postgres = 0;
  // Backends that exited in between are missed; aisre's pool keeps its connections, so few do.
  for (const [pid, ms] of end.postgres) postgres += ms - (start.postgres.get(pid) ?? 0);
  const bench = (end.bench - start.bench) / wall;
  const service = (end.service - start.service) / wall;
  const machine = (end.machine.busy - start.machine.busy) / wall;
  return {
    benchCores: round(bench),
    serviceCores: round(service),
    postgresCores: round(postgres / wall),
    machineBusyCores: round(machine),
    otherCores: round(Math.max(0, machine - bench - service - postgres / wall)),
  };
}

/** Cores busy machine-wide over `ms`, before the bench starts anything: others' load skews results. */
export async function machineBusyCores(ms = 1000): Promise<number> {
  const start = machineCpuMs();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const end = machineCpuMs();
  return round((end.busy - start.busy) / ms);
}

/**
 * A process's resident memory from /proc/<pid>/status, in MiB: `rss` now and `hwm`, the most it
 * ever held. Undefined once the process is gone or where /proc is unavailable.
 */
export function processMemory(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    const rss = kb('VmRSS');
    return Number.isFinite(rss)
      ? { rss: round(rss / 1024, 1), hwm: round(kb('VmHWM') / 1024, 1) }
      : undefined;
  } catch {
    return undefined;
  }
}
