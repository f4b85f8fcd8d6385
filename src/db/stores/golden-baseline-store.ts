import type { Knex } from 'knex';
import type { GoldenBaseline, GoldenBaselineStore } from '../../checks/check-type.js';

interface GoldenBaselineRow {
  key: string;
  pass_rate: number;
  models: string[];
  fingerprints: string[];
  recorded_at: Date;
}

/**
 * Golden-set baselines in Postgres. `save` records a set's first baseline and keeps it: when two
 * runs race (or a resumed diagnosis repeats one), the first writer wins and the others are no-ops.
 */
export class KnexGoldenBaselineStore implements GoldenBaselineStore {
  constructor(private readonly db: Knex | Knex.Transaction) {}

  async get(key: string): Promise<GoldenBaseline | undefined> {
    const row = (await this.db<GoldenBaselineRow>('golden_baselines').where({ key }).first()) as
      | GoldenBaselineRow
      | undefined;
    if (!row) return undefined;
    return {
      passRate: row.pass_rate,
      models: row.models,
      fingerprints: row.fingerprints,
      recordedAt: row.recorded_at,
    };
  }

  async save(key: string, baseline: GoldenBaseline): Promise<void> {
    await this.db('golden_baselines')
      .insert({
        key,
        pass_rate: baseline.passRate,
        models: JSON.stringify(baseline.models),
        fingerprints: JSON.stringify(baseline.fingerprints),
        recorded_at: baseline.recordedAt,
      })
      .onConflict('key')
      .ignore();
  }
}
