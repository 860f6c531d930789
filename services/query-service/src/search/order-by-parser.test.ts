import { describe, expect, it } from 'vitest';
import { FilterSyntaxError } from './filter-lexer.ts';
import { MAX_ORDER_TERMS, parseOrderBy } from './order-by-parser.ts';

function rejects(items: string[], message: RegExp, position?: number): void {
  let error: unknown;
  try {
    parseOrderBy(items);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(FilterSyntaxError);
  expect((error as FilterSyntaxError).message).toMatch(message);
  if (position !== undefined) expect((error as FilterSyntaxError).position).toBe(position);
}

describe('parseOrderBy', () => {
  it('is empty without terms', () => {
    expect(parseOrderBy([])).toEqual([]);
  });

  it('orders ascending unless DESC is given, in any case', () => {
    expect(parseOrderBy(['metrics.acc', 'params.lr ASC', 'tags.t DESC', 'attributes.start_time desc', 'metrics.loss asc'])).toEqual([
      { entity: 'metric', key: 'acc', descending: false },
      { entity: 'param', key: 'lr', descending: false },
      { entity: 'tag', key: 't', descending: true },
      { entity: 'attribute', key: 'start_time', descending: true },
      { entity: 'metric', key: 'loss', descending: false },
    ]);
  });

  it('reads the same identifiers as the filter', () => {
    expect(parseOrderBy(['metric.`my metric` DESC', 'parameters."batch size"', 'tag.a.b/c-d', 'run.end_time', 'attr.run_name'])).toEqual([
      { entity: 'metric', key: 'my metric', descending: true },
      { entity: 'param', key: 'batch size', descending: false },
      { entity: 'tag', key: 'a.b/c-d', descending: false },
      { entity: 'attribute', key: 'end_time', descending: false },
      { entity: 'attribute', key: 'run_name', descending: false },
    ]);
    expect(parseOrderBy(['  metrics.acc   DESC  '])).toEqual([{ entity: 'metric', key: 'acc', descending: true }]);
  });

  it('rejects malformed terms, naming the term', () => {
    rejects([''], /^expected a field such as metrics.acc or attributes.start_time, got nothing \(order_by\[0\] position 0\)$/);
    rejects(['metrics.acc', 'DESC'], /got "DESC" \(order_by\[1\] position 0\)/, 0);
    rejects(['foo.acc'], /unknown entity "foo"/, 0);
    rejects(['attributes.name'], /unknown attribute "name"; valid attributes are run_id/, 11);
    rejects(['metrics.acc DESC ASC'], /expected ASC, DESC or nothing after the field, got "ASC"/, 17);
    rejects(['metrics.acc, params.lr'], /expected ASC, DESC or nothing after the field, got ", params.lr"/, 11);
    rejects(['metrics.acc DOWN'], /unexpected word "DOWN"/, 12);
    rejects(["metrics.acc 'x'"], /got "'x'"/);
    rejects(['metrics.`acc'], /unterminated quoted key/);
    rejects([`metrics.${'k'.repeat(251)}`], /key is longer than 250 characters/);
  });

  it('rejects a field ordered twice, as MLflow does', () => {
    rejects(['metrics.acc', 'metric.`acc` DESC'], /orders by the same field as an earlier term \(order_by\[1\]/);
    expect(parseOrderBy(['metrics.acc', 'params.acc', 'tags.acc'])).toHaveLength(3);
  });

  it(`accepts at most ${MAX_ORDER_TERMS} terms`, () => {
    const terms = Array.from({ length: MAX_ORDER_TERMS + 1 }, (_, i) => `metrics.m${i}`);
    expect(parseOrderBy(terms.slice(0, MAX_ORDER_TERMS))).toHaveLength(MAX_ORDER_TERMS);
    rejects(terms, /order_by has 11 terms; at most 10 are allowed/);
  });
});

describe('order by min() / max()', () => {
  it('orders by a metric’s extreme', () => {
    expect(parseOrderBy(['min(metrics.loss) ASC', 'metrics.loss DESC'])).toEqual([
      { entity: 'metric', key: 'loss', descending: false, aggregate: 'min' },
      { entity: 'metric', key: 'loss', descending: true },
    ]);
    expect(() => parseOrderBy(['max(metrics.a)', 'max(metrics.a) DESC'])).toThrow(/same field/);
    expect(() => parseOrderBy(['max(tags.a)'])).toThrow(/a metric such as metrics.loss/);
  });
});
