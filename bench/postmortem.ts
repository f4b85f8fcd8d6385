/**
 * Postmortem drafting benchmark: `npm run bench:postmortem -- [--events 5000] [--iterations 300]`.
 *
 * Drafts and renders one long incident in this process, no database or network: a 5,000-event
 * timeline (alerts flapping, diagnosis moves, action steps, status and change entries, with Slack
 * mentions and Markdown-hostile text to escape), 60 alerts, a three-node diagnosis with evidence,
 * 12 changes and 8 action runs. Times `draftPostmortem` and `renderPostmortemMarkdown` apart and
 * together over many iterations after a warm-up, prints p50/p95/p99, writes
 * bench/results/postmortem-latest.json, and exits 1 when the p99 of draft + render misses 300 ms.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ActionRun, ActionRunStatus } from '../src/actions/action-run.js';
import type { ChangeEvent } from '../src/changes/change-event.js';
import { CHANGE_KINDS } from '../src/changes/change-event.js';
import type { CheckResult } from '../src/checks/check-type.js';
import type { DiagnosisSession, DiagnosisStep } from '../src/diagnosis/diagnosis.js';
import type { Runbook } from '../src/diagnosis/runbook-schema.js';
import type { AlertOccurrence, Incident, TimelineEntry, TimelineKind } from '../src/incidents/incident.js';
import type { PostmortemRecord } from '../src/postmortems/postmortem.js';
import { draftPostmortem, renderPostmortemMarkdown } from '../src/postmortems/postmortem-draft.js';
import { round, summarize, table } from './support/stats.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = path.join(ROOT, 'bench', 'results', 'postmortem-latest.json');
const TARGET_P99_MS = 300;
const START = Date.parse('2026-11-20T22:47:12Z');

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '5000' },
    iterations: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '30' },
  },
});
const options = {
  events: Number(values.events),
  iterations: Number(values.iterations),
  warmup: Number(values.warmup),
};
for (const [name, value] of Object.entries(options)) {
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number`);
}

const at = (minutes: number) => new Date(START + minutes * 60_000);

const result = (status: CheckResult['status'], summary: string, evidence: number): CheckResult => ({
  status,
  value: null,
  summary,
  evidence: Array.from({ length: evidence }, (_, i) => ({
    label: `series ${i}`,
    value: `${(0.5 + i / 20).toFixed(2)}`,
  })),
  links: [
    { label: 'Prometheus graph', url: 'http://prometheus:9090/graph?g0.expr=avg(llm_eval_pass_ratio)' },
  ],
});

const checkSpecs = (prefix: string, title: string, count: number) =>
  Array.from({ length: count }, (_, i) => ({
    id: `${prefix}${i}`,
    type: 'prometheus',
    title: `${title} ${i}`,
    params: {},
  }));

const runbook: Runbook = {
  id: 'ai_incident',
  title: 'AI incident triage',
  match: {},
  priority: 0,
  vars: {},
  start: 'triage',
  nodes: {
    triage: {
      title: 'Which layer failed?',
      checks: checkSpecs('t', 'Triage check', 9),
      outcomes: [],
    },
    retrieval: {
      title: 'Retrieval - what broke it?',
      checks: checkSpecs('r', 'Retrieval check', 3),
      outcomes: [],
      question: {
        text: 'Was the index rebuilt?',
        answers: [{ label: 'No', next: 'embedding_model_changed' }],
      },
    },
    embedding_model_changed: {
      title: 'Embedding model changed',
      checks: [],
      conclusion: {
        layer: 'retrieval',
        class: 'data',
        hypothesis: 'The embedding model changed but the index still holds vectors from the old model.',
        actions: [],
      },
    },
  },
};

function record(events: number): PostmortemRecord {
  const incident: Incident = {
    id: 4242,
    title: 'Search answers irrelevant after embedding upgrade',
    status: 'resolved',
    severity: 'SEV2',
    source: 'alertmanager',
    service: 'docs-search',
    description: null,
    layerHint: 'retrieval',
    receiver: 'aisre',
    groupKey: '{}:{alertname="RetrievalRelevanceLow"}',
    groupLabels: { alertname: 'RetrievalRelevanceLow' },
    runbookUrl: null,
    generatorUrl: null,
    externalUrl: null,
    commanderId: 'U0JUDY',
    responderIds: ['U0JUDY', 'U0KATE'],
    alertsFiring: 0,
    alertsResolved: 60,
    truncatedAlerts: 0,
    allAlertsResolvedAt: at(1611),
    createdAt: at(3),
    updatedAt: at(1745),
    acknowledgedAt: at(50),
    mitigatedAt: at(1500),
    resolvedAt: at(1745),
    diagnosis: null,
  };
  const alerts: AlertOccurrence[] = Array.from({ length: 60 }, (_, i) => ({
    id: i + 1,
    incidentId: incident.id,
    receiver: 'aisre',
    fingerprint: `fp${i}`,
    startsAt: at(i * 7),
    endsAt: at(1600 + i),
    status: 'resolved',
    alertname: i % 3 === 0 ? 'RetrievalRelevanceLow' : 'RetrievalHitRateLow',
    labels: { service: 'docs-search', layer: 'retrieval', shard: `shard-${i}`, index: 'docs|prod' },
    annotations: { summary: `Relevance on shard-${i} is 0.38 < 0.71 [see](http://x) <b>` },
    generatorUrl: `http://prometheus:9090/graph?g0.expr=rag_relevance{shard="shard-${i}"}`,
    firstSeenAt: at(i * 7 + 1),
    resolvedSeenAt: at(1601 + i),
  }));
  const session: DiagnosisSession = {
    id: 1,
    incidentId: incident.id,
    runbookId: runbook.id,
    runbookVersion: 'v7',
    runbook,
    status: 'concluded',
    currentNode: 'embedding_model_changed',
    snapshot: null,
    conclusion: {
      node: 'embedding_model_changed',
      title: 'Embedding model changed',
      layer: 'retrieval',
      class: 'data',
      hypothesis: 'The embedding model changed but the index still holds vectors from the old model.',
      actions: [],
    },
    startedBy: 'system',
    startedAt: at(3),
    updatedAt: at(9),
    concludedAt: at(9),
    remindAt: null,
  };
  const step = (seq: number, nodeId: string, results: Record<string, CheckResult>): DiagnosisStep => ({
    id: seq,
    sessionId: 1,
    seq,
    nodeId,
    status: seq === 3 ? 'concluded' : 'decided',
    results,
    outcome: seq === 1 ? 'retrieval relevance down' : seq === 2 ? 'answered “No”' : null,
    nextNode: seq === 1 ? 'retrieval' : seq === 2 ? 'embedding_model_changed' : null,
    answeredBy: seq === 2 ? 'U0JUDY' : null,
    answer: seq === 2 ? 'No' : null,
    startedAt: at(2 + seq),
    finishedAt: at(3 + seq),
  });
  const steps = [
    step(
      1,
      'triage',
      Object.fromEntries(
        Array.from({ length: 9 }, (_, i) => [
          `t${i}`,
          result(i === 4 ? 'fail' : 'pass', `triage check ${i}: 0.${i}4 vs 0.70`, 4),
        ]),
      ),
    ),
    step(
      2,
      'retrieval',
      Object.fromEntries(
        Array.from({ length: 3 }, (_, i) => [
          `r${i}`,
          result(i === 0 ? 'fail' : 'error', `retrieval check ${i}: Prometheus answered HTTP 503`, 8),
        ]),
      ),
    ),
    step(3, 'embedding_model_changed', {}),
  ];
  const changes: ChangeEvent[] = Array.from({ length: 12 }, (_, i) => ({
    id: i + 1,
    service: 'docs-search',
    kind: CHANGE_KINDS[i % CHANGE_KINDS.length]!,
    fromVersion: `v${i}`,
    toVersion: `v${i + 1}`,
    author: i % 2 === 0 ? 'ml-platform' : 'deploy-bot',
    at: at(-185 + i * 150),
    summary: `Change ${i}: upgrade | reindex **now** # ${'detail '.repeat(10)}`,
    diff: null,
    link: `https://git.example.internal/docs-search/commit/${i}`,
    externalId: null,
    recordedAt: at(-185 + i * 150),
  }));
  const statuses: ActionRunStatus[] = [
    'recovered',
    'failed',
    'not_recovered',
    'rejected',
    'unverified',
    'recovered',
    'previewed',
    'cancelled',
  ];
  const actions: ActionRun[] = statuses.map((status, i) => ({
    id: 100 + i,
    incidentId: incident.id,
    sessionId: 1,
    nodeId: 'embedding_model_changed',
    actionId: i % 2 === 0 ? 'http.webhook' : 'gateway.fallback',
    kind: i === 5 ? 'undo' : 'run',
    undoOf: i === 5 ? 102 : null,
    params: {
      key: 'sk-live-0000000000001234',
      webhook: 'reindex',
      body: { index: 'docs', shards: [1, 2, 3] },
    },
    risk: i === 3 ? 'high' : 'low',
    status,
    autoKey: null,
    requestedBy: 'slack:U0JUDY',
    requestedAt: at(60 + i * 100),
    approvedBy: i === 4 ? 'slack:U0KATE' : null,
    approvedAt: i === 4 ? at(62 + i * 100) : null,
    executedBy: 'slack:U0JUDY',
    executedAt: at(63 + i * 100),
    preview: {
      summary: 'Would POST the reindex webhook',
      changes: [{ target: 'index docs', from: 'v1', to: 'v2' }],
      previousState: null,
    },
    outcome:
      status === 'failed' || status === 'rejected'
        ? null
        : {
            summary: 'POST reindex webhook: HTTP 202',
            changes: [{ target: 'index docs', from: 'v1', to: 'v2' }],
            previousState: null,
          },
    previousState: null,
    error: status === 'failed' ? 'webhook answered HTTP 500: <html># oops | [x](y)</html>' : null,
    leaseUntil: null,
    verifyAt: null,
    verification: {
      status: 'not_recovered',
      summary: '1 of 3 checks pass',
      results: {},
      at: at(70 + i * 100).toISOString(),
    },
    finishedAt: at(70 + i * 100),
    updatedAt: at(70 + i * 100),
  }));
  const kinds: Array<[TimelineKind, string, (i: number) => string]> = [
    [
      'alert.firing',
      'alertmanager:aisre',
      (i) => `Alert firing: RetrievalHitRateLow: Relevance on shard-${i % 60} is 0.38 < 0.71 [see](http://x)`,
    ],
    [
      'alert.resolved',
      'alertmanager:aisre',
      (i) => `Alert resolved: RetrievalHitRateLow: Relevance on shard-${i % 60} recovered`,
    ],
    [
      'diagnosis.step',
      'slack:U0JUDY',
      () => 'Diagnosis: Which layer failed? → Retrieval - what broke it? (<@U0JUDY> answered “No”)',
    ],
    [
      'action.executed',
      'slack:U0KATE',
      (i) =>
        `<@U0KATE> executed http.webhook (A-${100 + (i % 8)}): POST reindex webhook: HTTP 202. Recovery is checked in 120 s.`,
    ],
    [
      'change.recorded',
      'api',
      (i) => `Index change on docs-search: v${i} → v${i + 1} by ml-platform — Reindex | shard **${i}**`,
    ],
    ['status.changed', 'slack:U0JUDY', () => '<@U0JUDY> moved to investigating the incident'],
  ];
  const timeline: TimelineEntry[] = Array.from({ length: events }, (_, i) => {
    const [kind, actor, summary] = kinds[i % kinds.length]!;
    return {
      id: i + 1,
      incidentId: incident.id,
      at: at((i * 1745) / events),
      actor,
      kind,
      summary: summary(i),
      data: { runId: 100 + (i % 8) },
    };
  });
  return { incident, alerts, timeline, diagnosis: { session, steps }, changes, actions, impact: null };
}

function measure(input: PostmortemRecord) {
  const t0 = performance.now();
  const draft = draftPostmortem(input);
  const t1 = performance.now();
  const markdown = renderPostmortemMarkdown(draft);
  const t2 = performance.now();
  return { draftMs: t1 - t0, renderMs: t2 - t1, totalMs: t2 - t0, bytes: Buffer.byteLength(markdown) };
}

function sourceCommit(): { commit: string | null; changedFiles: number | null } {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' });
    return {
      commit: git('rev-parse', '--short', 'HEAD').trim(),
      changedFiles: git('status', '--porcelain').split('\n').filter(Boolean).length,
    };
  } catch {
    return { commit: null, changedFiles: null };
  }
}

const input = record(options.events);
for (let i = 0; i < options.warmup; i++) measure(input);
const samples = Array.from({ length: options.iterations }, () => measure(input));
const draft = summarize(samples.map((s) => s.draftMs));
const render = summarize(samples.map((s) => s.renderMs));
const total = summarize(samples.map((s) => s.totalMs));
const bytes = samples[0]?.bytes ?? 0;
const passed = total.p99 < TARGET_P99_MS;

const results = {
  finishedAt: new Date().toISOString(),
  command: `npm run bench:postmortem -- --events ${options.events} --iterations ${options.iterations} --warmup ${options.warmup}`,
  machine: {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? null,
    node: process.version,
    loadavg: os.loadavg(),
  },
  options,
  source: sourceCommit(),
  workload: {
    timelineEvents: input.timeline.length,
    alerts: input.alerts.length,
    diagnosisSteps: input.diagnosis?.steps.length ?? 0,
    changes: input.changes.length,
    actionRuns: input.actions.length,
    markdownBytes: bytes,
  },
  latencyMs: { draft, render, total },
  targetP99Ms: TARGET_P99_MS,
  passed,
};
mkdirSync(path.dirname(RESULTS), { recursive: true });
writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);

const line = (s: typeof total) => `${s.p50} / ${s.p95} / ${s.p99} / ${s.max}`;
process.stdout.write(
  `${table([
    ['postmortem draft + render', `${options.events} timeline events, ${options.iterations} iterations`],
    ['Markdown', `${round(bytes / 1024, 1)} KiB`],
    ['ms p50 / p95 / p99 / max: draft', line(draft)],
    ['                          render', line(render)],
    ['                          total', line(total)],
    ['target', `p99 < ${TARGET_P99_MS} ms: ${passed ? 'met' : 'MISSED'}`],
  ])}\n\nresults: ${path.relative(ROOT, RESULTS)}\n`,
);
process.exit(passed ? 0 : 1);
