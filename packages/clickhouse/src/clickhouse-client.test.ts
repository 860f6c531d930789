import { expect, it } from 'vitest';
import { unescapeTabSeparated } from './clickhouse-client.ts';

it('undoes TabSeparated escaping (as ClickHouse writes String fields)', () => {
  expect(unescapeTabSeparated('plain')).toBe('plain');
  expect(unescapeTabSeparated('a\\tb\\nc\\\\d\\\'e\\0f\\rg')).toBe("a\tb\nc\\d'e\0f\rg");
  expect(unescapeTabSeparated('\\\\t')).toBe('\\t');
});
