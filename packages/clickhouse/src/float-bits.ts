// Float64 values cross the ClickHouse boundary as their IEEE-754 bytes, so NaN, the infinities, -0 and every
// finite value come back bit-exact whatever text formatting the server uses (JSON output turns NaN and the
// infinities into null). SQL side: hex(reinterpretAsString(x)); ClickHouse 18.16 cannot reinterpret a Float64 as an
// integer, but can as a string of its little-endian bytes, with trailing zero bytes dropped.
const scratch = Buffer.alloc(8);

export function floatFromBits(hexLittleEndian: string): number {
  scratch.fill(0);
  scratch.write(hexLittleEndian, 'hex');
  return scratch.readDoubleLE(0);
}

/** JSON cannot carry NaN or the infinities; like protobuf's JSON mapping (and MLflow) they travel as strings. */
export type JsonDouble = number | 'NaN' | 'Infinity' | '-Infinity';

export function toJsonDouble(v: number): JsonDouble {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

export function fromJsonDouble(v: JsonDouble | string): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  throw new Error(`not a double: ${JSON.stringify(v)}`);
}
