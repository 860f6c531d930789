// Tokens of MLflow's search syntax, shared by the filter and order_by parsers. Identifiers are resolved here
// (entity spelling, quoted or bare key, attribute name), so both parsers accept exactly the same field names.
import { ATTRIBUTE_NAMES, ENTITY_NAMES, entityNamed, isAttributeName, type Entity } from './run-fields.ts';

export const MAX_TEXT_LENGTH = 10_000;
/** MLflow's limit on metric, param and tag keys. */
export const MAX_KEY_LENGTH = 250;

export class FilterSyntaxError extends Error {
  /** Offset (UTF-16 code units) in the text that was parsed. */
  readonly position: number;
  constructor(reason: string, position: number, source = 'filter') {
    super(`${reason} (${source} position ${position})`);
    this.name = 'FilterSyntaxError';
    this.position = position;
  }
}

export type Comparator = '=' | '!=' | '<' | '<=' | '>' | '>=';
export type MetricAggregate = 'min' | 'max';
export type Keyword = 'AND' | 'OR' | 'NOT' | 'IN' | 'LIKE' | 'ILIKE' | 'ASC' | 'DESC';
const KEYWORDS = new Set<string>(['AND', 'OR', 'NOT', 'IN', 'LIKE', 'ILIKE', 'ASC', 'DESC']);

interface Span {
  pos: number;
  end: number;
}
export type Token = Span &
  (
    | { kind: 'identifier'; entity: Entity; key: string }
    | { kind: 'string'; value: string }
    | { kind: 'number'; value: number }
    | { kind: 'comparator'; op: Comparator }
    | { kind: 'keyword'; word: Keyword }
    /** min( or max( — the extreme of a metric instead of its latest value. */
    | { kind: 'aggregate'; fn: MetricAggregate }
    | { kind: '(' | ')' | ',' | 'end' }
  );

const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
// MLflow allows dots, dashes and slashes in unquoted keys (`metrics.eval/top-1.acc`); anything else needs quotes.
const BARE_KEY = /[\w.\-/]+/y;
const NUMBER = /-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
/** What may follow a bare key directly: anything else is taken as a character the key cannot hold. */
const KEY_END = /[\s=!<>(),]/;
/** Characters that would continue a number: `1.2.3`, `1e`, `0x10` are malformed, not two tokens. */
const NUMBER_CONTINUATION = /[\w.]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function match(re: RegExp, text: string, at: number): string | undefined {
  re.lastIndex = at;
  return re.exec(text)?.[0];
}

