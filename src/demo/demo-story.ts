import type { ActionRun } from '../actions/action-run.js';
import { type Actor, OPEN_STATUSES } from '../incidents/incident.js';
import type { FaultName } from '../reference-app/catalog.js';
import { missingPrometheusBinaries } from '../reference-app/prometheus-stack.js';
import { startBuiltInWorld } from './built-in-world.js';
import type { DemoWorld } from './demo-world.js';
import { startPrometheusWorld } from './prometheus-world.js';

/**
 * The faults the demo walks through, one per layer (generation, retrieval, routing), in an order
 * where no earlier change event misleads a later diagnosis. `--faults=` picks others.
 */
export const DEMO_FAULTS: readonly FaultName[] = ['prompt_regression', 'stale_index', 'misrouting'];

export interface DemoStoryOptions {
  /** PGlite's directory; the demo works in a fresh `demo` folder inside it. */
  dataDir: string;
  /** The runbooks aisre loads (the real-Prometheus world shortens their rate window). */
  runbooksDir: string;
  /** Leave everything running after the story (Ctrl-C stops it). */
  keep: boolean;
  /** Use the built-in PromQL subset even when Prometheus and Alertmanager are installed. */
  builtIn: boolean;
  print: (line: string) => void;
  faults?: readonly FaultName[];
}

/** One fault's story as it happened, in the world's time. */
export interface FaultOutcome {
  fault: FaultName;
  incidentId: number;
  alerts: string[];
  layer: string;
  conclusion: string;
  action: string;
  approvedBy: string | null;
  verification: string;
  diagnosedAfterMs: number;
  recoveredAfterMs: number;
}

const RESPONDER: Actor = { kind: 'slack', userId: 'U0ALICE' };
const APPROVER: Actor = { kind: 'slack', userId: 'U0BOB' };
/** A little over aisre's action poll (every second), so each verification instant is looked at. */
const VERIFY_POLL_MS = 1_100;

const minutes = (ms: number) =>
  ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 60_000).toFixed(1)} min`;

/** Polls `read` every 100 ms of wall time until it returns something. */
async function waitFor<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`the demo waited ${timeoutMs / 1000} s for ${what} in vain`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * `npm run demo`: the whole story on embedded defaults. The reference AI app runs in-process;
 * Debian's Prometheus and Alertmanager watch it when installed, and otherwise a built-in
 * stand-in that says so; aisre runs on PGlite with Slack printed to the terminal. For each
 * fault: inject it, let the real alert condition fire, let aisre diagnose it, execute the
 * recommended action (approved by a second person when high risk), verify recovery on the app's
 * metrics, see the alerts resolve, resolve the incident and print its postmortem.
 */
export async function runDemoStory(options: DemoStoryOptions): Promise<FaultOutcome[]> {
  const say = options.print;
  say('aisre demo: the reference AI app, aisre on embedded PGlite, and Slack printed in this terminal.');
  const missing = await missingPrometheusBinaries();
  const useBinaries = missing.length === 0 && !options.builtIn;
  if (useBinaries) {
    say('Prometheus and Alertmanager are installed: the demo runs them, as the end-to-end suite does.');
  } else {
    const why = missing.length > 0 ? `No Prometheus binary found (${missing.join(', ')})` : '--built-in';
    say(
      `${why}: answering the runbook's PromQL from the reference app's own metrics with aisre's built-in ` +
        'evaluator (a subset of PromQL), which also evaluates the shipped alert rules and stands in for Alertmanager.',
    );
  }
  const world = useBinaries ? await startPrometheusWorld(options) : await startBuiltInWorld(options);
  try {
    const outcomes: FaultOutcome[] = [];
    const faults = options.faults ?? DEMO_FAULTS;
    for (const [index, fault] of faults.entries()) {
      outcomes.push(await faultStory(world, fault, `${index + 1}/${faults.length}`, say));
    }
    printScoreboard(world, outcomes, say);
    if (options.keep) {
      say(`\n--keep: aisre keeps running at ${world.aisre.url}, the reference app at ${world.app.url}`);
      say(`   curl -H 'Authorization: Bearer ${world.apiToken}' ${world.aisre.url}/api/incidents`);
      for (const hint of world.keepHints()) say(hint);
      say(`   curl -X POST -d '{"fault":"misrouting"}' ${world.app.url}/faults`);
      say('Press Ctrl-C to stop.');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
    }
    return outcomes;
  } finally {
    await world.stop();
  }
}

