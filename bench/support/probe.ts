/**
 * Preloaded into the aisre child (`node --import tsx --import ./bench/support/probe.ts …`) by
 * `--probe`; nothing in src/ knows about it. The bench splits the run into segments (warm-up,
 * phase 1, phase 2…): it writes the next segment's name to `$AISRE_BENCH_PROBE_DIR/segment` and
 * sends SIGUSR2, and the probe closes the current segment by writing, into that directory:
 *
 *   <segment>.sql.json      every SQL statement sent through node-postgres, normalised, with calls
 *                           and time from send to result (one round trip, queueing included);
 *   <segment>.loop.json     event-loop utilisation and delay of aisre's main thread;
 *   <segment>.cpuprofile    a V8 CPU profile (open in Chrome DevTools or speedscope) with --cpu-prof.
 *
 * The segment still open at exit is written as well.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { createRequire } from 'node:module';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

interface Totals {
  calls: number;
  totalMs: number;
  maxMs: number;
  rows: number;
}

const dir = process.env.AISRE_BENCH_PROBE_DIR;
if (dir) {
  const profileCpu = process.env.AISRE_BENCH_PROBE_CPU === '1';
  let totals = new Map<string, Totals>();
  let segment = 'startup';
  let loopStart = performance.eventLoopUtilization();
  const delayHistogram = monitorEventLoopDelay({ resolution: 5 });
  delayHistogram.enable();

  const session = new Session();
  session.connect();
  const post = <T>(method: string, params?: object) =>
    new Promise<T>((resolve, reject) =>
      session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result as T))),
    );
  let profiling: Promise<unknown> = Promise.resolve();
  if (profileCpu) {
    profiling = post('Profiler.enable')
      .then(() => post('Profiler.setSamplingInterval', { interval: 500 }))
      .then(() => post('Profiler.start'));
  }

  const normalize = (text: string) =>
    text
      .replace(/\s+/g, ' ')
      .replace(/\(\$\d+(, ?\$\d+)*\)(, \(\$\d+(, ?\$\d+)*\))+/g, '($…), …')
      .replace(/\$\d+(, ?\$\d+)+/g, '$…')
      .trim()
      .slice(0, 300);

  const require = createRequire(path.join(process.cwd(), 'package.json'));
  const pg = require('pg') as { Client: { prototype: { query: (...args: unknown[]) => unknown } } };
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function probed(this: unknown, ...args: unknown[]) {
    const config = args[0] as string | { text?: string } | undefined;
    const text = typeof config === 'string' ? config : config?.text;
    const callback = args.at(-1);
    // knex calls query(config, callback); anything else (streams, promises) is passed through.
    if (!text || typeof callback !== 'function') return original.apply(this, args);
    const started = performance.now();
    args[args.length - 1] = (err: unknown, response: { rowCount?: number | null } | undefined) => {
      const ms = performance.now() - started;
      const key = normalize(text);
      const entry = totals.get(key) ?? { calls: 0, totalMs: 0, maxMs: 0, rows: 0 };
      entry.calls += 1;
      entry.totalMs += ms;
      entry.maxMs = Math.max(entry.maxMs, ms);
      entry.rows += response?.rowCount ?? 0;
      totals.set(key, entry);
      return (callback as (err: unknown, response: unknown) => unknown)(err, response);
    };
    return original.apply(this, args);
  };

  const writeSegment = (name: string) => {
    const rows = [...totals.entries()]
      .map(([sql, t]) => ({
        sql,
        calls: t.calls,
        totalMs: Math.round(t.totalMs),
        meanMs: Math.round((t.totalMs / t.calls) * 1000) / 1000,
        maxMs: Math.round(t.maxMs * 10) / 10,
        rows: t.rows,
      }))
      .sort((a, b) => b.totalMs - a.totalMs);
    writeFileSync(path.join(dir, `${name}.sql.json`), `${JSON.stringify(rows, null, 2)}\n`);
    const loop = performance.eventLoopUtilization(loopStart);
    const ms = (ns: number) => Math.round(ns / 1e4) / 100;
    writeFileSync(
      path.join(dir, `${name}.loop.json`),
      `${JSON.stringify(
        {
          utilization: Math.round(loop.utilization * 1000) / 1000,
          activeMs: Math.round(loop.active),
          delayMs: {
            p50: ms(delayHistogram.percentile(50)),
            p99: ms(delayHistogram.percentile(99)),
            max: ms(delayHistogram.max),
          },
        },
        null,
        2,
      )}\n`,
    );
    totals = new Map();
    loopStart = performance.eventLoopUtilization();
    delayHistogram.reset();
  };

  const nextSegment = async () => {
    let name = 'segment';
    try {
      name = readFileSync(path.join(dir, 'segment'), 'utf8').trim() || name;
    } catch {
      // No name written: keep the generic one.
    }
    const closing = segment;
    segment = name;
    writeSegment(closing);
    if (profileCpu) {
      await profiling;
      const { profile } = await post<{ profile: unknown }>('Profiler.stop');
      writeFileSync(path.join(dir, `${closing}.cpuprofile`), JSON.stringify(profile));
      profiling = post('Profiler.start');
    }
  };

  let chain = Promise.resolve();
  process.on('SIGUSR2', () => {
    chain = chain.then(nextSegment).catch((err: unknown) => {
      process.stderr.write(`probe: ${String(err)}\n`);
    });
  });
  process.on('exit', () => writeSegment(segment));
}
