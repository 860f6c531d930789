import { describe, expect, it } from 'vitest';
import { likePattern, matchesFilter, orderComparator, parseEntityFilter, parseOrderBy, STRING_OPS, type FilterGrammar } from './entity-filter.ts';

const GRAMMAR: FilterGrammar = {
  attributes: { name: { type: 'string', ops: ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'] }, version_number: { type: 'number', ops: ['=', '<', '>=', '>'] } },
  tagOps: STRING_OPS,
};

describe('parseEntityFilter', () => {
  it("reads the 3.x client's default registry filter and compound filters", () => {
    expect(parseEntityFilter("name LIKE 'churn%' AND tag.`mlflow.prompt.is_prompt` != 'true'", GRAMMAR)).toEqual([
      { kind: 'attribute', key: 'name', op: 'LIKE', value: 'churn%' },
      { kind: 'tag', key: 'mlflow.prompt.is_prompt', op: '!=', value: 'true' },
    ]);
    expect(parseEntityFilter(`tags."a b" = "x" and version_number >= 2 AND name IN ('a', 'b') AND name NOT IN ('c')`, GRAMMAR)).toEqual([
      { kind: 'tag', key: 'a b', op: '=', value: 'x' },
      { kind: 'attribute', key: 'version_number', op: '>=', value: 2 },
      { kind: 'attribute', key: 'name', op: 'IN', value: ['a', 'b'] },
      { kind: 'attribute', key: 'name', op: 'NOT IN', value: ['c'] },
    ]);
    expect(parseEntityFilter("attributes.name = 'it''s'".replace("''", "\\'"), GRAMMAR)).toEqual([{ kind: 'attribute', key: 'name', op: '=', value: "it's" }]);
    expect(parseEntityFilter('  ', GRAMMAR)).toEqual([]);
  });

  it('refuses unknown fields, comparators, OR and malformed values with INVALID_PARAMETER_VALUE', () => {
    for (const bad of ["owner = 'x'", "name < 'x'", "name = 'a' OR name = 'b'", 'name = x', "name = 'open", 'version_number = abc', "tags.k IN ('a')", "name = 'a' AND"]) {
      expect(() => parseEntityFilter(bad, GRAMMAR), bad).toThrow(expect.objectContaining({ errorCode: 'INVALID_PARAMETER_VALUE' }));
    }
  });
});

describe('matchesFilter', () => {
  const tags = new Map([['team', 'growth']]);
  it('compares attributes and needs a filtered tag to exist', () => {
    const f = (text: string) => matchesFilter(parseEntityFilter(text, GRAMMAR), (k) => (k === 'name' ? 'Churn_v2' : 3), tags);
    expect(f("name LIKE 'Churn%'")).toBe(true);
    expect(f("name LIKE 'churn%'")).toBe(false);
    expect(f("name ILIKE 'churn%'")).toBe(true);
    expect(f("name LIKE 'Churn_v_'")).toBe(true);
    expect(f("tags.team = 'growth' AND version_number > 2")).toBe(true);
    expect(f("tags.owner != 'x'")).toBe(false);
    expect(f("name IN ('a', 'Churn_v2')")).toBe(true);
  });
  it('escapes regular-expression characters in LIKE patterns', () => {
    expect(likePattern('a.b%', false).test('axb')).toBe(false);
    expect(likePattern('a.b%', false).test('a.bc')).toBe(true);
  });
});

describe('parseOrderBy', () => {
  const fields = { name: 'name', timestamp: 'last_updated_timestamp', last_updated_timestamp: 'last_updated_timestamp' };
  it('maps aliases, reads directions and refuses unknown or repeated fields', () => {
    expect(parseOrderBy(['timestamp DESC', 'name'], fields)).toEqual([
      { key: 'last_updated_timestamp', ascending: false },
      { key: 'name', ascending: true },
    ]);
    expect(() => parseOrderBy(['owner'], fields)).toThrow(/Invalid order by key/);
    expect(() => parseOrderBy(['timestamp', 'last_updated_timestamp DESC'], fields)).toThrow(/duplicate/);
  });
  it('sorts by every term in turn', () => {
    const rows = [{ n: 'b', t: 1 }, { n: 'a', t: 1 }, { n: 'c', t: 2 }];
    rows.sort(orderComparator([{ key: 't', ascending: false }, { key: 'n', ascending: true }], (r, k) => (k === 't' ? r.t : r.n)));
    expect(rows.map((r) => r.n)).toEqual(['c', 'a', 'b']);
  });
});
