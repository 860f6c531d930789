// CRC-64-AVRO (the Rabin fingerprint the Avro specification defines for schema fingerprints).
// Computed once per schema at start-up, so BigInt arithmetic is fast enough and keeps the code obvious.

const EMPTY = 0xc15d213aa4d7a795n;
const MASK = 0xffffffffffffffffn;

const TABLE: bigint[] = (() => {
  const table: bigint[] = [];
  for (let i = 0; i < 256; i++) {
    let fp = BigInt(i);
    for (let j = 0; j < 8; j++) fp = (fp >> 1n) ^ (EMPTY & -(fp & 1n));
    table.push(fp & MASK);
  }
  return table;
})();

export function crc64Avro(bytes: Uint8Array): bigint {
  let fp = EMPTY;
  for (const b of bytes) fp = ((fp >> 8n) ^ TABLE[Number((fp ^ BigInt(b)) & 0xffn)]!) & MASK;
  return fp;
}

/** The fingerprint as the 8 little-endian bytes single-object encoding puts on the wire. */
export function fingerprintBytes(canonicalSchema: string): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(crc64Avro(Buffer.from(canonicalSchema, 'utf8')));
  return out;
}
