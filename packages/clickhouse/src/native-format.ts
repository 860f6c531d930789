// Encoder for ClickHouse's Native format (one block). The ingest worker sends each batch as ONE Native block:
// the server parses the whole block before writing, so a body cut short by a crashed client is rejected as a
// whole instead of being committed up to the last complete row (what row formats allow). One block also
// means one part, which keeps each batch insert atomic.

export type NativeColumnType = 'String' | 'Float64' | 'Int64' | 'Nullable(Int64)' | 'UInt64' | 'UInt32' | 'UInt16' | 'UInt8' | 'DateTime' | `Enum8(${string})`;

export class GrowableBuffer {
  buf: Buffer;
  length = 0;
  constructor(initial = 1 << 16) {
    this.buf = Buffer.allocUnsafe(initial);
  }
  ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  varUInt(n: number): void {
    this.ensure(10);
    while (n >= 0x80) {
      this.buf[this.length++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.length++] = n;
  }
  string(s: string): void {
    const bytes = Buffer.byteLength(s, 'utf8');
    this.varUInt(bytes);
    this.ensure(bytes);
    this.length += this.buf.write(s, this.length, 'utf8');
  }
  bytes(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.length);
    this.length += b.length;
  }
  toBuffer(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

export interface NativeColumn<Row> {
  name: string;
  type: NativeColumnType;
  get: (row: Row) => string | number | bigint | null;
}

// Safe integers are split into two 32-bit halves: much cheaper than a BigInt per value on the hot path.
function writeInt64(b: Buffer, v: string | number | bigint, at: number): void {
  if (typeof v === 'bigint') {
    b.writeBigInt64LE(BigInt.asIntN(64, v), at);
    return;
  }
  const n = v as number;
  const hi = Math.floor(n / 4294967296);
  b.writeUInt32LE(n - hi * 4294967296, at);
  b.writeInt32LE(hi, at + 4);
}

function writeColumn<Row>(out: GrowableBuffer, col: NativeColumn<Row>, rows: readonly Row[]): void {
  out.string(col.name);
  out.string(col.type);
  const n = rows.length;
  const fixed = (width: number, write: (buf: Buffer, v: string | number | bigint, at: number) => void) => {
    out.ensure(width * n);
    for (let i = 0; i < n; i++) write(out.buf, col.get(rows[i]!) ?? 0, out.length + i * width);
    out.length += width * n;
  };
  switch (col.type) {
    case 'Nullable(Int64)':
      // Nullable: a null map (1 = NULL) followed by the values, with a placeholder where NULL.
      out.ensure(n);
      for (let i = 0; i < n; i++) out.buf[out.length + i] = col.get(rows[i]!) === null ? 1 : 0;
      out.length += n;
      return fixed(8, writeInt64);
    case 'String':
      for (let i = 0; i < n; i++) out.string(col.get(rows[i]!) as string);
      return;
    case 'Float64':
      return fixed(8, (b, v, at) => b.writeDoubleLE(v as number, at));
    case 'Int64':
    case 'UInt64':
      return fixed(8, writeInt64);
    case 'UInt32':
    case 'DateTime':
      return fixed(4, (b, v, at) => b.writeUInt32LE(v as number, at));
    case 'UInt16':
      return fixed(2, (b, v, at) => b.writeUInt16LE(v as number, at));
    case 'UInt8':
      return fixed(1, (b, v, at) => b.writeUInt8(v as number, at));
    default:
      // Enum8: the stored value is the Int8 code.
      return fixed(1, (b, v, at) => b.writeInt8(v as number, at));
  }
}

/** One Native block (no block-info header, as the HTTP interface expects). */
export function encodeNativeBlock<Row>(columns: readonly NativeColumn<Row>[], rows: readonly Row[]): Buffer {
  const out = new GrowableBuffer(Math.max(1 << 16, rows.length * 64));
  out.varUInt(columns.length);
  out.varUInt(rows.length);
  for (const col of columns) writeColumn(out, col, rows);
  return out.toBuffer();
}
