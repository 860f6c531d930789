// Tracking events (experiments, runs, params, tags, inputs) on the wire, and their validation.
import { SchemaRegistry } from './schema-registry.ts';
import { decodeWith, encodeWith, type Decoded } from './single-object-codec.ts';

export type TrackingEventType =
  | 'EXPERIMENT_UPSERTED'
  | 'EXPERIMENT_TAG_SET'
  | 'RUN_UPSERTED'
  | 'PARAM_LOGGED'
  | 'RUN_TAG_SET'
  | 'RUN_TAG_DELETED'
  | 'RUN_INPUT_LOGGED'
  | 'REGISTERED_MODEL_UPSERTED'
  | 'MODEL_VERSION_UPSERTED'
  | 'LOGGED_MODEL_UPSERTED'
  | 'EXPERIMENT_TAG_DELETED';

export interface ExperimentState {
  name: string;
  artifactLocation: string;
  lifecycleStage: string;
  creationTimeMs: number;
  lastUpdateTimeMs: number;
}

export interface RunState {
  runName: string;
  userId: string;
  status: string;
  startTimeMs: number;
  endTimeMs: number | null;
  artifactUri: string;
  lifecycleStage: string;
}

export interface DatasetInput {
  name: string;
  digest: string;
  sourceType: string;
  source: string;
  schema: string;
  profile: string;
  tagsJson: string;
}

export interface RegisteredModelState {
  name: string;
  description: string;
  creationTimeMs: number;
  lastUpdateTimeMs: number;
  tagsJson: string;
  /** JSON array of {alias, version} (schema v4; '[]' in older events). */
  aliasesJson: string;
  /** Deleted, or renamed away from this name (schema v4). */
  deleted: boolean;
}

export interface ModelVersionState {
  name: string;
  version: string;
  source: string;
  runId: string;
  description: string;
  status: string;
  stage: string;
  creationTimeMs: number;
  lastUpdateTimeMs: number;
  tagsJson: string;
  /** The logged model the version was made from (schema v4; '' if none). */
  modelId: string;
  userId: string;
  /** Deleted; its number stays taken (schema v4). */
  deleted: boolean;
}

/** MLflow 3's logged model: a model a run logged, with its own params, tags, status and artifact location. */
export interface LoggedModelState {
  modelId: string;
  experimentId: string;
  name: string;
  modelType: string;
  sourceRunId: string;
  status: string;
  statusMessage: string;
  artifactUri: string;
  lifecycleStage: string;
  creationTimeMs: number;
  lastUpdateTimeMs: number;
  tagsJson: string;
  paramsJson: string;
  /** Metric points logged for the model, JSON array (schema v4; '[]' in older events). */
  metricsJson: string;
}

export interface TrackingEvent {
  eventId: string;
  eventType: TrackingEventType;
  timestampMs: number;
  actor: string;
  experimentId: string;
  runId: string;
  key: string;
  value: string;
  experiment: ExperimentState | null;
  run: RunState | null;
  dataset: DatasetInput | null;
  registeredModel: RegisteredModelState | null;
  modelVersion: ModelVersionState | null;
  loggedModel: LoggedModelState | null;
}

export const trackingEventSchemas = new SchemaRegistry([
  { version: 1, file: 'tracking-event.v1.avsc' },
  { version: 2, file: 'tracking-event.v2.avsc' },
  { version: 3, file: 'tracking-event.v3.avsc' },
  { version: 4, file: 'tracking-event.v4.avsc' },
]);

export function encodeTrackingEvent(event: TrackingEvent, version?: number): Buffer {
  return encodeWith(trackingEventSchemas, event, version);
}

export function decodeTrackingEvent(bytes: Buffer): Decoded<TrackingEvent> {
  return decodeWith<TrackingEvent>(trackingEventSchemas, bytes);
}

/** Length in code points (Python's len of a str), not UTF-16 units. */
export function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++, n++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  return n;
}

/** The structural rules the worker enforces on every event (the API checks MLflow's limits before producing). */
export function trackingEventProblem(e: TrackingEvent): string | undefined {
  if (!e.eventId) return 'eventId is empty';
  if (e.eventType === 'REGISTERED_MODEL_UPSERTED') return e.registeredModel?.name ? undefined : 'REGISTERED_MODEL_UPSERTED needs the model state';
  if (e.eventType === 'LOGGED_MODEL_UPSERTED') return e.loggedModel?.modelId && e.loggedModel.experimentId ? undefined : 'LOGGED_MODEL_UPSERTED needs the model state';
  if (e.eventType === 'MODEL_VERSION_UPSERTED') return e.modelVersion?.name && e.modelVersion.version ? undefined : 'MODEL_VERSION_UPSERTED needs the version state';
  const needsRun = e.eventType !== 'EXPERIMENT_UPSERTED' && e.eventType !== 'EXPERIMENT_TAG_SET' && e.eventType !== 'EXPERIMENT_TAG_DELETED';
  if (!e.experimentId && !needsRun) return `${e.eventType} needs an experimentId`;
  if (needsRun && !e.runId) return `${e.eventType} needs a runId`;
  if (e.eventType === 'EXPERIMENT_UPSERTED' && !e.experiment) return 'EXPERIMENT_UPSERTED needs the experiment state';
  if (e.eventType === 'RUN_UPSERTED' && !e.run) return 'RUN_UPSERTED needs the run state';
  if (e.eventType === 'RUN_INPUT_LOGGED' && !e.dataset) return 'RUN_INPUT_LOGGED needs a dataset';
  if (['PARAM_LOGGED', 'RUN_TAG_SET', 'RUN_TAG_DELETED', 'EXPERIMENT_TAG_SET', 'EXPERIMENT_TAG_DELETED'].includes(e.eventType) && !e.key) return `${e.eventType} needs a key`;
  if (e.key.length > 250) return `key is ${e.key.length} characters, the limit is 250`;
  // MLflow's value limits: experiment tags 20,000 characters, params (6,000) and run tags 8,000.
  // Characters as MLflow (Python) counts them: code points, so a value of emoji is not refused at half the limit.
  const valueLimit = e.eventType === 'EXPERIMENT_TAG_SET' ? 20_000 : 8000;
  if (e.value.length > valueLimit && codePointLength(e.value) > valueLimit) return `value is ${codePointLength(e.value)} characters, the limit is ${valueLimit}`;
  return undefined;
}
