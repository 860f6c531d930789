// Avro single-object encoding: C3 01 marker, 8-byte fingerprint, body.

export const SINGLE_OBJECT_MARKER = Buffer.from([0xc3, 0x01]);
export const HEADER_LENGTH = 10;

export function frame(fingerprint: Buffer, body: Buffer): Buffer {
  return Buffer.concat([SINGLE_OBJECT_MARKER, fingerprint, body], HEADER_LENGTH + body.length);
}

export type Unframed = { ok: true; fingerprint: Buffer; body: Buffer } | { ok: false; detail: string };

export function unframe(bytes: Buffer): Unframed {
  if (bytes.length < HEADER_LENGTH) return { ok: false, detail: `message of ${bytes.length} bytes is shorter than the 10-byte single-object header` };
  if (bytes[0] !== 0xc3 || bytes[1] !== 0x01) return { ok: false, detail: 'missing the Avro single-object marker C3 01' };
  return { ok: true, fingerprint: bytes.subarray(2, HEADER_LENGTH), body: bytes.subarray(HEADER_LENGTH) };
}
