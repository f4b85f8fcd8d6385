import { describe, expect, it } from 'vitest';
import { tokenF1 } from '../../../src/checks/types/golden-set-check.js';
import { chatAnswer } from '../../../src/reference-app/answers.js';

const CAPITAL = 'What is the capital of France? Answer with one word.';
const SUM = 'What is 17 + 25? Answer with the number only.';
const REFUND =
  'In one sentence: can a customer get a refund 10 days after purchase if the policy allows 30 days?';
const REFUND_GOLD = 'Yes, the customer can get a refund within the 30 day policy';

describe('chatAnswer', () => {
  it('answers the default runbook’s golden set correctly when healthy', () => {
    const healthy = { effect: 'good', drifted: false } as const;
    expect(chatAnswer(CAPITAL, healthy)).toBe('Paris');
    expect(chatAnswer(SUM, healthy)).toBe('42');
    expect(tokenF1(chatAnswer(REFUND, healthy), REFUND_GOLD)).toBeGreaterThan(0.6);
    expect(
      chatAnswer('Can I get a refund 40 days after purchase? The policy allows 30 days.', healthy),
    ).toMatch(/^No/);
  });

  it('drifts when the provider updated the model: padded and hedging answers', () => {
    const drifted = { effect: 'good', drifted: true } as const;
    expect(chatAnswer(CAPITAL, drifted)).toContain('Paris');
    expect(chatAnswer(SUM, drifted)).toBe('17 + 25 = 42');
    expect(tokenF1(chatAnswer(REFUND, drifted), REFUND_GOLD)).toBeLessThan(0.3);
  });

  it('fails every question under the broken prompts', () => {
    for (const effect of ['context_only', 'over_strict'] as const) {
      for (const question of [CAPITAL, SUM, REFUND]) {
        const answer = chatAnswer(question, { effect, drifted: false });
        expect(answer).not.toMatch(/Paris|42|Yes/);
      }
    }
  });

  it('answers unknown questions and countries generically', () => {
    expect(chatAnswer('What is the capital of Atlantis?', { effect: 'good', drifted: false })).toMatch(
      /knowledge base/,
    );
    expect(chatAnswer('capital of constructor', { effect: 'good', drifted: false })).toMatch(
      /knowledge base/,
    );
  });
});
