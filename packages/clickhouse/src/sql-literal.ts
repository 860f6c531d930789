// The one place where values become SQL text. Every literal in every query goes through these functions;
// nothing else may concatenate input into SQL. Works on ClickHouse 18.16 and current versions alike
// (neither server-side query parameters nor newer escape syntax are needed).

export class SqlLiteralError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SqlLiteralError';
  }
}

const ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  "'": "\\'",
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\0': '\\0',
  '\b': '\\b',
  '\f': '\\f',
};

/** A string literal in single quotes. Backslash, quote and every control character are escaped. */
export function quoteString(value: string): string {
  if (typeof value !== 'string') throw new SqlLiteralError(`expected a string, got ${typeof value}`);
  if (value.isWellFormed && !value.isWellFormed()) throw new SqlLiteralError('string contains unpaired UTF-16 surrogates');
  // eslint-disable-next-line no-control-regex
  return `'${value.replace(/[\\'\u0000-\u001f\u007f]/g, (c) => ESCAPES[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}'`;
}

const MIN_NORMAL = 2.2250738585072014e-308;
const FLOAT_SCRATCH = Buffer.alloc(8);

/** A Float64 literal; NaN and the infinities are spelled the way ClickHouse parses them. */
export function quoteFloat(value: number): string {
  if (typeof value !== 'number') throw new SqlLiteralError(`expected a number, got ${typeof value}`);
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  // ClickHouse 18.16 cannot parse subnormal literals (it reads them as a syntax error, or as 0 from a string):
  // those are spelled as their IEEE bytes, which every version reads back bit-exactly.
  if (value !== 0 && Math.abs(value) < MIN_NORMAL) {
    FLOAT_SCRATCH.writeDoubleLE(value, 0);
    return `reinterpretAsFloat64(unhex('${FLOAT_SCRATCH.toString('hex')}'))`;
  }
  // toString is the shortest text that round-trips to the same double.
  return `toFloat64(${Object.is(value, -0) ? '-0.' : String(value)})`;
}

/** An integer literal; only exact (safe) integers or bigints are accepted. */
export function quoteInt(value: number | bigint): string {
  if (typeof value === 'bigint') return value.toString();
  if (!Number.isSafeInteger(value)) throw new SqlLiteralError(`expected a safe integer, got ${value}`);
  return String(value);
}

/** An identifier (database, table, column) in backquotes. Only plain names are allowed. */
export function quoteIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(name)) throw new SqlLiteralError(`not a plain identifier: ${JSON.stringify(name)}`);
  return `\`${name}\``;
}

export type SqlValue = string | number | bigint | boolean | SqlFragment | readonly (string | number | bigint)[];

/** Pre-escaped SQL produced by the `sql` tag; embedding it in another `sql` tag does not escape it again. */
export class SqlFragment {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toString(): string {
    return this.text;
  }
}

export function literal(value: SqlValue): string {
  if (value instanceof SqlFragment) return value.text;
  if (typeof value === 'string') return quoteString(value);
  if (typeof value === 'bigint') return quoteInt(value);
  if (typeof value === 'boolean') return value ? '1' : '0';
  // Exact integers as integers; everything else (fractions, -0, integers beyond 2^53, NaN, infinities) as Float64.
  if (typeof value === 'number') return Number.isSafeInteger(value) && !Object.is(value, -0) ? quoteInt(value) : quoteFloat(value);
  if (Array.isArray(value)) {
    if (value.length === 0) throw new SqlLiteralError('empty list');
    return `(${value.map((v) => literal(v)).join(', ')})`;
  }
  throw new SqlLiteralError(`unsupported SQL value of type ${typeof value}`);
}

/**
 * Tagged template: sql`SELECT … WHERE id = ${id}` escapes every interpolation as a literal.
 * Identifiers must be wrapped with ident() explicitly.
 */
export function sql(strings: TemplateStringsArray, ...values: SqlValue[]): SqlFragment {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += literal(values[i]!) + strings[i + 1]!;
  return new SqlFragment(out);
}

export function ident(name: string): SqlFragment {
  return new SqlFragment(quoteIdentifier(name));
}

export function joinSql(parts: SqlFragment[], separator: string): SqlFragment {
  return new SqlFragment(parts.map((p) => p.text).join(separator));
}

/** An array literal `[a, b, …]` of escaped values (a list in the `sql` tag is a tuple, for IN). */
export function sqlArray(values: readonly (string | number | bigint)[]): SqlFragment {
  if (values.length === 0) throw new SqlLiteralError('empty array');
  return new SqlFragment(`[${values.map((v) => literal(v)).join(', ')}]`);
}
