import { describe, expect, it } from 'vitest';
import { ActionCatalog, BUILT_IN_ACTIONS } from '../../../src/actions/action-catalog.js';
import { ActionRegistry, builtInActionTypes } from '../../../src/actions/built-in-actions.js';

describe('built-in actions', () => {
  it('implements every catalog action with the catalog’s own definition', () => {
    const types = builtInActionTypes();
    expect(types.map((type) => type.id)).toEqual(BUILT_IN_ACTIONS.map((definition) => definition.id));
    for (const type of types) {
      const definition = BUILT_IN_ACTIONS.find((candidate) => candidate.id === type.id)!;
      expect(type.params).toBe(definition.params);
      expect({ risk: type.risk, supportsDryRun: type.supportsDryRun, description: type.description }).toEqual(
        {
          risk: definition.risk,
          supportsDryRun: definition.supportsDryRun,
          description: definition.description,
        },
      );
    }
  });

  it('registers the plugins by id and refuses duplicates and unknown ids', () => {
    const registry = new ActionRegistry();
    expect(registry.list()).toEqual(new ActionCatalog().list());
    expect(registry.get('gateway.block').id).toBe('gateway.block');
    expect(registry.find('gateway.teleport')).toBeUndefined();
    expect(() => registry.get('gateway.teleport')).toThrow(
      /unknown action "gateway.teleport" \(known: gateway.block/,
    );
    const [first] = builtInActionTypes();
    expect(() => new ActionRegistry([first!, first!])).toThrow(
      'action "prompt.rollback" is registered twice',
    );
  });

  it('gives the runbook loader a catalog of its plugins', () => {
    const catalog = new ActionRegistry().catalog();
    expect(catalog.list()).toEqual(new ActionCatalog().list());
    expect(catalog.get('prompt.rollback')?.params.parse({ prompt: 'p' })).toEqual({
      prompt: 'p',
      label: 'production',
    });
  });
});
