import type { LoadedRunbook } from './runbook-loader.js';

/** The labels a runbook is chosen by. */
export interface RunbookSelector {
  alertname?: string | undefined;
  layer?: string | undefined;
  service?: string | undefined;
}

function matches(expected: string | string[] | undefined, actual: string | undefined): boolean | 'any' {
  if (expected === undefined) return 'any';
  if (actual === undefined) return false;
  return (Array.isArray(expected) ? expected : [expected]).includes(actual);
}

/** The loaded runbooks, and how one is chosen for an incident. */
export class RunbookLibrary {
  constructor(private readonly runbooks: readonly LoadedRunbook[]) {}

  list(): readonly LoadedRunbook[] {
    return this.runbooks;
  }

  get(id: string): LoadedRunbook | undefined {
    return this.runbooks.find((loaded) => loaded.runbook.id === id);
  }

  /**
   * The runbook whose `match` fits the incident's labels. Higher priority wins, then the one
   * matching more labels (the more specific), then the id, so the choice is stable.
   */
  select(labels: RunbookSelector): LoadedRunbook | undefined {
    const candidates = this.runbooks
      .map((loaded) => {
        const { match } = loaded.runbook;
        const results = [
          matches(match.alertname, labels.alertname),
          matches(match.layer, labels.layer),
          matches(match.service, labels.service),
        ];
        if (results.includes(false)) return undefined;
        return { loaded, specificity: results.filter((r) => r === true).length };
      })
      .filter((candidate) => candidate !== undefined);
    candidates.sort(
      (a, b) =>
        b.loaded.runbook.priority - a.loaded.runbook.priority ||
        b.specificity - a.specificity ||
        a.loaded.runbook.id.localeCompare(b.loaded.runbook.id),
    );
    return candidates[0]?.loaded;
  }
}
