import { describe, expect, it } from 'vitest';
import { FilterSyntaxError, MAX_COMPARISONS, MAX_NESTING, parseRunFilter, type Comparison, type FilterExpr } from './run-filter-parser.ts';

const a: Comparison = { kind: 'cmp', entity: 'metric', key: 'a', op: '>', value: 1 };
const b: Comparison = { kind: 'cmp', entity: 'param', key: 'b', op: '=', value: 'x' };
const c: Comparison = { kind: 'cmp', entity: 'tag', key: 'c', op: '!=', value: 'y' };
const A = 'metrics.a > 1';
const B = "params.b = 'x'";
const C = "tags.c != 'y'";

function cmp(text: string): Comparison {
  const expr = parseRunFilter(text);
  if (expr?.kind !== 'cmp') throw new Error(`not a single comparison: ${text}`);
  return expr;
}

/** The FilterSyntaxError thrown for text (fails the test if nothing is thrown). */
function syntaxError(text: string): FilterSyntaxError {
  try {
    parseRunFilter(text);
  } catch (err) {
    expect(err).toBeInstanceOf(FilterSyntaxError);
    return err as FilterSyntaxError;
  }
  throw new Error(`accepted: ${text}`);
}

function rejects(text: string, message: RegExp, position?: number): void {
  const err = syntaxError(text);
  expect(err.message).toMatch(message);
  if (position !== undefined) expect(err.position).toBe(position);
}

describe('no filter', () => {
  it.each([undefined, '', ' ', '\n\t  '])('%j is no filter', (text) => {
    expect(parseRunFilter(text)).toBeUndefined();
  });
});

describe('identifiers', () => {
  it.each([
    ['metrics', 'metric'],
    ['metric', 'metric'],
    ['METRICS', 'metric'],
    ['params', 'param'],
    ['param', 'param'],
    ['parameters', 'param'],
    ['Params', 'param'],
    ['tags', 'tag'],
    ['tag', 'tag'],
  ] as const)('%s.<key> is a %s', (spelling, entity) => {
    const value = entity === 'metric' ? '1' : "'v'";
    expect(cmp(`${spelling}.k = ${value}`)).toEqual({ kind: 'cmp', entity, key: 'k', op: '=', value: entity === 'metric' ? 1 : 'v' });
  });

  it.each(['attributes', 'attribute', 'attr', 'run', 'Attributes'])('%s.<key> is an attribute', (spelling) => {
    expect(cmp(`${spelling}.run_name = 'n'`)).toEqual({ kind: 'cmp', entity: 'attribute', key: 'run_name', op: '=', value: 'n' });
  });

  it('takes dots, dashes and slashes into bare keys', () => {
    expect(cmp('metrics.eval/top-1.acc>=0.5').key).toBe('eval/top-1.acc');
    expect(cmp('metrics.a_b.c<1').key).toBe('a_b.c');
  });

  it('takes anything but the closing quote into backtick- and double-quoted keys', () => {
    expect(cmp('metrics.`my metric` > 1').key).toBe('my metric');
    expect(cmp('metrics."my metric" > 1').key).toBe('my metric');
    expect(cmp("tags.`it's \"quoted\"` = 'x'").key).toBe('it\'s "quoted"');
    expect(cmp("tags.\"back`tick'\" = 'x'").key).toBe("back`tick'");
    expect(cmp("params.`a > b AND c OR (d); --` = 'x'").key).toBe('a > b AND c OR (d); --');
    expect(cmp("params.`eval.acc` = 'x'").key).toBe('eval.acc');
    expect(cmp("params.`back\\slash` = 'x'").key).toBe('back\\slash');
    expect(cmp("params.`ключ 🚀` = 'x'").key).toBe('ключ 🚀');
  });

  it('accepts quoted attribute names', () => {
    expect(cmp('attributes.`start_time` > 5')).toMatchObject({ entity: 'attribute', key: 'start_time', value: 5 });
  });

  it('rejects malformed identifiers', () => {
    rejects('foo.bar = 1', /unknown entity "foo"; expected metrics, params, tags or attributes/, 0);
    rejects('datasets.name = 1', /unknown entity "datasets"/, 0);
    rejects("status = 'RUNNING'", /unexpected word "status"/, 0);
    rejects('metrics = 1', /expected "metrics\." followed by a key/, 7);
    rejects('metrics .a = 1', /expected "metrics\." followed by a key/);
    rejects('metrics. = 1', /expected a key after "metrics\."/, 8);
    rejects('metrics.', /expected a key after "metrics\."/, 8);
    rejects('metrics.`acc > 1', /unterminated quoted key/, 8);
    rejects('metrics."acc > 1', /unterminated quoted key/, 8);
    rejects('metrics.`` > 1', /empty key/, 8);
    rejects('metrics.añ > 1', /unexpected character "ñ" in key; put keys with special characters in backticks/, 9);
    rejects('metrics.a;b > 1', /unexpected character ";" in key/, 9);
    rejects("params.a'x' = 'y'", /unexpected character "'" in key/);
    rejects('`metrics`.a > 1', /unexpected character "`"/, 0);
  });

  it('rejects unknown attributes, listing the valid ones', () => {
    rejects(
      "attributes.name = 'x'",
      /unknown attribute "name"; valid attributes are run_id, run_name, status, user_id, artifact_uri, lifecycle_stage, start_time, end_time/,
      11,
    );
    rejects("attributes.Status = 'RUNNING'", /unknown attribute "Status"/);
    rejects("attributes.`__proto__` = 'x'", /unknown attribute "__proto__"/);
  });
});

