import { describe, expect, it } from 'vitest';
import { ident, literal, quoteFloat, quoteIdentifier, quoteInt, quoteString, sql, SqlLiteralError } from './sql-literal.ts';

describe('quoteString', () => {
  it('escapes quotes and backslashes so the literal cannot be closed early', () => {
    expect(quoteString("it's")).toBe("'it\\'s'");
    expect(quoteString('back\\slash')).toBe("'back\\\\slash'");
    expect(quoteString("\\' OR 1=1 --")).toBe("'\\\\\\' OR 1=1 --'");
    expect(quoteString("'; DROP TABLE metric_points_v1; --")).toBe("'\\'; DROP TABLE metric_points_v1; --'");
  });

  it('escapes NUL and every other control character', () => {
    expect(quoteString('a\0b')).toBe("'a\\0b'");
    expect(quoteString('\n\r\t\b\f')).toBe("'\\n\\r\\t\\b\\f'");
    expect(quoteString('\u0001\u001f\u007f')).toBe("'\\x01\\x1f\\x7f'");
  });

  it('keeps unicode as is', () => {
    expect(quoteString('accuracy/δ 😀 精度')).toBe("'accuracy/δ 😀 精度'");
  });

  it('handles very long strings in linear time', () => {
    const long = "'\\".repeat(500_000);
    const started = performance.now();
    const quoted = quoteString(long);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(quoted.length).toBe(2 + 4 * 500_000);
    // No unescaped quote survives inside the literal.
    expect(/(^|[^\\])(\\\\)*'/.test(quoted.slice(1, -1))).toBe(false);
  });

  it('rejects lone surrogates and non-strings', () => {
    expect(() => quoteString('\ud800')).toThrow(SqlLiteralError);
    expect(() => quoteString(42 as unknown as string)).toThrow(SqlLiteralError);
  });
});

describe('numbers and identifiers', () => {
  it('spells NaN and infinities as ClickHouse parses them', () => {
    expect(quoteFloat(NaN)).toBe('nan');
    expect(quoteFloat(Infinity)).toBe('inf');
    expect(quoteFloat(-Infinity)).toBe('-inf');
    expect(quoteFloat(0.1)).toBe('toFloat64(0.1)');
    expect(quoteFloat(-0)).toBe('toFloat64(-0.)');
  });

  it('spells subnormal doubles as their bytes (ClickHouse 18.16 cannot parse them as literals)', () => {
    expect(quoteFloat(5e-324)).toBe("reinterpretAsFloat64(unhex('0100000000000000'))");
    expect(quoteFloat(-5e-324)).toBe("reinterpretAsFloat64(unhex('0100000000000080'))");
    expect(quoteFloat(2.2250738585072014e-308)).toBe('toFloat64(2.2250738585072014e-308)');
  });

  it('sends whole numbers beyond 2^53 and -0 through the sql tag as floats, not integers', () => {
    expect(literal(1e308)).toBe('toFloat64(1e+308)');
    expect(literal(-0)).toBe('toFloat64(-0.)');
    expect(literal(2 ** 53)).toBe('toFloat64(9007199254740992)');
    expect(literal(42)).toBe('42');
  });

  it('accepts only exact integers', () => {
    expect(quoteInt(42)).toBe('42');
    expect(quoteInt(-7n)).toBe('-7');
    expect(() => quoteInt(2 ** 60)).toThrow(SqlLiteralError);
    expect(() => quoteInt(1.5)).toThrow(SqlLiteralError);
  });

  it('allows only plain identifiers', () => {
    expect(quoteIdentifier('runstream_test')).toBe('`runstream_test`');
    for (const bad of ['a`b', 'a b', '1abc', '', 'x;DROP', 'a'.repeat(200)]) expect(() => quoteIdentifier(bad)).toThrow(SqlLiteralError);
  });
});

describe('sql tag', () => {
  it('escapes every interpolation and leaves fragments alone', () => {
    const id = "r'1";
    const q = sql`SELECT * FROM ${ident('t')} WHERE id = ${id} AND step IN ${[1, 2]} AND v > ${0.5}`;
    expect(q.text).toBe("SELECT * FROM `t` WHERE id = 'r\\'1' AND step IN (1, 2) AND v > toFloat64(0.5)");
    const nested = sql`SELECT 1 WHERE 1${sql` AND x = ${'a'}`}`;
    expect(nested.text).toBe("SELECT 1 WHERE 1 AND x = 'a'");
  });

  it('refuses values it cannot represent safely', () => {
    expect(() => literal([])).toThrow(SqlLiteralError);
    expect(() => literal({} as never)).toThrow(SqlLiteralError);
  });
});
