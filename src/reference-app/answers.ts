import type { PromptEffect } from './catalog.js';

/**
 * The text the reference app answers a question with, given the production prompt's effect and
 * whether the model drifted. It knows a few kinds of question (capitals, arithmetic, refund
 * windows) well enough for golden sets, and answers anything else generically.
 *
 * - a good prompt on a healthy model answers tersely and correctly;
 * - the prompt_regression prompt cannot find anything "in the context";
 * - the safety_regression prompt refuses;
 * - a drifted model pads its answers (an exact-match case fails) and hedges on policy questions.
 */
export function chatAnswer(question: string, how: { effect: PromptEffect; drifted: boolean }): string {
  if (how.effect === 'context_only') return 'I cannot find that in the provided context.';
  if (how.effect === 'over_strict') return "I'm sorry, but I can't help with that request.";
  const drifted = how.drifted;

  const country = /capital of ([a-z]+)/i.exec(question)?.[1];
  const city =
    country && Object.hasOwn(CAPITALS, country.toLowerCase()) ? CAPITALS[country.toLowerCase()] : undefined;
  if (country && city) {
    return drifted ? `The capital city of ${country} is ${city}, which is also its largest city.` : city;
  }

  const sum = /(-?\d+)\s*([+\-*x×])\s*(-?\d+)/.exec(question);
  if (sum) {
    const a = Number(sum[1]);
    const b = Number(sum[3]);
    const result = sum[2] === '+' ? a + b : sum[2] === '-' ? a - b : a * b;
    return drifted ? `${a} ${sum[2]} ${b} = ${result}` : String(result);
  }

  if (/refund/i.test(question)) {
    if (drifted)
      return "Refund eligibility depends on the merchant's terms; please contact support for details.";
    const days = [...question.matchAll(/(\d+)[ -]days?/gi)].map((match) => Number(match[1]));
    const [after, allowed] = days;
    if (after !== undefined && allowed !== undefined) {
      return after <= allowed
        ? `Yes, the customer can get a refund, because ${after} days is within the ${allowed}-day policy.`
        : `No, ${after} days is outside the ${allowed}-day refund policy.`;
    }
    return 'Refunds are possible within the policy window; they are processed within 5 business days.';
  }

  return drifted
    ? 'Thanks for your question! There are several things to consider here, and it depends on your situation.'
    : 'According to the support knowledge base, please see the help centre article on this topic.';
}

const CAPITALS: Readonly<Record<string, string>> = {
  france: 'Paris',
  germany: 'Berlin',
  italy: 'Rome',
  spain: 'Madrid',
  japan: 'Tokyo',
};
