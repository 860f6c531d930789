// MLflow's run-search filter (`metrics.acc > 0.9 AND params.model = 'cnn'`), extended with OR, parentheses and
// min(metrics.x) / max(metrics.x) for a metric's extremes (metrics.x alone is its latest value):
//   expr       := andExpr ('OR' andExpr)*
//   andExpr    := primary ('AND' primary)*
//   primary    := '(' expr ')' | comparison
//   comparison := field operator value
//   field      := <entity>.<key> | min(metrics.<key>) | max(metrics.<key>)
// Keywords are case-insensitive. Type rules are MLflow's: metrics and the time attributes compare as numbers,
// params, tags and the other attributes as strings. Nothing here knows about SQL (see run-filter-sql.ts).
import { FilterSyntaxError, quoteForMessage, readField, tokenReader, type MetricAggregate, type Token } from './filter-lexer.ts';
import { RUN_STATUSES, valueType, type Entity, type ValueType } from './run-fields.ts';

export { FilterSyntaxError } from './filter-lexer.ts';
export type { Entity } from './run-fields.ts';

export const MAX_COMPARISONS = 100;
export const MAX_NESTING = 20;

export type ComparisonOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';

export interface Comparison {
  kind: 'cmp';
  entity: Entity;
  /** For attributes, one of ATTRIBUTE_NAMES. */
  key: string;
  op: ComparisonOp;
  /** A number for numeric fields, a list for IN / NOT IN, a string otherwise. */
  value: number | string | string[];
  /** Metrics only: compare the smallest or largest value instead of the latest. */
  aggregate?: MetricAggregate;
}

export type FilterExpr = { kind: 'and' | 'or'; items: FilterExpr[] } | Comparison;

const OPERATORS: Record<ValueType, readonly ComparisonOp[]> = {
  number: ['=', '!=', '<', '<=', '>', '>='],
  string: ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'],
};

function fieldName(entity: Entity, key: string): string {
  return entity === 'attribute' ? `attributes.${key}` : `${entity}s`;
}

function describe(token: Token, text: string): string {
  return token.kind === 'end' ? 'the end of the filter' : quoteForMessage(text.slice(token.pos, token.end));
}

