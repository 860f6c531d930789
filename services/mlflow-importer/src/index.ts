export * from './mlflow-rest-client.ts';
export * from './import-plan.ts';
export * from './importer.ts';
export * from './runstream-state.ts';
export * from './progress.ts';
export * from './cli-args.ts';
