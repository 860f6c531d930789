export * from './metric-types.ts';
export * from './metric-point-rules.ts';
export * from './metric-batch-codec.ts';
export * from './single-object.ts';
export { crc64Avro, fingerprintBytes } from './crc64-avro.ts';
export { SchemaRegistry, metricBatchSchemas, type RegisteredSchema } from './schema-registry.ts';
export * from './single-object-codec.ts';
export * from './tracking-event.ts';
export { checkAvroBounds, AvroBoundsError } from './avro-bounds-check.ts';