/** A short, printable rendering of user text for error messages. */
export function quoteForMessage(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

/**
 * A reader of the tokens of text, one per call; after the last token it keeps returning 'end'. Tokens are read on
 * demand, so that the parser reports the first error in the text, whether it is a bad token or bad grammar.
 */
export function tokenReader(text: string, source = 'filter'): () => Token {
  // Annotated so that TypeScript treats a call as the end of the branch.
  const fail: (reason: string, pos: number) => never = (reason, pos) => {
    throw new FilterSyntaxError(reason, pos, source);
  };
  if (text.length > MAX_TEXT_LENGTH) fail(`text is longer than ${MAX_TEXT_LENGTH} characters`, MAX_TEXT_LENGTH);
  // Keys and values become SQL string literals, which must be valid Unicode.
  const surrogate = text.search(LONE_SURROGATE);
  if (surrogate >= 0) fail('text contains an unpaired UTF-16 surrogate', surrogate);

  /** Reads a quoted string value starting at its opening quote; `\'`, `\"` and `\\` are the only escapes. */
  const readString = (start: number): { value: string; end: number } => {
    const quote = text[start]!;
    let value = '';
    for (let i = start + 1; i < text.length; i++) {
      const c = text[i]!;
      if (c === quote) return { value, end: i + 1 };
      const escaped = text[i + 1];
      if (c === '\\' && (escaped === quote || escaped === '\\')) {
        value += escaped;
        i++;
      } else {
        value += c;
      }
    }
    return fail('unterminated string', start);
  };

  /** Reads the key after `entity.`: quoted in backticks or double quotes (no escapes, as in MLflow), or bare. */
  const readKey = (entityWord: string, start: number): { key: string; end: number } => {
    const quote = text[start];
    let key: string;
    let end: number;
    if (quote === '`' || quote === '"') {
      const close = text.indexOf(quote, start + 1);
      if (close < 0) fail('unterminated quoted key', start);
      key = text.slice(start + 1, close);
      end = close + 1;
      if (key === '') fail('empty key', start);
    } else {
      key = match(BARE_KEY, text, start) ?? fail(`expected a key after ${quoteForMessage(`${entityWord}.`)}`, start);
      end = start + key.length;
      const next = text[end];
      if (next !== undefined && !KEY_END.test(next)) {
        fail(`unexpected character ${quoteForMessage(next)} in key; put keys with special characters in backticks`, end);
      }
    }
    if (key.length > MAX_KEY_LENGTH) fail(`key is longer than ${MAX_KEY_LENGTH} characters`, start);
    return { key, end };
  };

  let pos = 0;
  return () => {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
    if (pos >= text.length) return { kind: 'end', pos, end: pos };
    const c = text[pos]!;
    const two = text.slice(pos, pos + 2);
    let token: Token;
    if (c === '(' || c === ')' || c === ',') {
      token = { kind: c, pos, end: pos + 1 };
    } else if (c === "'" || c === '"') {
      const { value, end } = readString(pos);
      token = { kind: 'string', value, pos, end };
    } else if (two === '!=' || two === '<=' || two === '>=') {
      token = { kind: 'comparator', op: two, pos, end: pos + 2 };
    } else if (two === '==' || two === '<>') {
      token = fail(`${quoteForMessage(two)} is not an operator; use ${two === '==' ? "'='" : "'!='"}`, pos);
    } else if (c === '=' || c === '<' || c === '>') {
      token = { kind: 'comparator', op: c, pos, end: pos + 1 };
    } else if (/[\d.-]/.test(c)) {
      const number = match(NUMBER, text, pos) ?? fail(`unexpected character ${quoteForMessage(c)}`, pos);
      const end = pos + number.length;
      if (end < text.length && NUMBER_CONTINUATION.test(text[end]!)) fail(`malformed number ${quoteForMessage(text.slice(pos, end + 1))}`, pos);
      const value = Number(number);
      if (!Number.isFinite(value)) fail(`number ${quoteForMessage(number)} is out of range`, pos);
      token = { kind: 'number', value, pos, end };
    } else if (/[A-Za-z_]/.test(c)) {
      const word = match(WORD, text, pos)!;
      const afterWord = pos + word.length;
      const entity = entityNamed(word);
      const lower = word.toLowerCase();
      if ((lower === 'min' || lower === 'max') && text[afterWord] === '(') {
        token = { kind: 'aggregate', fn: lower, pos, end: afterWord };
      } else if (text[afterWord] === '.') {
        if (!entity) fail(`unknown entity ${quoteForMessage(word)}; expected ${ENTITY_NAMES}`, pos);
        const { key, end } = readKey(word, afterWord + 1);
        if (entity === 'attribute' && !isAttributeName(key)) {
          fail(`unknown attribute ${quoteForMessage(key)}; valid attributes are ${ATTRIBUTE_NAMES.join(', ')}`, afterWord + 1);
        }
        token = { kind: 'identifier', entity, key, pos, end };
      } else if (KEYWORDS.has(word.toUpperCase())) {
        token = { kind: 'keyword', word: word.toUpperCase() as Keyword, pos, end: afterWord };
      } else if (entity) {
        token = fail(`expected ${quoteForMessage(`${word}.`)} followed by a key`, afterWord);
      } else {
        token = fail(`unexpected word ${quoteForMessage(word)}; fields are written ${ENTITY_NAMES} followed by '.<key>'`, pos);
      }
    } else {
      token = fail(`unexpected character ${quoteForMessage(c)}`, pos);
    }
    pos = token.end;
    return token;
  };
}

/** A field: `entity.key`, or `min(metrics.key)` / `max(metrics.key)`; reads the tokens after `first`. */
export function readField(
  first: Token,
  read: () => Token,
  unexpected: (expected: string, token: Token) => FilterSyntaxError,
): { entity: Entity; key: string; aggregate?: MetricAggregate } | undefined {
  if (first.kind === 'identifier') return { entity: first.entity, key: first.key };
  if (first.kind !== 'aggregate') return undefined;
  const open = read();
  if (open.kind !== '(') throw unexpected(`'(' after ${first.fn}`, open);
  const field = read();
  if (field.kind !== 'identifier' || field.entity !== 'metric') throw unexpected(`a metric such as metrics.loss inside ${first.fn}( )`, field);
  const close = read();
  if (close.kind !== ')') throw unexpected(`')' to close ${first.fn}(`, close);
  return { entity: 'metric', key: field.key, aggregate: first.fn };
}
