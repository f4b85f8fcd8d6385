import { describe, expect, it } from 'vitest';
import { listWithOverflow } from '../../../../src/slack/blocks/limits.js';

describe('listWithOverflow', () => {
  it('keeps everything that fits', () => {
    expect(listWithOverflow(['a', 'b'], 100, 10)).toEqual(['a', 'b']);
  });

  it('stops at the item limit and says how many were left out', () => {
    expect(listWithOverflow(['a', 'b', 'c', 'd'], 100, 2)).toEqual(['a', 'b', '…and 2 more']);
  });

  it('stays within the character budget, overflow line included', () => {
    const items = Array.from({ length: 100 }, (_, i) => `item number ${i}`);
    const lines = listWithOverflow(items, 200, 1000);
    expect(lines.join('\n').length).toBeLessThanOrEqual(200);
    expect(lines.at(-1)).toBe(`…and ${100 - (lines.length - 1)} more`);
  });

  it('counts the items it was not given when told how many there are', () => {
    expect(listWithOverflow(['a', 'b', 'c'], 100, 2, 50)).toEqual(['a', 'b', '…and 48 more']);
    expect(listWithOverflow(['a', 'b'], 100, 10, 5)).toEqual(['a', 'b', '…and 3 more']);
  });
});
