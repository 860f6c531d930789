export * from './env-schema.ts';
export * from './shared-config.ts';
export * from './logger.ts';
