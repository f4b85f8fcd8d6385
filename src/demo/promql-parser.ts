/**
 * A parser for the subset of PromQL that the shipped runbook, the reference app's alert rules and
 * the postmortem's impact figures use. Anything outside it is refused with a PromqlError that
 * names the construct, so the demo never answers a query it does not understand.
 */

/** A query the subset cannot parse or evaluate; the HTTP API answers it as Prometheus's bad_data. */
export class PromqlError extends Error {
  override name = 'PromqlError';
}

export type MatchOp = '=' | '!=' | '=~' | '!~';
export interface LabelMatcher {
  name: string;
  op: MatchOp;
  value: string;
}

export type ArithmeticOp = '+' | '-' | '*' | '/' | '%' | '^';
export type ComparisonOp = '==' | '!=' | '>' | '<' | '>=' | '<=';
export type AggregationOp = 'sum' | 'avg' | 'max' | 'min' | 'count';

export type Expr =
  | { kind: 'number'; value: number }
  | { kind: 'selector'; matchers: LabelMatcher[]; offsetMs: number }
  | { kind: 'range'; selector: Extract<Expr, { kind: 'selector' }>; rangeMs: number }
  | { kind: 'subquery'; expr: Expr; rangeMs: number; stepMs: number; offsetMs: number }
  | { kind: 'call'; name: string; args: Expr[] }
  | { kind: 'aggregate'; op: AggregationOp; by: string[]; expr: Expr }
  | { kind: 'binary'; op: ArithmeticOp | ComparisonOp; bool: boolean; left: Expr; right: Expr }
  | { kind: 'negate'; expr: Expr };

const AGGREGATIONS: ReadonlySet<string> = new Set(['sum', 'avg', 'max', 'min', 'count']);
/** Functions the evaluator implements, with their argument count. */
export const FUNCTIONS: Readonly<Record<string, number>> = {
  rate: 1,
  increase: 1,
  avg_over_time: 1,
  count_over_time: 1,
  histogram_quantile: 2,
  time: 0,
};
const UNSUPPORTED_KEYWORDS: ReadonlySet<string> = new Set([
  'and',
  'or',
  'unless',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'without',
  'atan2',
]);
const PRECEDENCE: Readonly<Record<string, number>> = {
  '==': 1,
  '!=': 1,
  '>': 1,
  '<': 1,
  '>=': 1,
  '<=': 1,
  '+': 2,
  '-': 2,
  '*': 3,
  '/': 3,
  '%': 3,
  '^': 4,
};
const COMPARISONS: ReadonlySet<string> = new Set(['==', '!=', '>', '<', '>=', '<=']);

type Token =
  | { type: 'ident'; text: string; at: number }
  | { type: 'number'; value: number; at: number }
  | { type: 'duration'; ms: number; text: string; at: number }
  | { type: 'string'; value: string; at: number }
  | { type: 'punct'; text: string; at: number }
  | { type: 'end'; at: number };

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};
const DURATION = /^(?:\d+(?:ms|[smhdwy]))+/;
const NUMBER = /^(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/;
const IDENT = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const PUNCT = [
  '==',
  '!=',
  '>=',
  '<=',
  '=~',
  '!~',
  '(',
  ')',
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '=',
  '>',
  '<',
  '+',
  '-',
  '*',
  '/',
  '%',
  '^',
  '@',
];

/** Milliseconds in a PromQL duration such as `15m` or `1h30m`. */
export function durationMs(text: string): number {
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)(ms|[smhdwy])/g)) {
    total += Number(amount) * (DURATION_UNITS[unit as string] ?? 0);
  }
  return total;
}

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < query.length) {
    const rest = query.slice(at);
    const space = /^(?:\s+|#[^\n]*)/.exec(rest);
    if (space) {
      at += space[0].length;
      continue;
    }
    const duration = DURATION.exec(rest);
    if (duration && !/^[a-zA-Z0-9_]/.test(rest.slice(duration[0].length))) {
      tokens.push({ type: 'duration', ms: durationMs(duration[0]), text: duration[0], at });
      at += duration[0].length;
      continue;
    }
    const number = NUMBER.exec(rest);
    if (number) {
      tokens.push({ type: 'number', value: Number(number[0]), at });
      at += number[0].length;
      continue;
    }
    // In `[10m:1m]` the colon separates a subquery's range and step; elsewhere it may start a name.
    if (rest[0] === ':' && tokens[tokens.length - 1]?.type === 'duration') {
      tokens.push({ type: 'punct', text: ':', at });
      at += 1;
      continue;
    }
    const ident = IDENT.exec(rest);
    if (ident) {
      const lower = ident[0].toLowerCase();
      if (lower === 'inf' || lower === 'nan') {
        tokens.push({ type: 'number', value: lower === 'inf' ? Number.POSITIVE_INFINITY : Number.NaN, at });
      } else {
        tokens.push({ type: 'ident', text: ident[0], at });
      }
      at += ident[0].length;
      continue;
    }
    const quote = rest[0];
    if (quote === '"' || quote === "'" || quote === '`') {
      const { value, length } = readString(rest, quote, at);
      tokens.push({ type: 'string', value, at });
      at += length;
      continue;
    }
    const punct = PUNCT.find((p) => rest.startsWith(p));
    if (!punct) throw new PromqlError(`unexpected character ${JSON.stringify(rest[0])} at position ${at}`);
    tokens.push({ type: 'punct', text: punct, at });
    at += punct.length;
  }
  tokens.push({ type: 'end', at });
  return tokens;
}

