export * from './classification.ts';
export * from './regression.ts';
export * from './fairness.ts';
