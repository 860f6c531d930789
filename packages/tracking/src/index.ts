export * from './tracking-writer.ts';