describe('values', () => {
  it.each([
    ['0', 0],
    ['42', 42],
    ['-3', -3],
    ['0.5', 0.5],
    ['.5', 0.5],
    ['5.', 5],
    ['1e-3', 0.001],
    ['2.5E+10', 2.5e10],
    ['-1.5e-3', -0.0015],
    ['1e308', 1e308],
  ])('reads the number %s', (text, value) => {
    expect(cmp(`metrics.a = ${text}`).value).toBe(value);
  });

  it('keeps negative zero', () => {
    expect(Object.is(cmp('metrics.a = -0').value, -0)).toBe(true);
  });

  it('rejects malformed numbers', () => {
    rejects('metrics.a = 1.2.3', /malformed number "1.2."/, 12);
    rejects('metrics.a = 1e', /malformed number "1e"/);
    rejects('metrics.a = --1', /unexpected character "-"/);
    rejects('metrics.a = - 1', /unexpected character "-"/);
    rejects('metrics.a = 1x', /malformed number "1x"/);
    rejects('metrics.a = 0x10', /malformed number "0x"/);
    rejects('metrics.a = +1', /unexpected character "\+"/);
    rejects('metrics.a = 1e999', /number "1e999" is out of range/);
    rejects('metrics.a = NaN', /unexpected word "NaN"/);
  });

  it('reads single- and double-quoted strings', () => {
    expect(cmp("params.a = 'x y'").value).toBe('x y');
    expect(cmp('params.a = "x y"').value).toBe('x y');
    expect(cmp("params.a = ''").value).toBe('');
    expect(cmp('params.a = "it\'s"').value).toBe("it's");
    expect(cmp("params.a = 'say \"hi\"'").value).toBe('say "hi"');
  });

  it('unescapes only a backslash before the quote or another backslash', () => {
    expect(cmp("params.a = 'it\\'s'").value).toBe("it's");
    expect(cmp('params.a = "say \\"hi\\""').value).toBe('say "hi"');
    expect(cmp("params.a = 'a\\\\b'").value).toBe('a\\b');
    expect(cmp("params.a = 'a\\\\'").value).toBe('a\\');
    // Other backslashes stay, so LIKE patterns can escape % and _ as ClickHouse's like() expects.
    expect(cmp("params.a LIKE '100\\%'").value).toBe('100\\%');
    expect(cmp("params.a = 'a\\nb'").value).toBe('a\\nb');
  });

  it('keeps control characters and unicode in strings as they are', () => {
    expect(cmp("params.a = 'nul\0 nl\n tab\t'").value).toBe('nul\0 nl\n tab\t');
    expect(cmp("params.a = 'ünïcødé 日本語 🚀'").value).toBe('ünïcødé 日本語 🚀');
  });

  it('rejects unterminated strings', () => {
    rejects("params.a = 'abc", /unterminated string/, 11);
    rejects('params.a = "abc', /unterminated string/, 11);
    rejects("params.a = 'abc\\'", /unterminated string/, 11);
    rejects("params.a = 'abc\"", /unterminated string/, 11);
  });

  it('rejects unpaired surrogates, which no SQL literal can carry', () => {
    rejects("params.a = 'x\ud800'", /unpaired UTF-16 surrogate/, 13);
    rejects("params.a = '\udc00'", /unpaired UTF-16 surrogate/, 12);
  });

  it('reads IN lists of strings', () => {
    expect(cmp("params.a IN ('x')").value).toEqual(['x']);
    expect(cmp("params.a IN ('x', \"y\",'z' )").value).toEqual(['x', 'y', 'z']);
    expect(cmp("params.a NOT IN ('x','y')")).toMatchObject({ op: 'NOT IN', value: ['x', 'y'] });
  });

  it('rejects malformed IN lists', () => {
    rejects('params.a IN ()', /empty IN list/, 12);
    rejects("params.a IN ('x',)", /expected a quoted string after ",", got "\)"/);
    rejects("params.a IN 'x'", /expected a parenthesised list of strings after "IN", got "'x'"/);
    rejects("params.a IN ('x' 'y')", /expected ',' or '\)' in the IN list, got "'y'"/);
    rejects("params.a IN ('x'", /expected ',' or '\)' in the IN list, got the end of the filter/);
    rejects('params.a IN (1, 2)', /expected a quoted string after "\(", got "1" \(string values are quoted, e.g. '1'\)/);
    rejects("params.a IN (('x'))", /expected a quoted string after "\(", got "\("/);
  });
});

