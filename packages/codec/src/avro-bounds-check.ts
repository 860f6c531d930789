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

function walk(t: AnyType, r: Reader): void {
  switch (t.typeName) {
    case 'null':
      return;
    case 'boolean':
      return need(r, 1, 'boolean');
    case 'int':
    case 'long':
    case 'enum':
      readVarLong(r);
      return;
    case 'float':
      return need(r, 4, 'float');
    case 'double':
      return need(r, 8, 'double');
    case 'fixed':
      return need(r, t.size ?? 0, 'fixed');
    case 'string':
    case 'bytes':
      return need(r, readVarLong(r), t.typeName);
    case 'record':
    case 'error':
      for (const f of t.fields ?? []) walk(f.type, r);
      return;
    case 'array':
    case 'map': {
      const item = (t.typeName === 'array' ? t.itemsType : t.valuesType)!;
      const itemMin = Math.max(minSize(item) + (t.typeName === 'map' ? 1 : 0), 1);
      for (;;) {
        let count = readVarLong(r);
        if (count === 0) return;
        if (count < 0) {
          count = -count;
          readVarLong(r); // block size in bytes
        }
        if (count * itemMin > r.buf.length - r.pos) throw new AvroBoundsError(`a block of ${count} items cannot fit in the ${r.buf.length - r.pos} remaining bytes`);
        for (let i = 0; i < count; i++) {
          if (t.typeName === 'map') need(r, readVarLong(r), 'map key');
          walk(item, r);
        }
      }
    }
    default:
      if (t.typeName.startsWith('union')) {
        const index = readVarLong(r);
        const branch = t.types?.[index];
        if (!branch) throw new AvroBoundsError(`union branch ${index} does not exist`);
        return walk(branch, r);
      }
      if (t.typeName.startsWith('logical')) return walk(t.underlyingType!, r);
      throw new AvroBoundsError(`unsupported Avro type ${t.typeName}`);
  }
}

/** Throws AvroBoundsError unless `body` is exactly one well-formed value of `type` (sizes only, not contents). */
export function checkAvroBounds(type: avro.Type, body: Buffer): void {
  const r: Reader = { buf: body, pos: 0 };
  walk(type as AnyType, r);
  if (r.pos !== body.length) throw new AvroBoundsError(`${body.length - r.pos} bytes left over after the value`);
}
