// MLflow's order_by: each item is `<entity>.<key> [ASC|DESC]` (ASC by default), with the same field names as the
// filter (see filter-lexer.ts).
import { FilterSyntaxError, quoteForMessage, readField, tokenReader, type MetricAggregate, type Token } from './filter-lexer.ts';
import type { Entity } from './run-fields.ts';

export const MAX_ORDER_TERMS = 10;

export interface OrderTerm {
  entity: Entity;
  key: string;
  descending: boolean;
  /** Metrics only: order by the smallest or largest value instead of the latest. */
  aggregate?: MetricAggregate;
}

export function parseOrderBy(items: readonly string[]): OrderTerm[] {
  if (items.length > MAX_ORDER_TERMS) {
    throw new FilterSyntaxError(`order_by has ${items.length} terms; at most ${MAX_ORDER_TERMS} are allowed`, 0, 'order_by');
  }
  const seen = new Set<string>();
  return items.map((item, index) => {
    const source = `order_by[${index}]`;
    const read = tokenReader(item, source);
    const first = read();
    const unexpected = (expected: string, token: Token): FilterSyntaxError =>
      new FilterSyntaxError(`expected ${expected}, got ${token.kind === 'end' ? 'nothing' : quoteForMessage(item.slice(token.pos, token.end))}`, token.pos, source);
    const field = readField(first, read, unexpected);
    if (!field) throw unexpected('a field such as metrics.acc or attributes.start_time', first);
    let rest = read();
    let descending = false;
    if (rest.kind === 'keyword' && (rest.word === 'ASC' || rest.word === 'DESC')) {
      descending = rest.word === 'DESC';
      rest = read();
    }
    if (rest.kind !== 'end') {
      throw new FilterSyntaxError(`expected ASC, DESC or nothing after the field, got ${quoteForMessage(item.slice(rest.pos))}`, rest.pos, source);
    }
    // MLflow rejects a field ordered twice: the second term could never matter.
    const id = `${field.aggregate ?? ''}${field.entity}.${field.key}`;
    if (seen.has(id)) throw new FilterSyntaxError(`${quoteForMessage(item)} orders by the same field as an earlier term`, first.pos, source);
    seen.add(id);
    return { entity: field.entity, key: field.key, descending, ...(field.aggregate ? { aggregate: field.aggregate } : {}) };
  });
}