describe('operators', () => {
  it.each(['=', '!=', '<', '<=', '>', '>='] as const)('metrics take %s', (op) => {
    expect(cmp(`metrics.a ${op} 1`).op).toBe(op);
    expect(cmp(`metrics.a${op}1`).op).toBe(op);
  });

  it.each([
    ['=', '='],
    ['!=', '!='],
    ['LIKE', 'LIKE'],
    ['like', 'LIKE'],
    ['Like', 'LIKE'],
    ['ILIKE', 'ILIKE'],
    ['ilike', 'ILIKE'],
  ] as const)('params take %s', (text, op) => {
    expect(cmp(`params.a ${text} 'x%'`).op).toBe(op);
  });

  it('takes IN and NOT IN in any case', () => {
    expect(cmp("tags.a in ('x')").op).toBe('IN');
    expect(cmp("tags.a not   In ('x')").op).toBe('NOT IN');
  });

  it('rejects operators that do not exist', () => {
    rejects('metrics.a == 1', /"==" is not an operator; use '='/, 10);
    rejects('metrics.a <> 1', /"<>" is not an operator; use '!='/, 10);
    rejects("params.a NOT LIKE 'x'", /expected IN after NOT, got "LIKE"/);
    rejects('metrics.a ! 1', /unexpected character "!"/);
    rejects('metrics.a 1', /expected an operator \(=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN\), got "1"/, 10);
    rejects("params.a IS 'x'", /unexpected word "IS"/);
  });
});

