import { describe, expect, it } from 'vitest';
import { quoteString, SqlLiteralError } from '@runstream/clickhouse';
import { parseOrderBy, type OrderTerm } from './order-by-parser.ts';
import { FilterSyntaxError, parseRunFilter, type Comparison, type FilterExpr } from './run-filter-parser.ts';
import { compileRunFilter, orderByColumns } from './run-filter-sql.ts';

const where = (filter: string): string => compileRunFilter(parseRunFilter(filter)).text;

/** The SQL with every string literal replaced by '?': what is left is the structure, which input must not change. */
function skeleton(sqlText: string): string {
  return sqlText.replace(/'(?:[^'\\]|\\[\s\S])*'/g, "'?'");
}

/** A value written as a filter string: only backslash and the quote need escaping. */
function filterString(value: string): string {
  return `'${value.replace(/[\\']/g, (ch) => `\\${ch}`)}'`;
}

const METRIC_ACC = "r.run_id IN (SELECT entity_id FROM metric_summary_v2 WHERE entity_kind = 'run' AND key = 'acc' GROUP BY entity_id HAVING";
const PARAM_MODEL = "r.run_id IN (SELECT run_id FROM run_params_v2 WHERE key = 'model' GROUP BY run_id HAVING";

describe('compileRunFilter: generated SQL', () => {
  it('is 1 without a filter', () => {
    expect(compileRunFilter(undefined).text).toBe('1');
    expect(compileRunFilter(parseRunFilter('  ')).text).toBe('1');
  });

  it("compares a metric's latest value", () => {
    expect(where('metrics.acc > 0.9')).toBe(`${METRIC_ACC} argMaxMerge(last_value) > toFloat64(0.9))`);
    expect(where('metrics.acc <= 3')).toBe(`${METRIC_ACC} argMaxMerge(last_value) <= 3)`);
  });

  it('never lets a NaN latest value match !=', () => {
    expect(where('metrics.acc != 0.5')).toBe(`${METRIC_ACC} NOT isNaN(argMaxMerge(last_value)) AND argMaxMerge(last_value) != toFloat64(0.5))`);
  });

  it('spells numbers as exact literals', () => {
    expect(where('metrics.acc = -3')).toBe(`${METRIC_ACC} argMaxMerge(last_value) = -3)`);
    expect(where('metrics.acc = -1.5e-3')).toBe(`${METRIC_ACC} argMaxMerge(last_value) = toFloat64(-0.0015))`);
    expect(where('metrics.acc = -0')).toBe(`${METRIC_ACC} argMaxMerge(last_value) = toFloat64(-0.))`);
    expect(where('metrics.acc < 1e300')).toBe(`${METRIC_ACC} argMaxMerge(last_value) < toFloat64(1e+300))`);
    expect(where('metrics.acc > 5e-324')).toBe(`${METRIC_ACC} argMaxMerge(last_value) > reinterpretAsFloat64(unhex('0100000000000000')))`);
  });

  it('compares params, which only runs with the key can match, by their value only (the first in Kafka order)', () => {
    expect(where("params.model = 'cnn'")).toBe(`${PARAM_MODEL} argMax(value, rank) = 'cnn')`);
    expect(where("params.model != 'cnn'")).toBe(`${PARAM_MODEL} argMax(value, rank) != 'cnn')`);
    expect(where("params.model LIKE 'c%'")).toBe(`${PARAM_MODEL} like(argMax(value, rank), 'c%'))`);
    expect(where("params.model ILIKE 'C%'")).toBe(`${PARAM_MODEL} like(lower(argMax(value, rank)), lower('C%')))`);
    expect(where("params.model NOT IN ('a', 'b')")).toBe(`${PARAM_MODEL} argMax(value, rank) NOT IN ('a', 'b'))`);
  });

  it("compares a tag's latest state, skipping deleted tags", () => {
    expect(where("tags.team ILIKE 'ML%'")).toBe(
      "r.run_id IN (SELECT run_id FROM run_tags_v1 WHERE key = 'team' GROUP BY run_id HAVING argMax(deleted, version) = 0 AND like(lower(argMax(value, version)), lower('ML%')))",
    );
    expect(where("tags.team IN ('a')")).toBe(
      "r.run_id IN (SELECT run_id FROM run_tags_v1 WHERE key = 'team' GROUP BY run_id HAVING argMax(deleted, version) = 0 AND argMax(value, version) IN ('a'))",
    );
  });

  it.each([
    ['run_id', 'r.run_id'],
    ['run_name', 'r.run_name'],
    ['status', 'r.status'],
    ['user_id', 'r.user_id'],
    ['artifact_uri', 'r.artifact_uri'],
    ['lifecycle_stage', 'r.lifecycle_stage'],
  ])('compares attributes.%s as the column %s', (attribute, column) => {
    expect(where(`attributes.${attribute} IN ('RUNNING')`)).toBe(`${column} IN ('RUNNING')`);
    expect(where(`attributes.${attribute} ILIKE 'x%'`)).toBe(`like(lower(${column}), lower('x%'))`);
  });

  it('compares times; a run that has not ended matches no end_time comparison', () => {
    expect(where('attributes.start_time >= 1700000000000')).toBe('r.start_time >= 1700000000000');
    expect(where('attributes.end_time != 5')).toBe('(r.end_time != 0 AND r.end_time != 5)');
  });

  it('combines with AND and OR in parentheses, so the result can be embedded as is', () => {
    expect(where("metrics.acc > 0.9 AND params.model = 'cnn' OR attributes.status = 'FAILED'")).toBe(
      `((${METRIC_ACC} argMaxMerge(last_value) > toFloat64(0.9)) AND ${PARAM_MODEL} argMax(value, rank) = 'cnn')) OR r.status = 'FAILED')`,
    );
    expect(where("(attributes.run_name = 'a' OR attributes.run_name = 'b') AND attributes.user_id = 'u'")).toBe(
      "((r.run_name = 'a' OR r.run_name = 'b') AND r.user_id = 'u')",
    );
    expect(where("attributes.run_name = 'a' OR attributes.run_name = 'b' OR attributes.run_name = 'c'")).toBe(
      "(r.run_name = 'a' OR r.run_name = 'b' OR r.run_name = 'c')",
    );
  });

  it('refuses trees the parser never produces instead of emitting broken SQL', () => {
    const attribute = (key: string): Comparison => ({ kind: 'cmp', entity: 'attribute', key, op: '=', value: 'x' });
    expect(() => compileRunFilter(attribute('run_id; DROP TABLE runs_v1'))).toThrow(/unknown run attribute/);
    expect(() => compileRunFilter(attribute('__proto__'))).toThrow(/unknown run attribute/);
    expect(() => compileRunFilter({ kind: 'and', items: [] })).toThrow(/empty and/);
    const badOp = { kind: 'cmp', entity: 'param', key: 'k', op: 'OR 1=1 --', value: 'x' } as unknown as FilterExpr;
    expect(() => compileRunFilter(badOp)).toThrow(SqlLiteralError);
  });
});

