// A bounds-checking walk over Avro binary data, driven by the writer schema, run before decoding. avsc trusts block
// counts: a hostile message declaring an array of 2^50 items makes it allocate until the process dies. Here every
// length and count is checked against the bytes that remain, so such a message is rejected as malformed.
import type avro from 'avsc';

export class AvroBoundsError extends Error {}

interface Reader {
  buf: Buffer;
  pos: number;
}

function readVarLong(r: Reader): number {
  let n = 0;
  let shift = 1;
  for (let i = 0; i < 10; i++) {
    if (r.pos >= r.buf.length) throw new AvroBoundsError('unexpected end of data in a number');
    const b = r.buf[r.pos++]!;
    n += (b & 0x7f) * shift;
    if ((b & 0x80) === 0) return n % 2 === 0 ? n / 2 : -(n + 1) / 2; // zig-zag
    shift *= 128;
  }
  throw new AvroBoundsError('number longer than 10 bytes');
}

function need(r: Reader, bytes: number, what: string): void {
  if (bytes < 0 || r.pos + bytes > r.buf.length) throw new AvroBoundsError(`${what} of ${bytes} bytes exceeds the ${r.buf.length - r.pos} remaining`);
  r.pos += bytes;
}

type AnyType = avro.Type & {
  typeName: string;
  fields?: { type: AnyType }[];
  itemsType?: AnyType;
  valuesType?: AnyType;
  types?: AnyType[];
  size?: number;
  underlyingType?: AnyType;
};

/** Smallest encoding of a value of the type, in bytes: bounds how many items a block can really hold. */
function minSize(t: AnyType, seen = new Set<AnyType>()): number {
  if (seen.has(t)) return 0;
  seen.add(t);
  switch (t.typeName) {
    case 'null':
      return 0;
    case 'boolean':
    case 'int':
    case 'long':
    case 'enum':
    case 'string':
    case 'bytes':
    case 'array':
    case 'map':
      return 1;
    case 'float':
      return 4;
    case 'double':
      return 8;
    case 'fixed':
      return t.size ?? 0;
    case 'record':
    case 'error':
      return (t.fields ?? []).reduce((n, f) => n + minSize(f.type, seen), 0);
    default:
      if (t.typeName.startsWith('union')) return 1;
      if (t.typeName.startsWith('logical')) return minSize(t.underlyingType!, seen);
      return 0;
  }
}

type Walker = (r: Reader) => void;

const skipVarLong: Walker = (r) => void readVarLong(r);

/**
 * Compiles the type into nested closures once, so checking a message is a straight run of small functions instead
 * of a type switch per value (the worker checks every message).
 */
function compile(t: AnyType, cache = new Map<AnyType, Walker>()): Walker {
  const known = cache.get(t);
  if (known) return known;
  let self: Walker = () => undefined;
  cache.set(t, (r) => self(r)); // recursive types refer to themselves through the cache
  self = build(t, cache);
  cache.set(t, self);
  return self;
}

function build(t: AnyType, cache: Map<AnyType, Walker>): Walker {
  switch (t.typeName) {
    case 'null':
      return () => undefined;
    case 'boolean':
      return (r) => need(r, 1, 'boolean');
    case 'int':
    case 'long':
    case 'enum':
      return skipVarLong;
    case 'float':
      return (r) => need(r, 4, 'float');
    case 'double':
      return (r) => need(r, 8, 'double');
    case 'fixed':
      return (r) => need(r, t.size ?? 0, 'fixed');
    case 'string':
    case 'bytes':
      return (r) => need(r, readVarLong(r), t.typeName);
    case 'record':
    case 'error': {
      const fields = (t.fields ?? []).map((f) => compile(f.type, cache));
      return (r) => {
        for (let i = 0; i < fields.length; i++) fields[i]!(r);
      };
    }
    case 'array':
    case 'map': {
      const isMap = t.typeName === 'map';
      const itemType = (isMap ? t.valuesType : t.itemsType)!;
      const item = compile(itemType, cache);
      const itemMin = Math.max(minSize(itemType) + (isMap ? 1 : 0), 1);
      return (r) => {
        for (;;) {
          let count = readVarLong(r);
          if (count === 0) return;
          if (count < 0) {
            count = -count;
            readVarLong(r); // block size in bytes
          }
          if (count * itemMin > r.buf.length - r.pos) throw new AvroBoundsError(`a block of ${count} items cannot fit in the ${r.buf.length - r.pos} remaining bytes`);
          for (let i = 0; i < count; i++) {
            if (isMap) need(r, readVarLong(r), 'map key');
            item(r);
          }
        }
      };
    }
    default: {
      if (t.typeName.startsWith('union')) {
        const branches = (t.types ?? []).map((b) => compile(b, cache));
        return (r) => {
          const index = readVarLong(r);
          const branch = branches[index];
          if (!branch) throw new AvroBoundsError(`union branch ${index} does not exist`);
          branch(r);
        };
      }
      if (t.typeName.startsWith('logical')) return compile(t.underlyingType!, cache);
      throw new AvroBoundsError(`unsupported Avro type ${t.typeName}`);
    }
  }
}

const compiled = new WeakMap<avro.Type, Walker>();

/** Throws AvroBoundsError unless `body` is exactly one well-formed value of `type` (sizes only, not contents). */
export function checkAvroBounds(type: avro.Type, body: Buffer): void {
  let walker = compiled.get(type);
  if (!walker) compiled.set(type, (walker = compile(type as AnyType)));
  const r: Reader = { buf: body, pos: 0 };
  walker(r);
  if (r.pos !== body.length) throw new AvroBoundsError(`${body.length - r.pos} bytes left over after the value`);
}