async function faultStory(
  world: DemoWorld,
  fault: FaultName,
  counter: string,
  say: (line: string) => void,
): Promise<FaultOutcome> {
  const { aisre, app } = world;
  const { incidents, actions, outbox } = aisre;
  say(`\n${'═'.repeat(100)}\nFault ${counter}: ${fault}\n${'═'.repeat(100)}`);
  await world.pass(0);
  const known = new Set((await incidents.list({ limit: 20 })).map((i) => i.id));
  const injectedAt = world.now();
  const report = await app.injectFault(fault);
  say(
    report.change
      ? `The ${report.change.author} pipeline changed ${report.change.kind}: ${report.change.summary} (POST /changes → ${report.posted.status})`
      : 'The change is silent: no pipeline posts a change event.',
  );

  const opened = await world.until('incident', async () =>
    (await incidents.list({ statuses: OPEN_STATUSES, limit: 20 })).find((i) => !known.has(i.id)),
  );
  const incidentId = opened.id;
  say(
    `\nINC-${incidentId} opened ${minutes(world.now() - injectedAt)} after the fault; the diagnosis starts by itself.`,
  );

  const diagnosis = await waitFor('the diagnosis to conclude', async () => {
    const current = (await incidents.get(incidentId)).diagnosis;
    if (current && current.status !== 'running' && !current.conclusion) {
      throw new Error(
        `the diagnosis stopped at "${current.nodeTitle}" (${current.status}) without a conclusion`,
      );
    }
    return current?.conclusion ? current : undefined;
  });
  const diagnosedAt = world.now();
  await outbox.drain(20_000);
  const conclusion = diagnosis.conclusion!;
  say(`\n» Diagnosis: ${conclusion.layer} layer, ${diagnosis.nodeTitle}. ${conclusion.hypothesis}`);

  const recommendations = await actions.recommendations(incidentId);
  const recommended = recommendations?.items[0];
  if (!recommendations || !recommended || recommended.error) {
    throw new Error(`no usable recommendation: ${recommended?.error ?? 'none'}`);
  }
  const { run: executedRun, approvedBy } = await executeRecommendation(
    world,
    incidentId,
    recommendations.sessionId,
    recommended,
    say,
  );
  await outbox.drain(20_000);
  const verifyAt = executedRun.verifyAt?.getTime() ?? world.now();
  const settle = verifyAt - (executedRun.executedAt?.getTime() ?? verifyAt);
  say(
    `\n» The action is done; its recovery checks run once it has settled (${minutes(settle)} after it ran).`,
  );
  await world.pass(Math.max(0, verifyAt - world.now()));
  const verified = await world.until(
    'verification',
    async () => {
      const run = await actions.get(executedRun.id);
      if (run.status !== 'verifying') return run;
      // Not recovered yet: aisre checks again later (until its verify window ends); go there.
      await world.pass(Math.max(0, (run.verifyAt?.getTime() ?? 0) - world.now()));
      return undefined;
    },
    VERIFY_POLL_MS,
  );
  const recoveredAt = world.now();
  await outbox.drain(20_000);
  if (verified.status !== 'recovered') {
    throw new Error(
      `the action was not verified as recovered: ${verified.status} ${verified.verification?.summary ?? ''}`,
    );
  }
  say(
    `\n» Verified on the app's metrics: ${verified.verification?.summary}. INC-${incidentId} is ${(await incidents.get(incidentId)).status}.`,
  );

  await world.until(
    'resolved alerts',
    async () => (await incidents.get(incidentId)).allAlertsResolvedAt ?? undefined,
  );
  await outbox.drain(20_000);
  say('\n» Every alert resolved. alice resolves the incident; aisre drafts the postmortem.');
  const resolved = await incidents.resolve(incidentId, RESPONDER);
  say(`   ${resolved.message}`);
  await aisre.postmortems.draftDue();
  await outbox.drain(20_000);
  const markdown = await waitFor('the postmortem', async () => {
    const response = await fetch(`${aisre.url}/api/incidents/${incidentId}/postmortem.md`, {
      headers: { authorization: `Bearer ${world.apiToken}` },
    });
    return response.status === 200 ? response.text() : undefined;
  });
  if (!markdown.includes(`**Layer:** ${conclusion.layer}`)) {
    throw new Error(`the postmortem of INC-${incidentId} does not name the ${conclusion.layer} layer`);
  }
  say(`\n» The postmortem, as GET /api/incidents/${incidentId}/postmortem.md serves it:\n`);
  say(markdown);

  const alerts = [...new Set((await incidents.alerts(incidentId)).map((a) => a.alertname))];
  return {
    fault,
    incidentId,
    alerts,
    layer: conclusion.layer,
    conclusion: conclusion.node,
    action: recommended.actionId,
    approvedBy,
    verification: verified.verification?.summary ?? verified.status,
    diagnosedAfterMs: diagnosedAt - injectedAt,
    recoveredAfterMs: recoveredAt - injectedAt,
  };
}