describe('type rules (MLflow)', () => {
  it('compares metrics as numbers only', () => {
    rejects("metrics.a LIKE '1%'", /LIKE is not supported for metrics \(compared as numbers\); use one of =, !=, <, <=, >, >=/, 10);
    rejects("metrics.a ILIKE '1%'", /ILIKE is not supported for metrics/);
    rejects("metrics.a IN ('1')", /IN is not supported for metrics/);
    rejects("metrics.a = '1'", /expected a number after "=", got "'1'" \(numbers are written without quotes\)/, 12);
  });

  it('compares params and tags as strings, without ordering comparisons', () => {
    for (const op of ['<', '<=', '>', '>=']) {
      rejects(`params.a ${op} 'x'`, new RegExp(`${op} is not supported for params \\(compared as strings\\); use one of =, !=, LIKE, ILIKE, IN, NOT IN`), 9);
      rejects(`tags.a ${op} 'x'`, new RegExp(`${op} is not supported for tags`));
    }
    rejects('params.lr = 0.01', /expected a quoted string after "=", got "0.01" \(string values are quoted, e.g. '0.01'\)/, 12);
    rejects('tags.a = x', /unexpected word "x"/);
  });

  it('types attributes: times as whole numbers, the rest as strings', () => {
    expect(cmp('attributes.start_time >= 1700000000000').value).toBe(1_700_000_000_000);
    expect(cmp('attributes.end_time != -1')).toMatchObject({ key: 'end_time', op: '!=', value: -1 });
    rejects("attributes.start_time LIKE '17%'", /LIKE is not supported for attributes\.start_time \(compared as numbers\)/);
    rejects("attributes.start_time = '1'", /expected a number/);
    rejects('attributes.start_time > 1.5', /start_time is in milliseconds since the epoch and must be a whole number/, 24);
    rejects('attributes.end_time > 1e300', /whole number/);
    rejects('attributes.run_name > 1', /> is not supported for attributes\.run_name \(compared as strings\)/);
    expect(cmp("attributes.run_id IN ('r1', 'r2')").value).toEqual(['r1', 'r2']);
    expect(cmp("attributes.user_id ILIKE '%bob%'").op).toBe('ILIKE');
    expect(cmp("attributes.lifecycle_stage = 'active'").value).toBe('active');
    expect(cmp("attributes.artifact_uri LIKE 's3://%'").value).toBe('s3://%');
  });

  it("validates run statuses against MLflow's", () => {
    for (const status of ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED']) expect(cmp(`attributes.status = '${status}'`).value).toBe(status);
    expect(cmp("attributes.status NOT IN ('FAILED', 'KILLED')").value).toEqual(['FAILED', 'KILLED']);
    rejects("attributes.status = 'running'", /unknown run status "running"; valid statuses are RUNNING, SCHEDULED, FINISHED, FAILED, KILLED/, 20);
    rejects("attributes.status != 'DONE'", /unknown run status "DONE"/);
    rejects("attributes.status IN ('RUNNING', 'PAUSED')", /unknown run status "PAUSED"/);
    // Patterns are not statuses.
    expect(cmp("attributes.status LIKE 'RUN%'").value).toBe('RUN%');
    expect(cmp("attributes.status ILIKE '%ed'").value).toBe('%ed');
  });
});

describe('AND, OR and parentheses', () => {
  const parse = (text: string): FilterExpr | undefined => parseRunFilter(text);

  it('binds AND tighter than OR', () => {
    expect(parse(`${A} AND ${B} OR ${C}`)).toEqual({ kind: 'or', items: [{ kind: 'and', items: [a, b] }, c] });
    expect(parse(`${A} OR ${B} AND ${C}`)).toEqual({ kind: 'or', items: [a, { kind: 'and', items: [b, c] }] });
    expect(parse(`${A} AND ${B} OR ${C} AND ${A}`)).toEqual({
      kind: 'or',
      items: [
        { kind: 'and', items: [a, b] },
        { kind: 'and', items: [c, a] },
      ],
    });
  });

  it('collects chains of one operator into one node', () => {
    expect(parse(`${A} AND ${B} AND ${C}`)).toEqual({ kind: 'and', items: [a, b, c] });
    expect(parse(`${A} OR ${B} OR ${C}`)).toEqual({ kind: 'or', items: [a, b, c] });
  });

  it('groups with parentheses', () => {
    expect(parse(`${A} AND (${B} OR ${C})`)).toEqual({ kind: 'and', items: [a, { kind: 'or', items: [b, c] }] });
    expect(parse(`(${A} OR ${B}) AND ${C}`)).toEqual({ kind: 'and', items: [{ kind: 'or', items: [a, b] }, c] });
    expect(parse(`((${A}))`)).toEqual(a);
    expect(parse(`(${A}) AND ((${B}) OR (${C}))`)).toEqual({ kind: 'and', items: [a, { kind: 'or', items: [b, c] }] });
  });

  it('reads AND and OR in any case, with or without spaces around parentheses', () => {
    expect(parse(`${A} and ${B} Or ${C}`)).toEqual(parse(`${A} AND ${B} OR ${C}`));
    expect(parse(`(${A})AND(${B})`)).toEqual({ kind: 'and', items: [a, b] });
    expect(parse(`metrics.a>1 and params.b='x'`)).toEqual({ kind: 'and', items: [a, b] });
  });

  it('rejects broken structure', () => {
    rejects('()', /empty parentheses/, 0);
    rejects(`${A} AND ()`, /empty parentheses/, 18);
    rejects(`${A} AND AND ${B}`, /expected a comparison such as metrics.acc > 0.9, got "AND"/, 18);
    rejects(`AND ${A}`, /expected a comparison .*, got "AND"/, 0);
    rejects(`${A} AND`, /expected a comparison .*, got the end of the filter/, 17);
    rejects(`${A} OR`, /got the end of the filter/);
    rejects(`${A} ${B}`, /expected AND, OR or the end of the filter, got "params\.b"/, 14);
    rejects(`${A} 2`, /expected AND, OR or the end of the filter, got "2"/, 14);
    rejects(`${A})`, /unmatched '\)'/, 13);
    rejects(`(${A}`, /expected AND, OR or '\)' to close the '\(' at position 0, got the end of the filter/, 14);
    rejects(`(${A} ${B})`, /expected AND, OR or '\)' to close/);
    rejects(`${A} AND NOT ${B}`, /expected a comparison .*, got "NOT"/);
    rejects('metrics.a >', /expected a number after ">", got the end of the filter/, 11);
    rejects("params.a =", /expected a quoted string after "=", got the end of the filter/);
    rejects("params.a = AND params.b = 'x'", /expected a quoted string after "=", got "AND"/);
    rejects(`${A};`, /unexpected character ";"/, 13);
  });
});

describe('limits', () => {
  it(`accepts up to ${MAX_COMPARISONS} comparisons`, () => {
    const filter = Array.from({ length: MAX_COMPARISONS }, () => A).join(' OR ');
    expect((parseRunFilter(filter) as { items: unknown[] }).items).toHaveLength(MAX_COMPARISONS);
    rejects(`${filter} OR ${A}`, /more than 100 comparisons/, filter.length + 4);
  });

  it(`accepts parentheses nested ${MAX_NESTING} deep`, () => {
    const nested = (depth: number): string => `${'('.repeat(depth)}${A}${')'.repeat(depth)}`;
    expect(parseRunFilter(nested(MAX_NESTING))).toEqual(a);
    rejects(nested(MAX_NESTING + 1), /parentheses are nested more than 20 deep/, MAX_NESTING);
    // Deep input fails fast instead of exhausting the stack.
    rejects(`${'('.repeat(9_000)}${A}`, /nested more than 20 deep/, MAX_NESTING);
  });

  it('accepts filters up to 10,000 characters', () => {
    expect(parseRunFilter(A.padEnd(10_000, ' '))).toEqual(a);
    rejects(A.padEnd(10_001, ' '), /text is longer than 10000 characters/, 10_000);
  });

  it('accepts keys up to 250 characters', () => {
    expect(cmp(`metrics.${'k'.repeat(250)} > 1`).key).toHaveLength(250);
    expect(cmp(`metrics.\`${'k '.repeat(125)}\` > 1`).key).toHaveLength(250);
    rejects(`metrics.${'k'.repeat(251)} > 1`, /key is longer than 250 characters/, 8);
    rejects(`metrics.\`${'k'.repeat(251)}\` > 1`, /key is longer than 250 characters/, 8);
  });
});

describe('injection attempts are rejected or kept as plain values', () => {
  it("rejects SQL-style doubled quotes, with a hint to use \\'", () => {
    rejects("params.x = 'a'' OR 1=1 --'", /expected AND, OR or the end of the filter, got "' OR 1=1 --'" \(write \\' for a quote inside a string\)/, 14);
  });

  it('rejects SQL outside strings', () => {
    rejects("params.x = 'a' OR 1=1 --", /expected a comparison such as metrics.acc > 0.9, got "1"/, 18);
    rejects("params.x = 'a' OR 1 --", /expected a comparison such as metrics.acc > 0.9, got "1"/, 18);
    rejects("params.x = 'a'; DROP TABLE runs_v1", /unexpected character ";"/, 14);
    rejects("params.x = 'a' -- comment", /unexpected character "-"/);
    rejects("params.x = 'a' /* c */", /unexpected character "\/"/);
    rejects('metrics.a > 1 UNION SELECT 1', /unexpected word "UNION"/);
    rejects("params.x = 'a' OR params.y = ''; --'", /unexpected character ";"/);
  });

  it('keeps quotes, backslashes and SQL text inside values and keys as data', () => {
    expect(cmp("params.x = 'a\\' OR 1=1 --'").value).toBe("a' OR 1=1 --");
    expect(cmp("params.x = '\\\\\\' OR 1=1 --'").value).toBe("\\' OR 1=1 --");
    expect(cmp('params.x = "\'); DROP TABLE runs_v1; --"').value).toBe("'); DROP TABLE runs_v1; --");
    expect(cmp("params.`x'; DROP TABLE runs_v1; --` = 'v'").key).toBe("x'; DROP TABLE runs_v1; --");
  });
});

describe('FilterSyntaxError', () => {
  it('carries the position in the filter and in its message', () => {
    const err = syntaxError("params.a = 'x' AND metrics.b LIKE 'y'");
    expect(err.name).toBe('FilterSyntaxError');
    expect(err.position).toBe(29);
    expect(err.message).toBe('LIKE is not supported for metrics (compared as numbers); use one of =, !=, <, <=, >, >= (filter position 29)');
  });

  it('quotes user text in messages safely and briefly', () => {
    const err = syntaxError(`params.a = 'x' ${'z'.repeat(100)}\n`);
    expect(err.message).toContain(`"${'z'.repeat(40)}…"`);
    expect(syntaxError('metrics.a = 1 \0').message).toContain('"\\u0000"');
  });
});

describe('min() and max() of metrics', () => {
  it('compare a metric’s extremes instead of its latest value', () => {
    expect(parseRunFilter('min(metrics.loss) < 0.2')).toEqual({ kind: 'cmp', entity: 'metric', key: 'loss', op: '<', value: 0.2, aggregate: 'min' });
    expect(parseRunFilter('MAX(metrics.`val acc`) >= 0.9')).toMatchObject({ key: 'val acc', aggregate: 'max' });
    expect(parseRunFilter('metrics.loss < 0.2')).not.toHaveProperty('aggregate');
  });

  it('nest inside AND, OR and parentheses like any comparison', () => {
    const expr = parseRunFilter("params.a = 'x' AND (min(metrics.loss) < 1 OR max(metrics.acc) > 0.5)");
    expect(expr).toMatchObject({ kind: 'and', items: [{ entity: 'param' }, { kind: 'or', items: [{ aggregate: 'min' }, { aggregate: 'max' }] }] });
  });

  it('accept metrics only, and a closed call', () => {
    expect(syntaxError("min(params.lr) = '1'").message).toContain('a metric such as metrics.loss inside min( )');
    expect(syntaxError('max(metrics.loss > 1').message).toContain("')' to close max(");
    expect(syntaxError('min (metrics.loss) > 1').message).toContain('unexpected word "min"');
    expect(syntaxError('avg(metrics.loss) > 1').message).toContain('unexpected word "avg"');
  });
});
