// The writer schemas this build knows, keyed by their CRC-64-AVRO fingerprint, each with a resolver that reads
// it as the newest (reader) schema. Adding a version = adding its .avsc file and one line below.
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { fingerprintBytes } from './crc64-avro.ts';

const SCHEMA_DIR = new URL('../../../schemas/', import.meta.url);

export interface RegisteredSchema {
  version: number;
  type: avro.Type;
  fingerprint: Buffer;
  /** Reads bytes written with this schema as the current reader schema. */
  resolver: avro.Resolver;
}

function loadType(file: string): avro.Type {
  return avro.Type.forSchema(JSON.parse(readFileSync(new URL(file, SCHEMA_DIR), 'utf8')) as avro.Schema, {
    // NaN-safe and exact: long values beyond 2^53 fail validation instead of silently losing precision.
    wrapUnions: false,
  });
}

export class SchemaRegistry {
  readonly current: RegisteredSchema;
  private readonly byFingerprint = new Map<string, RegisteredSchema>();
  private readonly byVersion = new Map<number, RegisteredSchema>();

  constructor(files: { version: number; file: string }[]) {
    const sorted = [...files].sort((a, b) => a.version - b.version);
    const last = sorted[sorted.length - 1];
    if (!last) throw new Error('schema registry needs at least one schema');
    const reader = loadType(last.file);
    for (const { version, file } of sorted) {
      const type = version === last.version ? reader : loadType(file);
      // avsc's schema() with default options is the Parsing Canonical Form the fingerprint is defined over.
      const entry: RegisteredSchema = {
        version,
        type,
        fingerprint: fingerprintBytes(JSON.stringify(type.schema())),
        resolver: reader.createResolver(type),
      };
      this.byFingerprint.set(entry.fingerprint.toString('hex'), entry);
      this.byVersion.set(version, entry);
    }
    this.current = this.byVersion.get(last.version)!;
  }

  lookup(fingerprint: Buffer): RegisteredSchema | undefined {
    return this.byFingerprint.get(fingerprint.toString('hex'));
  }

  version(v: number): RegisteredSchema {
    const entry = this.byVersion.get(v);
    if (!entry) throw new Error(`no schema version ${v}`);
    return entry;
  }
}

export const metricBatchSchemas = new SchemaRegistry([
  { version: 1, file: 'metric-batch.v1.avsc' },
  { version: 2, file: 'metric-batch.v2.avsc' },
]);