/**
 * alice previews and executes the recommendation; bob approves it when it is high risk. A
 * preview or run that fails (the app unreachable for a moment: a kept-alive connection the app
 * had just closed shows as ECONNRESET) is tried once more, as a responder would.
 */
async function executeRecommendation(
  world: DemoWorld,
  incidentId: number,
  sessionId: number,
  recommended: { actionId: string; params: Record<string, unknown> | null },
  say: (line: string) => void,
  attempt = 1,
): Promise<{ run: ActionRun; approvedBy: string | null }> {
  const { actions } = world.aisre;
  say(`» alice previews ${recommended.actionId} ${JSON.stringify(recommended.params)} and executes it`);
  const preview = await actions.preview({ incidentId, recommendation: { sessionId, index: 0 } }, RESPONDER);
  if (preview.status === 'failed' && attempt === 1) {
    say(`» The preview failed (${preview.error}); alice tries again.`);
    return executeRecommendation(world, incidentId, sessionId, recommended, say, attempt + 1);
  }
  if (preview.status !== 'previewed')
    throw new Error(`the preview failed: ${preview.error ?? preview.status}`);
  const executed = await actions.execute(preview.id, RESPONDER);
  if (!executed.accepted) throw new Error(`execution was refused: ${executed.message}`);
  let approvedBy: string | null = null;
  if (executed.run.status === 'awaiting_approval') {
    say(`» ${recommended.actionId} is high risk: it waits for a second person. bob approves it.`);
    const approved = await actions.approve(preview.id, APPROVER);
    if (!approved.accepted) throw new Error(`the approval was refused: ${approved.message}`);
    approvedBy = 'bob';
  }
  const run = await waitFor('the action to execute', async () => {
    const current = await actions.get(preview.id);
    return current.status === 'executing' ? undefined : current;
  });
  if (run.status === 'verifying') return { run, approvedBy };
  if (run.status === 'failed' && attempt === 1) {
    say(`» ${recommended.actionId} failed (${run.error}); alice tries again.`);
    return executeRecommendation(world, incidentId, sessionId, recommended, say, attempt + 1);
  }
  throw new Error(`the action ended ${run.status}: ${run.error}`);
}

function printScoreboard(
  world: DemoWorld,
  outcomes: readonly FaultOutcome[],
  say: (line: string) => void,
): void {
  say(
    `\n${'═'.repeat(100)}\nScoreboard (${world.timeKind} time since each fault was injected)\n${'═'.repeat(100)}`,
  );
  say('| fault | alerts | layer found | conclusion | action | diagnosed | recovered | verification |');
  say('|---|---|---|---|---|---|---|---|');
  for (const o of outcomes) {
    const action = `${o.action}${o.approvedBy ? ` (approved by ${o.approvedBy})` : ''}`;
    say(
      `| ${o.fault} | ${o.alerts.join(', ')} | ${o.layer} | ${o.conclusion} | ${action} | ${minutes(o.diagnosedAfterMs)} | ${minutes(o.recoveredAfterMs)} | ${o.verification} |`,
    );
  }
  say('');
  for (const line of world.summary()) say(line);
}
