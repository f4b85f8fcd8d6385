import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAlertingRules, RuleEvaluator, renderAnnotation } from '../../../src/demo/rule-evaluator.js';
import { ScrapeStore } from '../../../src/demo/scrape-store.js';
import { REFERENCE_APP_RULES } from '../../../src/reference-app/prometheus-stack.js';

const T0 = Date.parse('2026-11-22T10:00:00Z');
const TARGET = { job: 'test', instance: 'app:1' };

async function rulesFile(text: string): Promise<string> {
  const file = path.join(await mkdtemp(path.join(tmpdir(), 'aisre-rules-')), 'rules.yml');
  await writeFile(file, text);
  return file;
}

describe('the demo rule evaluator', () => {
  it('loads the shipped rules, merge keys and all', async () => {
    const rules = await loadAlertingRules(REFERENCE_APP_RULES);
    expect(rules.map((r) => r.name)).toContain('EvalPassRateLow');
    for (const rule of rules) {
      expect(Object.keys(rule.labels), rule.name).toEqual(
        expect.arrayContaining([
          'severity',
          'layer',
          'prompt',
          'litellm_key',
          'model_id',
          'gen_ai_request_model',
        ]),
      );
    }
  });

  it('keeps an alert pending for its `for:`, fires it, then resolves it', async () => {
    const file = await rulesFile(`groups:
  - name: g
    rules:
      - alert: Low
        expr: avg by (service) (quality) < 0.9
        for: 30s
        labels: { severity: critical }
        annotations:
          summary: 'Quality of {{ $labels.service }} is {{ $value | humanizePercentage }}'
`);
    const store = new ScrapeStore();
    const rules = new RuleEvaluator(await loadAlertingRules(file), store, 'http://prom');
    const scrape = (i: number, value: number) => {
      store.ingest(`quality{service="svc"} ${value}\n`, T0 + i * 15_000, TARGET);
      return rules.evaluate(T0 + i * 15_000);
    };
    expect(scrape(0, 0.95)).toEqual([]);
    expect(scrape(1, 0.5)).toEqual([]);
    expect(scrape(2, 0.5)).toEqual([]);
    const [fired] = scrape(3, 0.5);
    expect(fired).toMatchObject({
      labels: { alertname: 'Low', service: 'svc', severity: 'critical' },
      annotations: { summary: 'Quality of svc is 50%' },
      startsAt: T0 + 15_000,
      endsAt: null,
    });
    expect(fired?.generatorURL).toMatch(/^http:\/\/prom\/graph\?g0\.expr=avg/);
    expect(rules.firing()).toEqual(['Low']);
    expect(scrape(4, 0.95)).toMatchObject([{ labels: { alertname: 'Low' }, endsAt: T0 + 60_000 }]);
    expect(scrape(5, 0.95)).toEqual([]);
  });

  it('refuses rules and templates it cannot evaluate when loading, naming the rule', async () => {
    const unsupported = await rulesFile(`groups:
  - name: g
    rules:
      - alert: Top
        expr: topk(1, x) > 0
`);
    await expect(loadAlertingRules(unsupported)).rejects.toThrow(/rule Top: .*not supported/);
    const template = await rulesFile(`groups:
  - name: g
    rules:
      - alert: T
        expr: x > 0
        annotations: { summary: '{{ printf "%.2f" $value }}' }
`);
    await expect(loadAlertingRules(template)).rejects.toThrow(/rule T: the template/);
    const recording = await rulesFile(`groups:
  - name: g
    rules:
      - record: job:x:sum
        expr: sum(x)
`);
    await expect(loadAlertingRules(recording)).rejects.toThrow(/alerting rules only/);
  });

  it("renders annotations with Prometheus's humanize functions", () => {
    expect(renderAnnotation('{{ $value | humanizeDuration }}', {}, 93_784)).toBe('1d 2h 3m 4s');
    expect(renderAnnotation('{{ $value | humanizePercentage }}', {}, 0.0123456)).toBe('1.235%');
    expect(renderAnnotation('{{$value}} on {{ $labels.x }}', { x: 'y' }, 21.5)).toBe('21.5 on y');
  });
});
