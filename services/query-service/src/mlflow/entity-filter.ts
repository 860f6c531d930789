// MLflow's search grammar for registered models, model versions and experiments: comparisons joined by AND, on
// attributes (`name`, `version_number`, `creation_time`, …) or tags (`tags.key`, ``tag.`a.b` ``), with =, !=, <, <=,
// >, >=, LIKE, ILIKE, IN and NOT IN where the field allows them. These entities are few (registries and experiment
// lists, not runs), so the routes evaluate the parsed filter over the rows; nothing here knows about SQL.
import { invalid } from './mlflow-errors.ts';

export type FieldType = 'string' | 'number';
export type Op = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';

export interface FieldRule {
  type: FieldType;
  ops: readonly Op[];
}

export interface FilterGrammar {
  /** Accepted attribute names (also written `attribute.name` / `attributes.name`) and their operators. */
  attributes: Record<string, FieldRule>;
  tagOps: readonly Op[];
}

export type Clause =
  | { kind: 'attribute'; key: string; op: Op; value: string | number | string[] }
  | { kind: 'tag'; key: string; op: Op; value: string };

export const STRING_OPS: readonly Op[] = ['=', '!=', 'LIKE', 'ILIKE'];
export const NUMBER_OPS: readonly Op[] = ['=', '!=', '<', '<=', '>', '>='];

type Token = { kind: 'word'; text: string } | { kind: 'string'; text: string } | { kind: 'number'; text: string } | { kind: 'op'; text: string } | { kind: '(' | ')' | ',' };

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      out.push({ kind: c });
      i++;
    } else if (c === "'" || c === '"') {
      let value = '';
      let j = i + 1;
      for (; j < text.length && text[j] !== c; j++) {
        if (text[j] === '\\' && (text[j + 1] === c || text[j + 1] === '\\')) j++;
        value += text[j];
      }
      if (j >= text.length) throw invalid(`Invalid filter '${text}': unterminated string`);
      out.push({ kind: 'string', text: value });
      i = j + 1;
    } else if (/[!<>=]/.test(c)) {
      const op = /^(!=|<=|>=|=|<|>)/.exec(text.slice(i))?.[0];
      if (!op) throw invalid(`Invalid filter '${text}': unexpected '${c}'`);
      out.push({ kind: 'op', text: op });
      i += op.length;
    } else if (/[\d.-]/.test(c)) {
      const n = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(text.slice(i))?.[0];
      if (!n) throw invalid(`Invalid filter '${text}': unexpected '${c}'`);
      out.push({ kind: 'number', text: n });
      i += n.length;
    } else {
      // An identifier: words, dots and backtick- or double-quoted parts (tags.`mlflow.prompt.is_prompt`).
      let word = '';
      let j = i;
      while (j < text.length) {
        const d = text[j]!;
        if (d === '`' || (d === '"' && word.endsWith('.'))) {
          const close = text.indexOf(d, j + 1);
          if (close < 0) throw invalid(`Invalid filter '${text}': unterminated quoted key`);
          word += `\u0000${text.slice(j + 1, close)}`;
          j = close + 1;
        } else if (/[\w.\-/]/.test(d)) {
          word += d;
          j++;
        } else {
          break;
        }
      }
      if (j === i) throw invalid(`Invalid filter '${text}': unexpected '${c}'`);
      out.push({ kind: 'word', text: word });
      i = j;
    }
  }
  return out;
}