/** The filter as a tree; undefined when there is no filter (no text, or only whitespace). */
export function parseRunFilter(text: string | undefined): FilterExpr | undefined {
  if (text === undefined) return undefined;
  const read = tokenReader(text);
  // The token after the current one is read only when looked at, so a bad token never masks an earlier error.
  let current: Token | undefined;
  let comparisons = 0;

  const peek = (): Token => (current ??= read());
  const next = (): Token => {
    const token = peek();
    current = undefined;
    return token;
  };
  const isKeyword = (token: Token, word: string): boolean => token.kind === 'keyword' && token.word === word;
  const unexpected = (expected: string, token: Token, hint = ''): FilterSyntaxError =>
    new FilterSyntaxError(`expected ${expected}, got ${describe(token, text)}${hint}`, token.pos);

  const parseOr = (depth: number): FilterExpr => {
    const items = [parseAnd(depth)];
    while (isKeyword(peek(), 'OR')) {
      next();
      items.push(parseAnd(depth));
    }
    return items.length === 1 ? items[0]! : { kind: 'or', items };
  };

  const parseAnd = (depth: number): FilterExpr => {
    const items = [parsePrimary(depth)];
    while (isKeyword(peek(), 'AND')) {
      next();
      items.push(parsePrimary(depth));
    }
    return items.length === 1 ? items[0]! : { kind: 'and', items };
  };

  const parsePrimary = (depth: number): FilterExpr => {
    const open = peek();
    if (open.kind !== '(') return parseComparison();
    if (depth >= MAX_NESTING) throw new FilterSyntaxError(`parentheses are nested more than ${MAX_NESTING} deep`, open.pos);
    next();
    if (peek().kind === ')') throw new FilterSyntaxError('empty parentheses', open.pos);
    const inner = parseOr(depth + 1);
    const close = next();
    if (close.kind !== ')') throw unexpected(`AND, OR or ')' to close the '(' at position ${open.pos}`, close);
    return inner;
  };

  const parseOperator = (): { op: ComparisonOp; token: Token } => {
    const token = next();
    if (token.kind === 'comparator') return { op: token.op, token };
    if (token.kind === 'keyword' && (token.word === 'LIKE' || token.word === 'ILIKE' || token.word === 'IN')) return { op: token.word, token };
    if (isKeyword(token, 'NOT')) {
      const inToken = next();
      if (!isKeyword(inToken, 'IN')) throw unexpected('IN after NOT', inToken);
      return { op: 'NOT IN', token };
    }
    throw unexpected('an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN)', token);
  };

  const parseNumber = (after: Token): number => {
    const token = next();
    if (token.kind === 'number') return token.value;
    const hint = token.kind === 'string' ? ' (numbers are written without quotes)' : '';
    throw unexpected(`a number after ${describe(after, text)}`, token, hint);
  };

  const parseString = (after: Token): string => {
    const token = next();
    if (token.kind === 'string') return token.value;
    const hint = token.kind === 'number' ? ` (string values are quoted, e.g. '${text.slice(token.pos, token.end)}')` : '';
    throw unexpected(`a quoted string after ${describe(after, text)}`, token, hint);
  };

  const parseList = (after: Token): string[] => {
    const open = next();
    if (open.kind !== '(') throw unexpected(`a parenthesised list of strings after ${describe(after, text)}`, open);
    if (peek().kind === ')') throw new FilterSyntaxError('empty IN list', open.pos);
    const values = [parseString(open)];
    for (let token = next(); token.kind !== ')'; token = next()) {
      if (token.kind !== ',') throw unexpected("',' or ')' in the IN list", token);
      values.push(parseString(token));
    }
    return values;
  };

  const parseComparison = (): Comparison => {
    const first = next();
    const field = readField(first, next, unexpected);
    if (!field) throw unexpected('a comparison such as metrics.acc > 0.9', first);
    if (++comparisons > MAX_COMPARISONS) throw new FilterSyntaxError(`more than ${MAX_COMPARISONS} comparisons`, first.pos);
    const { entity, key } = field;
    const type = valueType(entity, key);
    const { op, token } = parseOperator();
    if (!OPERATORS[type].includes(op)) {
      const kind = type === 'number' ? 'numbers' : 'strings';
      throw new FilterSyntaxError(`${op} is not supported for ${fieldName(entity, key)} (compared as ${kind}); use one of ${OPERATORS[type].join(', ')}`, token.pos);
    }
    const valueStart = peek();
    const value = op === 'IN' || op === 'NOT IN' ? parseList(token) : type === 'number' ? parseNumber(token) : parseString(token);
    checkValue(entity, key, op, value, valueStart.pos);
    return { kind: 'cmp', entity, key, op, value, ...(field.aggregate ? { aggregate: field.aggregate } : {}) };
  };

  const expr = peek().kind === 'end' ? undefined : parseOr(0);
  const rest = peek();
  if (rest.kind === ')') throw new FilterSyntaxError("unmatched ')'", rest.pos);
  // A string right after a value is usually a quote written as '' (SQL style) instead of \'.
  const hint = rest.kind === 'string' ? " (write \\' for a quote inside a string)" : '';
  if (rest.kind !== 'end') throw unexpected('AND, OR or the end of the filter', rest, hint);
  return expr;
}

/** Value rules beyond the type: times are whole milliseconds, statuses are MLflow's. */
function checkValue(entity: Entity, key: string, op: ComparisonOp, value: Comparison['value'], pos: number): void {
  if (entity !== 'attribute') return;
  if ((key === 'start_time' || key === 'end_time') && !Number.isSafeInteger(value)) {
    throw new FilterSyntaxError(`${key} is in milliseconds since the epoch and must be a whole number`, pos);
  }
  if (key === 'status' && op !== 'LIKE' && op !== 'ILIKE') {
    const unknown = (Array.isArray(value) ? value : [String(value)]).find((v) => !RUN_STATUSES.includes(v));
    if (unknown !== undefined) {
      throw new FilterSyntaxError(`unknown run status ${quoteForMessage(unknown)}; valid statuses are ${RUN_STATUSES.join(', ')}`, pos);
    }
  }
}
