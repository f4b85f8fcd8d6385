import { describe, expect, it } from 'vitest';
import { healthyHistory, openMetricsHistory } from '../../../src/reference-app/history.js';

const START = Date.parse('2026-11-22T10:00:00Z');

/** The value of one series in an exposition, e.g. `llm_eval_pass_ratio{service="x"}`. */
function seriesValue(exposition: string, series: string): number | undefined {
  const line = exposition.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('healthyHistory', () => {
  it('scrapes a healthy app on its own clock, one exposition per step', async () => {
    const scrapes = await healthyHistory({ fromMs: START, toMs: START + 5 * 60_000, service: 'svc' });
    expect(scrapes.map((s) => s.atMs)).toEqual(Array.from({ length: 21 }, (_, n) => START + n * 15_000));
    const last = scrapes.at(-1)!.exposition;
    expect(seriesValue(last, 'llm_eval_pass_ratio{service="svc"}')).toBeGreaterThanOrEqual(0.9);
    expect(seriesValue(last, 'rag_retrieval_hit_ratio{service="svc"}')).toBeGreaterThanOrEqual(0.8);
    // Counters grow with the simulated traffic: a five-minute rate is there to compare with.
    const requests = (exposition: string) =>
      exposition
        .split('\n')
        .filter((l) => l.startsWith('gen_ai_client_operation_duration_seconds_count{'))
        .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    expect(requests(scrapes[0]!.exposition)).toBe(0);
    expect(requests(last)).toBeGreaterThan(1000);
    // The index job keeps succeeding: the gauge follows the simulated clock.
    expect(seriesValue(last, 'rag_index_last_success_timestamp_seconds{service="svc"}')).toBeGreaterThan(
      START / 1000,
    );
  });

  it('refuses a step the simulation cannot take', async () => {
    await expect(healthyHistory({ fromMs: START, toMs: START + 60_000, stepMs: 100 })).rejects.toThrow(
      /multiple of 250 ms/,
    );
    await expect(healthyHistory({ fromMs: START, toMs: START - 1 })).rejects.toThrow(/end after it starts/);
  });
});

describe('openMetricsHistory', () => {
  it('keeps each family in one piece, each series in time order, with timestamps in seconds', () => {
    const text = openMetricsHistory([
      {
        atMs: 1_000,
        exposition: '# HELP a_total A\n# TYPE a_total counter\na_total{x="1"} 1\n# TYPE b gauge\nb 5\n',
      },
      {
        atMs: 16_000,
        exposition: '# TYPE a_total counter\na_total{x="1"} 2\na_total{x="2"} 7\n# TYPE b gauge\nb 6\n',
      },
    ]);
    expect(text).toBe(
      [
        'a_total{x="1"} 1 1.000',
        'a_total{x="1"} 2 16.000',
        'a_total{x="2"} 7 16.000',
        'b 5 1.000',
        'b 6 16.000',
        '# EOF',
        '',
      ].join('\n'),
    );
  });
});
