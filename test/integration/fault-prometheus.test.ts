import { describe, it } from 'vitest';
import { diagnosisRecords, RUNBOOKS_DIR, statuses } from '../support/diagnosis-support.js';
import { type PrometheusStandIn, startPrometheusStandIn } from '../support/prometheus-stand-in.js';
import { blocksOf, findCard, incidentDetail, openIncident, startSlackFlow } from '../support/slack-flow.js';
import { TEST_DB_KIND } from '../support/test-database.js';

/** The one triage check that does not read Prometheus: the change log is in aisre's own database. */
const CHANGE_LOG_CHECK = 'recent_changes';

const FAULTS: Array<{
  name: string;
  /** Breaks the stand-in; returns the URL aisre is to use. */
  inject: (prom: PrometheusStandIn) => Promise<string>;
  summary: RegExp;
}> = [
  {
    name: 'down (connection refused)',
    inject: async (prom) => {
      await prom.close();
      return prom.url;
    },
    summary: /ECONNREFUSED|fetch failed|unreachable|refused/i,
  },
  {
    name: 'behind a proxy answering 503 with an HTML page',
    inject: async (prom) => {
      prom.respond(() => true, { raw: '<html><body>503 Service Unavailable</body></html>', status: 503 });
      return prom.url;
    },
    summary: /503/,
  },
  {
    // 20 s, past every Prometheus check's own timeout (10 s, 15 s for comparisons).
    name: 'slower than the checks wait',
    inject: async (prom) => {
      prom.respond(() => true, { delayMs: 20_000, answer: [{ labels: {}, value: 1 }] });
      return prom.url;
    },
    summary: /timed out/,
  },
];

describe.concurrent(`Prometheus down or slow during a diagnosis (${TEST_DB_KIND})`, {
  timeout: 90_000,
}, () => {
  for (const fault of FAULTS) {
    it(`${fault.name}: its checks report an error, never a pass, and the tree asks a person`, async ({
      expect,
    }) => {
      const prom = await startPrometheusStandIn();
      const url = await fault.inject(prom);
      const flow = await startSlackFlow({ env: { PROMETHEUS_URL: url, AISRE_RUNBOOKS_DIR: RUNBOOKS_DIR } });
      try {
        const { emulator, service } = flow;
        const { id, channelId, card } = await openIncident(flow);
        const started = await service.aisre.diagnosis.start(id, { kind: 'slack', userId: 'U0ALICE' });
        const session = await service.aisre.diagnosis.settled(started.session!.id, 60_000);

        // The tree stopped at triage to ask, rather than deciding from checks that could not run.
        expect(session).toMatchObject({ status: 'waiting', currentNode: 'triage' });
        const [record] = await diagnosisRecords(service.aisre.db.knex, id);
        const step = record!.steps[0]!;
        expect(step.status).toBe('asking');
        const { [CHANGE_LOG_CHECK]: changeLog, ...prometheusChecks } = statuses(step);
        expect(changeLog).toBe('pass');
        expect(Object.keys(prometheusChecks).length).toBeGreaterThanOrEqual(8);
        for (const [check, status] of Object.entries(prometheusChecks)) {
          expect(status, check).toBe('error');
          expect(step.results[check]!.summary, check).toMatch(fault.summary);
        }

        // The question is posted in the card's thread, with its answers as buttons.
        await service.aisre.outbox.drain(20_000);
        const question = emulator
          .messages(channelId)
          .find(
            (message) =>
              message.thread_ts === card.ts &&
              blocksOf(message.blocks).some((block) => block.block_id?.startsWith('diagnosis_question:')),
          );
        expect(question).toBeDefined();
        const shown = JSON.stringify(question!.blocks);
        expect(shown).toContain('The checks could not tell which layer failed.');
        // Each Prometheus check shows as an error; the change log is the one pass.
        expect(shown.match(/⚠️ \*[^*]+\* · error/g)).toHaveLength(Object.keys(prometheusChecks).length);
        expect(shown.match(/· pass/g)).toEqual(['· pass']);
        const { incident } = (await incidentDetail(service, id)) as unknown as {
          incident: { diagnosis: { status: string; node: string } };
        };
        expect(incident.diagnosis).toMatchObject({ status: 'waiting', node: 'triage' });
        expect(findCard(emulator, channelId, id)).toBeDefined();
      } finally {
        await flow.dispose();
        await prom.close().catch(() => undefined);
      }
    });
  }
});
