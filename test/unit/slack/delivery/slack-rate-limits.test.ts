import { describe, expect, it } from 'vitest';
import { rateLimitScope, SlackRateLimits } from '../../../../src/slack/delivery/slack-rate-limits.js';

const INCIDENTS = rateLimitScope('chat.postMessage', 'C0INCIDENTS');

describe('SlackRateLimits', () => {
  it('limits chat.postMessage per channel and other methods per workspace', () => {
    expect(INCIDENTS).not.toBe(rateLimitScope('chat.postMessage', 'C0INC42'));
    expect(rateLimitScope('chat.update', 'C0INCIDENTS')).toBe(rateLimitScope('chat.update', 'C0INC42'));
  });

  it('lets every call through until Slack refuses one', () => {
    const limits = new SlackRateLimits();
    expect(limits.reserve(INCIDENTS, 'a', 0)).toBeUndefined();
    expect(limits.reserve(INCIDENTS, 'b', 0)).toBeUndefined();
  });

  it('after a 429, holds back only its scope, for Retry-After, then lets the waiting calls go one by one', () => {
    const limits = new SlackRateLimits();
    expect(limits.limited(INCIDENTS, 'a', 0, 1000)).toBe(1000);
    expect(limits.reserve(INCIDENTS, 'b', 100)).toBe(2000);
    expect(limits.reserve(INCIDENTS, 'c', 200)).toBe(3000);
    // A call that comes back early keeps its place in line.
    expect(limits.reserve(INCIDENTS, 'b', 900)).toBe(2000);
    expect(limits.reserve(rateLimitScope('chat.postMessage', 'C0INC42'), 'd', 300)).toBeUndefined();

    expect(limits.reserve(INCIDENTS, 'a', 1000)).toBeUndefined();
    expect(limits.reserve(INCIDENTS, 'b', 2000)).toBeUndefined();
    expect(limits.reserve(INCIDENTS, 'c', 3000)).toBeUndefined();
    // The line is gone: calls go straight to Slack again.
    expect(limits.reserve(INCIDENTS, 'e', 3000)).toBeUndefined();
  });

  it('puts a call refused again first in line and moves the others back', () => {
    const limits = new SlackRateLimits();
    limits.limited(INCIDENTS, 'a', 0, 1000);
    expect(limits.reserve(INCIDENTS, 'b', 0)).toBe(2000);
    expect(limits.reserve(INCIDENTS, 'a', 1000)).toBeUndefined();
    expect(limits.limited(INCIDENTS, 'a', 1000, 2000)).toBe(3000);
    expect(limits.reserve(INCIDENTS, 'b', 2000)).toBe(4000);
  });

  it('after a long Retry-After, lets the waiting calls go a second apart, not a Retry-After apart', () => {
    const limits = new SlackRateLimits();
    expect(limits.limited(INCIDENTS, 'a', 0, 60_000)).toBe(60_000);
    expect(limits.reserve(INCIDENTS, 'b', 0)).toBe(61_000);
    expect(limits.reserve(INCIDENTS, 'c', 0)).toBe(62_000);
    expect(limits.reserve(INCIDENTS, 'a', 60_000)).toBeUndefined();
    expect(limits.reserve(INCIDENTS, 'b', 61_000)).toBeUndefined();
  });

  it('forgets a place whose call never came back for it', () => {
    const limits = new SlackRateLimits();
    limits.limited(INCIDENTS, 'a', 0, 1000);
    expect(limits.reserve(INCIDENTS, 'b', 0)).toBe(2000);
    expect(limits.reserve(INCIDENTS, 'b', 2000)).toBeUndefined();
    // 'a' never comes back; while its place is kept, the line waits behind it.
    expect(limits.reserve(INCIDENTS, 'c', 3000)).toBe(4000);
    expect(limits.reserve(INCIDENTS, 'd', 3000)).toBe(5000);
    // A minute on, it is forgotten, and with the line gone calls go straight to Slack.
    expect(limits.reserve(INCIDENTS, 'd', 70_000)).toBeUndefined();
    expect(limits.reserve(INCIDENTS, 'e', 70_000)).toBeUndefined();
  });
});