describe('compileRunFilter: hostile input stays inside escaped literals', () => {
  const HOSTILE = [
    "a' OR 1=1 --",
    "\\' OR 1=1 --",
    "'); DROP TABLE runs_v1; --",
    'back\\slash\\',
    'nul\0byte',
    'line\nbreak\r\ttab',
    '\u0001\u001f\u007f',
    'ünïcødé 日本語 🚀',
    '%_\\%\\_',
    '`tick` "double"',
    '',
  ];
  const BENIGN_SKELETON = (template: (v: string) => string): string => skeleton(where(template('benign')));

  it.each(HOSTILE)('value %j', (value) => {
    const filters = [
      (v: string) => `params.p = ${filterString(v)}`,
      (v: string) => `tags.t LIKE ${filterString(v)} OR attributes.run_name ILIKE ${filterString(v)}`,
      (v: string) => `attributes.run_id NOT IN (${filterString(v)}, ${filterString(v)})`,
    ];
    for (const filter of filters) {
      const text = filter(value);
      // The parser returns the value exactly as written…
      const expr = parseRunFilter(text) as FilterExpr;
      expect(JSON.stringify(expr)).toContain(JSON.stringify(value));
      // …and the SQL holds it only as the literal quoteString makes of it, in an unchanged structure.
      const out = compileRunFilter(expr).text;
      expect(out).toContain(quoteString(value));
      expect(skeleton(out)).toBe(BENIGN_SKELETON(filter));
    }
  });

  it.each(HOSTILE.filter((key) => key !== '' && !key.includes('`')))('key %j in backticks', (key) => {
    const filter = (k: string) => `metrics.\`${k}\` > 1 AND params.\`${k}\` = 'v' AND tags.\`${k}\` != 'v'`;
    const out = where(filter(key));
    expect(out).toContain(`key = ${quoteString(key)}`);
    expect(skeleton(out)).toBe(BENIGN_SKELETON(filter));
  });

  it('keeps a key holding a backtick (double-quoted) and one holding a double quote (backticked)', () => {
    expect(where('params."a`b; --" = \'v\'')).toContain(`key = ${quoteString('a`b; --')}`);
    expect(where("params.`a\"'b` = 'v'")).toContain(`key = ${quoteString('a"\'b')}`);
  });

  it('leaves no input text outside literals', () => {
    const out = where("params.`x'); DROP TABLE t; --` = 'y\\'); DROP TABLE t; --'");
    expect(skeleton(out)).not.toMatch(/DROP|;|--/);
    expect(out).toBe(
      "r.run_id IN (SELECT run_id FROM run_params_v2 WHERE key = 'x\\'); DROP TABLE t; --' GROUP BY run_id HAVING argMax(value, rank) = 'y\\'); DROP TABLE t; --')",
    );
  });

  it('rejects what cannot be kept as data', () => {
    expect(() => parseRunFilter("params.x = 'a'' OR 1=1 --'")).toThrow(FilterSyntaxError);
    expect(() => parseRunFilter("params.x = 'a' OR 1=1")).toThrow(FilterSyntaxError);
    expect(() => parseRunFilter("params.x = 'a\ud800'")).toThrow(FilterSyntaxError);
    expect(() => parseRunFilter('metrics.`a` b` > 1')).toThrow(FilterSyntaxError);
  });
});

describe('orderByColumns', () => {
  const order = (...items: string[]) => {
    const { joins, orderItems } = orderByColumns(parseOrderBy(items));
    return { joins: joins.map(String), orderItems: orderItems.map(String) };
  };

  it("orders by MLflow's default, start_time DESC then run_id, without terms", () => {
    expect(order()).toEqual({ joins: [], orderItems: ['r.start_time DESC', 'r.run_id'] });
  });

  it('orders attributes by their column, without a join', () => {
    expect(order('attributes.run_name DESC', 'attributes.status')).toEqual({
      joins: [],
      orderItems: ['r.run_name DESC', 'r.status ASC', 'r.start_time DESC', 'r.run_id'],
    });
    expect(order('attributes.start_time', 'attributes.run_id DESC').orderItems).toEqual(['r.start_time ASC', 'r.run_id DESC']);
  });

  it('puts runs that have not ended last in both directions', () => {
    expect(order('attributes.end_time DESC').orderItems).toEqual(['r.end_time = 0', 'r.end_time DESC', 'r.start_time DESC', 'r.run_id']);
    expect(order('attributes.end_time').orderItems).toEqual(['r.end_time = 0', 'r.end_time ASC', 'r.start_time DESC', 'r.run_id']);
  });

  it('joins a metric sort key; runs without it, then NaN values, sort last', () => {
    expect(order('metrics.acc DESC')).toEqual({
      joins: [
        "LEFT JOIN (SELECT run_id, anyIf(num, term = 0) AS `sort_0`, max(term = 0) AS `has_0` FROM (SELECT entity_id AS run_id, toUInt8(0) AS term, argMaxMerge(last_value) AS num, '' AS str FROM metric_summary_v2 WHERE entity_kind = 'run' AND key = 'acc' GROUP BY entity_id) GROUP BY run_id) AS sort_keys USING run_id",
      ],
      orderItems: ['`has_0` DESC', 'isNaN(`sort_0`)', '`sort_0` DESC', 'r.start_time DESC', 'r.run_id'],
    });
  });

  it('joins every metric, param and tag sort key in one JOIN (ClickHouse 18.16 allows one per SELECT)', () => {
    expect(order('params.lr', 'attributes.run_name', 'tags.`team name` DESC')).toEqual({
      joins: [
        'LEFT JOIN (SELECT run_id, anyIf(str, term = 0) AS `sort_0`, max(term = 0) AS `has_0`, anyIf(str, term = 2) AS `sort_2`, max(term = 2) AS `has_2` FROM (' +
          "SELECT run_id, toUInt8(0) AS term, toFloat64(0) AS num, argMax(value, rank) AS str FROM run_params_v2 WHERE key = 'lr' GROUP BY run_id UNION ALL " +
          "SELECT run_id, toUInt8(2) AS term, toFloat64(0) AS num, argMax(value, version) AS str FROM run_tags_v1 WHERE key = 'team name' GROUP BY run_id HAVING argMax(deleted, version) = 0" +
          ') GROUP BY run_id) AS sort_keys USING run_id',
      ],
      orderItems: ['`has_0` DESC', '`sort_0` ASC', 'r.run_name ASC', '`has_2` DESC', '`sort_2` DESC', 'r.start_time DESC', 'r.run_id'],
    });
    const many = orderByColumns(parseOrderBy(Array.from({ length: 10 }, (_, i) => `metrics.m${i}`)));
    expect(many.joins).toHaveLength(1);
    expect(many.joins[0]!.text.match(/UNION ALL/g)).toHaveLength(9);
  });

  it('keeps hostile keys inside escaped literals', () => {
    const key = "x') AS s USING run_id; DROP TABLE t; --\\";
    const terms: OrderTerm[] = [
      { entity: 'metric', key, descending: true },
      { entity: 'param', key, descending: false },
      { entity: 'tag', key, descending: false },
    ];
    const { joins, orderItems } = orderByColumns(terms);
    const benign = orderByColumns(terms.map((t) => ({ ...t, key: 'benign' })));
    expect(joins[0]!.text.split(`key = ${quoteString(key)}`)).toHaveLength(4);
    expect(skeleton(joins[0]!.text)).toBe(skeleton(benign.joins[0]!.text));
    expect(orderItems.map(String)).toEqual(benign.orderItems.map(String));
  });

  it('refuses an attribute the parser would not produce', () => {
    expect(() => orderByColumns([{ entity: 'attribute', key: 'run_id DESC; --', descending: false }])).toThrow(/unknown run attribute/);
  });
});
