export * from './tracking-writer.ts';
export * from './read-fence.ts';
export * from './fence-plan.ts';
export * from './fresh-fetch.ts';
