// Encode/decode any registered event type as single-object Avro, resolving older writer schemas.
import type { SchemaRegistry } from './schema-registry.ts';
import { frame, unframe } from './single-object.ts';
import { AvroBoundsError, checkAvroBounds } from './avro-bounds-check.ts';

export type DecodeFailure = { ok: false; reason: 'malformed' | 'unknown_schema'; detail: string };
export type Decoded<T> = { ok: true; value: T; writerVersion: number } | DecodeFailure;

export function encodeWith(registry: SchemaRegistry, record: unknown, version?: number): Buffer {
  const schema = version === undefined ? registry.current : registry.version(version);
  return frame(schema.fingerprint, schema.type.toBuffer(record));
}

export function decodeWith<T>(registry: SchemaRegistry, bytes: Buffer): Decoded<T> {
  const framed = unframe(bytes);
  if (!framed.ok) return { ok: false, reason: 'malformed', detail: framed.detail };
  const schema = registry.lookup(framed.fingerprint);
  if (!schema) return { ok: false, reason: 'unknown_schema', detail: `no known schema has fingerprint ${framed.fingerprint.toString('hex')}` };
  try {
    checkAvroBounds(schema.type, framed.body);
  } catch (err) {
    if (err instanceof AvroBoundsError) return { ok: false, reason: 'malformed', detail: `Avro body is not a valid v${schema.version} value: ${err.message}` };
    throw err;
  }
  try {
    // Messages written with the current schema need no resolution (the common, hot case). fromBuffer rejects
    // trailing bytes, so a truncated or padded body is malformed, not half-read.
    const resolver = schema === registry.current ? undefined : schema.resolver;
    return { ok: true, value: registry.current.type.fromBuffer(framed.body, resolver, false) as T, writerVersion: schema.version };
  } catch (err) {
    return { ok: false, reason: 'malformed', detail: `Avro body does not decode with schema v${schema.version}: ${(err as Error).message}` };
  }
}