/** Parses `filter` for `grammar`; an empty filter is no clause. Errors are MLflow's INVALID_PARAMETER_VALUE. */
export function parseEntityFilter(filter: string | undefined, grammar: FilterGrammar): Clause[] {
  const text = (filter ?? '').trim();
  if (!text) return [];
  const tokens = tokenize(text);
  const clauses: Clause[] = [];
  let i = 0;
  const bad = (why: string) => invalid(`Invalid filter '${text}': ${why}`);
  for (;;) {
    const field = tokens[i++];
    if (field?.kind !== 'word') throw bad('expected a field name');
    let kind: 'attribute' | 'tag';
    let key: string;
    const dot = field.text.indexOf('.');
    const entity = dot < 0 ? '' : field.text.slice(0, dot).toLowerCase();
    if (dot >= 0 && (entity === 'tag' || entity === 'tags')) {
      kind = 'tag';
      key = field.text.slice(dot + 1).replace(/\u0000/g, '');
    } else if (dot >= 0 && (entity === 'attribute' || entity === 'attributes')) {
      kind = 'attribute';
      key = field.text.slice(dot + 1).replace(/\u0000/g, '');
    } else if (dot < 0) {
      kind = 'attribute';
      key = field.text.replace(/\u0000/g, '');
    } else {
      throw bad(`invalid field '${field.text.replace(/\u0000/g, '')}'`);
    }
    if (!key) throw bad('empty key');
    const opToken = tokens[i++];
    let op: Op;
    if (opToken?.kind === 'op') op = opToken.text as Op;
    else if (opToken?.kind === 'word' && /^(LIKE|ILIKE|IN)$/i.test(opToken.text)) op = opToken.text.toUpperCase() as Op;
    else if (opToken?.kind === 'word' && /^NOT$/i.test(opToken.text) && tokens[i]?.kind === 'word' && /^IN$/i.test((tokens[i] as { text: string }).text)) {
      i++;
      op = 'NOT IN';
    } else throw bad(`expected a comparator after '${key}'`);
    const rule: FieldRule | undefined = kind === 'tag' ? { type: 'string', ops: grammar.tagOps } : grammar.attributes[key];
    if (!rule) throw invalid(`Invalid attribute name: ${key}`);
    if (!rule.ops.includes(op)) throw invalid(`Invalid comparator for ${kind === 'tag' ? 'tag' : `attribute ${key}`}: ${op}`);
    let value: string | number | string[];
    if (op === 'IN' || op === 'NOT IN') {
      if (tokens[i++]?.kind !== '(') throw bad(`expected '(' after ${op}`);
      const list: string[] = [];
      for (;;) {
        const v = tokens[i++];
        if (v?.kind !== 'string') throw bad(`expected a quoted string in the ${op} list`);
        list.push(v.text);
        const sep = tokens[i++];
        if (sep?.kind === ')') break;
        if (sep?.kind !== ',') throw bad(`expected ',' or ')' in the ${op} list`);
      }
      value = list;
    } else {
      const v = tokens[i++];
      if (rule.type === 'number') {
        if (v?.kind !== 'number' && v?.kind !== 'string') throw bad(`expected a number for '${key}'`);
        const n = Number(v.text);
        if (v.text.trim() === '' || !Number.isFinite(n)) throw invalid(`Invalid value for numeric attribute '${key}': ${JSON.stringify(v.text)}`);
        value = n;
      } else {
        if (v?.kind !== 'string') throw bad(`expected a quoted string for '${key}'`);
        value = v.text;
      }
    }
    clauses.push(kind === 'tag' ? { kind, key, op, value: value as string } : { kind, key, op, value });
    const next = tokens[i++];
    if (next === undefined) return clauses;
    if (next.kind !== 'word' || next.text.toUpperCase() !== 'AND') throw bad("comparisons are joined with 'AND'");
  }
}

/** SQL LIKE as a regular expression: % any run, _ one character; ILIKE ignores case. */
export function likePattern(pattern: string, ignoreCase: boolean): RegExp {
  const body = [...pattern].map((c) => (c === '%' ? '.*' : c === '_' ? '.' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, ignoreCase ? 'is' : 's');
}

function compare(actual: string | number, op: Op, expected: string | number | string[]): boolean {
  switch (op) {
    case '=':
      return actual === expected;
    case '!=':
      return actual !== expected;
    case '<':
      return Number(actual) < (expected as number);
    case '<=':
      return Number(actual) <= (expected as number);
    case '>':
      return Number(actual) > (expected as number);
    case '>=':
      return Number(actual) >= (expected as number);
    case 'LIKE':
    case 'ILIKE':
      return likePattern(expected as string, op === 'ILIKE').test(String(actual));
    case 'IN':
      return (expected as string[]).includes(String(actual));
    case 'NOT IN':
      return !(expected as string[]).includes(String(actual));
  }
}

/** True when the row passes every clause; a tag clause needs the tag to exist (as MLflow's join does). */
export function matchesFilter(clauses: Clause[], attribute: (key: string) => string | number, tags: Map<string, string>): boolean {
  return clauses.every((c) => {
    if (c.kind === 'tag') {
      const v = tags.get(c.key);
      return v !== undefined && compare(v, c.op, c.value);
    }
    return compare(attribute(c.key), c.op, c.value);
  });
}

export interface OrderTerm {
  key: string;
  ascending: boolean;
}

/**
 * order_by entries `field [ASC|DESC]` with the field mapped through `fields` (alias → canonical key); a field
 * may appear once.
 */
export function parseOrderBy(list: unknown, fields: Record<string, string>): OrderTerm[] {
  if (list === undefined || list === null) return [];
  const items = Array.isArray(list) ? list : [list];
  const seen = new Set<string>();
  return items.map((raw) => {
    const m = /^\s*(?:attributes?\.)?([\w.`]+)\s*(ASC|DESC)?\s*$/i.exec(String(raw));
    const key = m ? fields[m[1]!.replace(/`/g, '')] : undefined;
    if (!m || !key) throw invalid(`Invalid order by key '${String(raw)}' specified. Valid keys are ${[...new Set(Object.keys(fields))].join(', ')}`);
    if (seen.has(key)) throw invalid(`\`order_by\` contains duplicate fields: ${JSON.stringify(items)}`);
    seen.add(key);
    return { key, ascending: (m[2] ?? 'ASC').toUpperCase() === 'ASC' };
  });
}

/** A comparator for Array.sort over order terms; `value` reads a field of a row. */
export function orderComparator<T>(terms: OrderTerm[], value: (row: T, key: string) => string | number): (a: T, b: T) => number {
  return (a, b) => {
    for (const t of terms) {
      const x = value(a, t.key);
      const y = value(b, t.key);
      const c = x < y ? -1 : x > y ? 1 : 0;
      if (c !== 0) return t.ascending ? c : -c;
    }
    return 0;
  };
}