const ESCAPES: Readonly<Record<string, string>> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  '"': '"',
  "'": "'",
};

function readString(rest: string, quote: string, at: number): { value: string; length: number } {
  let value = '';
  for (let i = 1; i < rest.length; i++) {
    const char = rest[i] as string;
    if (char === quote) return { value, length: i + 1 };
    if (char === '\\' && quote !== '`') {
      const next = rest[i + 1] ?? '';
      const escaped = ESCAPES[next];
      if (escaped === undefined) throw new PromqlError(`unsupported escape \\${next} at position ${at + i}`);
      value += escaped;
      i++;
      continue;
    }
    value += char;
  }
  throw new PromqlError(`unterminated string starting at position ${at}`);
}

class Parser {
  private index = 0;

  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.index] as Token;
  }

  private next(): Token {
    const token = this.peek();
    if (token.type !== 'end') this.index++;
    return token;
  }

  private isPunct(text: string): boolean {
    const token = this.peek();
    return token.type === 'punct' && token.text === text;
  }

  private isIdent(text: string): boolean {
    const token = this.peek();
    return token.type === 'ident' && token.text.toLowerCase() === text;
  }

  private expect(text: string): void {
    const token = this.next();
    if (token.type !== 'punct' || token.text !== text) {
      throw new PromqlError(`expected "${text}" at position ${token.at}, found ${describe(token)}`);
    }
  }

  parse(): Expr {
    const expr = this.expression(0);
    const end = this.peek();
    if (end.type !== 'end') throw new PromqlError(`unexpected ${describe(end)} at position ${end.at}`);
    return expr;
  }

  /** Precedence climbing; `^` binds right, the others left. */
  private expression(minPrecedence: number): Expr {
    let left = this.unary();
    for (;;) {
      const token = this.peek();
      if (token.type === 'ident' && UNSUPPORTED_KEYWORDS.has(token.text.toLowerCase())) {
        throw unsupported(`"${token.text}"`, token.at);
      }
      if (token.type !== 'punct') return left;
      const precedence = PRECEDENCE[token.text];
      if (precedence === undefined || precedence < minPrecedence) return left;
      this.next();
      const op = token.text as ArithmeticOp | ComparisonOp;
      let bool = false;
      if (this.isIdent('bool')) {
        if (!COMPARISONS.has(op)) throw new PromqlError(`bool modifier on the non-comparison operator ${op}`);
        this.next();
        bool = true;
      }
      const modifier = this.peek();
      if (modifier.type === 'ident' && UNSUPPORTED_KEYWORDS.has(modifier.text.toLowerCase())) {
        throw unsupported(`vector matching with "${modifier.text}"`, modifier.at);
      }
      const right = this.expression(op === '^' ? precedence : precedence + 1);
      left = { kind: 'binary', op, bool, left, right };
    }
  }

  private unary(): Expr {
    if (this.isPunct('-') || this.isPunct('+')) {
      const sign = this.next();
      const operand = this.expression(PRECEDENCE['^'] as number);
      if (sign.type === 'punct' && sign.text === '+') return operand;
      return operand.kind === 'number'
        ? { kind: 'number', value: -operand.value }
        : { kind: 'negate', expr: operand };
    }
    return this.postfix(this.primary());
  }

  /** Range selectors, subqueries and `offset` after an operand. */
  private postfix(operand: Expr): Expr {
    let expr = operand;
    if (this.isPunct('[')) {
      const open = this.next();
      const range = this.durationToken();
      if (this.isPunct(':')) {
        this.next();
        const step = this.isPunct(']') ? 60_000 : this.durationToken();
        this.expect(']');
        expr = { kind: 'subquery', expr, rangeMs: range, stepMs: step, offsetMs: 0 };
      } else {
        this.expect(']');
        if (expr.kind !== 'selector' || expr.offsetMs !== 0) {
          throw new PromqlError(`a range [..] at position ${open.at} must follow a metric selector`);
        }
        expr = { kind: 'range', selector: expr, rangeMs: range };
      }
    }
    if (this.isIdent('offset')) {
      this.next();
      const negative = this.isPunct('-');
      if (negative) this.next();
      const offset = this.durationToken() * (negative ? -1 : 1);
      if (expr.kind === 'selector') expr = { ...expr, offsetMs: offset };
      else if (expr.kind === 'range') expr = { ...expr, selector: { ...expr.selector, offsetMs: offset } };
      else if (expr.kind === 'subquery') expr = { ...expr, offsetMs: offset };
      else throw new PromqlError('offset must follow a selector or a subquery');
    }
    if (this.isPunct('@')) throw unsupported('the @ modifier', this.peek().at);
    return expr;
  }

  private durationToken(): number {
    const token = this.next();
    if (token.type === 'duration') return token.ms;
    throw new PromqlError(`expected a duration such as 5m at position ${token.at}, found ${describe(token)}`);
  }

  private primary(): Expr {
    const token = this.next();
    switch (token.type) {
      case 'number':
        return { kind: 'number', value: token.value };
      case 'string':
        throw unsupported('string literals', token.at);
      case 'duration':
        throw new PromqlError(`unexpected duration ${token.text} at position ${token.at}`);
      case 'end':
        throw new PromqlError('unexpected end of query');
      case 'punct':
        if (token.text === '(') {
          const inner = this.expression(0);
          this.expect(')');
          return inner;
        }
        if (token.text === '{') {
          const matchers = this.matchers();
          if (matchers.length === 0) throw new PromqlError('a selector needs a metric name or a matcher');
          return { kind: 'selector', matchers, offsetMs: 0 };
        }
        throw new PromqlError(`unexpected "${token.text}" at position ${token.at}`);
      case 'ident':
        return this.identifier(token);
    }
  }

  private identifier(token: Extract<Token, { type: 'ident' }>): Expr {
    const name = token.text;
    const lower = name.toLowerCase();
    if (AGGREGATIONS.has(lower)) return this.aggregation(lower as AggregationOp);
    if (UNSUPPORTED_KEYWORDS.has(lower)) throw unsupported(`"${name}"`, token.at);
    if (this.isPunct('(')) {
      const arity = FUNCTIONS[name];
      if (arity === undefined) throw unsupported(`the function or aggregation ${name}()`, token.at);
      this.next();
      const args: Expr[] = [];
      while (!this.isPunct(')')) {
        args.push(this.expression(0));
        if (!this.isPunct(')')) this.expect(',');
      }
      this.expect(')');
      if (args.length !== arity) {
        throw new PromqlError(`${name}() takes ${arity} argument(s), got ${args.length}`);
      }
      return { kind: 'call', name, args };
    }
    const matchers: LabelMatcher[] = [{ name: '__name__', op: '=', value: name }];
    if (this.isPunct('{')) {
      this.next();
      matchers.push(...this.matchers());
    }
    return { kind: 'selector', matchers, offsetMs: 0 };
  }

  /** `sum by (a, b) (expr)` or `sum (expr) by (a, b)`. */
  private aggregation(op: AggregationOp): Expr {
    let by: string[] | undefined;
    if (this.isIdent('by')) {
      this.next();
      by = this.labelList();
    } else if (this.isIdent('without')) {
      throw unsupported(`${op} without (...)`, this.peek().at);
    }
    this.expect('(');
    const expr = this.expression(0);
    if (this.isPunct(',')) throw unsupported(`${op}() with a parameter`, this.peek().at);
    this.expect(')');
    if (by === undefined && this.isIdent('by')) {
      this.next();
      by = this.labelList();
    } else if (this.isIdent('without')) {
      throw unsupported(`${op} without (...)`, this.peek().at);
    }
    return { kind: 'aggregate', op, by: by ?? [], expr };
  }

  private labelList(): string[] {
    this.expect('(');
    const labels: string[] = [];
    while (!this.isPunct(')')) {
      const label = this.next();
      if (label.type !== 'ident') throw new PromqlError(`expected a label name at position ${label.at}`);
      labels.push(label.text);
      if (!this.isPunct(')')) this.expect(',');
    }
    this.expect(')');
    return labels;
  }

  /** The inside of `{...}`, the opening brace already read. */
  private matchers(): LabelMatcher[] {
    const matchers: LabelMatcher[] = [];
    while (!this.isPunct('}')) {
      const name = this.next();
      if (name.type !== 'ident') throw new PromqlError(`expected a label name at position ${name.at}`);
      const op = this.next();
      if (op.type !== 'punct' || !['=', '!=', '=~', '!~'].includes(op.text)) {
        throw new PromqlError(`expected =, !=, =~ or !~ after ${name.text} at position ${op.at}`);
      }
      const value = this.next();
      if (value.type !== 'string')
        throw new PromqlError(`expected a quoted label value at position ${value.at}`);
      matchers.push({ name: name.text, op: op.text as MatchOp, value: value.value });
      if (!this.isPunct('}')) this.expect(',');
    }
    this.expect('}');
    return matchers;
  }
}

function describe(token: Token): string {
  switch (token.type) {
    case 'end':
      return 'the end of the query';
    case 'ident':
      return `"${token.text}"`;
    case 'number':
      return String(token.value);
    case 'duration':
      return token.text;
    case 'string':
      return JSON.stringify(token.value);
    case 'punct':
      return `"${token.text}"`;
  }
}

function unsupported(what: string, at: number): PromqlError {
  return new PromqlError(`${what} (position ${at}) is not supported by aisre's built-in PromQL subset`);
}

/** Parses a query of the subset, or throws PromqlError. */
export function parsePromql(query: string): Expr {
  return new Parser(tokenize(query)).parse();
}
