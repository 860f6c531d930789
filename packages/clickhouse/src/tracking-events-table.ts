// tracking_events_v1: one row per tracking event; the entity tables are materialized views of it.
import type { TrackingEvent } from '@runstream/codec';
import { insertNative, type ClickHouse } from './clickhouse-client.ts';
import { encodeNativeBlock, type NativeColumn } from './native-format.ts';

export const TRACKING_EVENTS_TABLE = 'tracking_events_v1';

export interface TrackingEventUnit {
  event: TrackingEvent;
  srcTopic: string;
  srcPartition: number;
  srcOffset: number;
}

type Row = TrackingEventUnit & { ingestedAt: number };

const EVENT_TYPE_TYPE =
  "Enum8('EXPERIMENT_UPSERTED' = 1, 'EXPERIMENT_TAG_SET' = 2, 'RUN_UPSERTED' = 3, 'PARAM_LOGGED' = 4, 'RUN_TAG_SET' = 5, 'RUN_TAG_DELETED' = 6, 'RUN_INPUT_LOGGED' = 7, 'REGISTERED_MODEL_UPSERTED' = 8, 'MODEL_VERSION_UPSERTED' = 9, 'LOGGED_MODEL_UPSERTED' = 10, 'EXPERIMENT_TAG_DELETED' = 11)";
const EVENT_TYPE_CODE: Record<TrackingEvent['eventType'], number> = {
  EXPERIMENT_UPSERTED: 1,
  EXPERIMENT_TAG_SET: 2,
  RUN_UPSERTED: 3,
  PARAM_LOGGED: 4,
  RUN_TAG_SET: 5,
  RUN_TAG_DELETED: 6,
  RUN_INPUT_LOGGED: 7,
  REGISTERED_MODEL_UPSERTED: 8,
  MODEL_VERSION_UPSERTED: 9,
  LOGGED_MODEL_UPSERTED: 10,
  EXPERIMENT_TAG_DELETED: 11,
};

const str = (name: string, get: (r: Row) => string): NativeColumn<Row> => ({ name, type: 'String', get });
const COLUMNS: NativeColumn<Row>[] = [
  str('event_id', (r) => r.event.eventId),
  { name: 'event_type', type: EVENT_TYPE_TYPE, get: (r) => EVENT_TYPE_CODE[r.event.eventType] },
  { name: 'event_time_ms', type: 'Int64', get: (r) => r.event.timestampMs },
  str('actor', (r) => r.event.actor),
  str('experiment_id', (r) => r.event.experimentId || r.event.loggedModel?.experimentId || ''),
  str('run_id', (r) => r.event.runId || r.event.modelVersion?.runId || r.event.loggedModel?.sourceRunId || ''),
  str('key', (r) => r.event.key),
  str('value', (r) => r.event.value),
  str('name', (r) => r.event.experiment?.name ?? r.event.run?.runName ?? r.event.loggedModel?.name ?? ''),
  str('artifact_location', (r) => r.event.experiment?.artifactLocation ?? r.event.run?.artifactUri ?? r.event.loggedModel?.artifactUri ?? ''),
  str('lifecycle_stage', (r) => r.event.experiment?.lifecycleStage ?? r.event.run?.lifecycleStage ?? r.event.loggedModel?.lifecycleStage ?? ''),
  { name: 'creation_time_ms', type: 'Int64', get: (r) => (r.event.experiment ?? r.event.registeredModel ?? r.event.modelVersion ?? r.event.loggedModel)?.creationTimeMs ?? 0 },
  { name: 'last_update_ms', type: 'Int64', get: (r) => (r.event.experiment ?? r.event.registeredModel ?? r.event.modelVersion ?? r.event.loggedModel)?.lastUpdateTimeMs ?? 0 },
  str('user_id', (r) => r.event.run?.userId ?? r.event.modelVersion?.userId ?? ''),
  str('status', (r) => r.event.run?.status ?? r.event.modelVersion?.status ?? r.event.loggedModel?.status ?? ''),
  { name: 'start_time_ms', type: 'Int64', get: (r) => r.event.run?.startTimeMs ?? 0 },
  { name: 'end_time_ms', type: 'Nullable(Int64)', get: (r) => r.event.run?.endTimeMs ?? null },
  str('dataset_name', (r) => r.event.dataset?.name ?? ''),
  str('dataset_digest', (r) => r.event.dataset?.digest ?? ''),
  str('dataset_source_type', (r) => r.event.dataset?.sourceType ?? ''),
  str('dataset_source', (r) => r.event.dataset?.source ?? ''),
  str('dataset_schema', (r) => r.event.dataset?.schema ?? ''),
  str('dataset_profile', (r) => r.event.dataset?.profile ?? ''),
  str('input_tags_json', (r) => r.event.dataset?.tagsJson ?? ''),
  { name: 'ingested_at', type: 'DateTime', get: (r) => r.ingestedAt },
  str('src_topic', (r) => r.srcTopic),
  { name: 'src_partition', type: 'UInt32', get: (r) => r.srcPartition },
  { name: 'src_offset', type: 'UInt64', get: (r) => r.srcOffset },
  str('model_name', (r) => r.event.registeredModel?.name ?? r.event.modelVersion?.name ?? ''),
  str('model_version', (r) => r.event.modelVersion?.version ?? ''),
  str('description', (r) => r.event.registeredModel?.description ?? r.event.modelVersion?.description ?? ''),
  str('model_source', (r) => r.event.modelVersion?.source ?? ''),
  str('model_stage', (r) => r.event.modelVersion?.stage ?? ''),
  str('tags_json', (r) => r.event.registeredModel?.tagsJson ?? r.event.modelVersion?.tagsJson ?? r.event.loggedModel?.tagsJson ?? ''),
  str('model_id', (r) => r.event.loggedModel?.modelId ?? r.event.modelVersion?.modelId ?? ''),
  str('model_type', (r) => r.event.loggedModel?.modelType ?? ''),
  str('status_message', (r) => r.event.loggedModel?.statusMessage ?? ''),
  str('params_json', (r) => r.event.loggedModel?.paramsJson ?? ''),
  str('aliases_json', (r) => r.event.registeredModel?.aliasesJson ?? ''),
  str('metrics_json', (r) => r.event.loggedModel?.metricsJson ?? ''),
  { name: 'deleted', type: 'UInt8', get: (r) => ((r.event.registeredModel ?? r.event.modelVersion)?.deleted ? 1 : 0) },
];

/** Tracking events as one Native block; `ingestedAt` (unix seconds) is the same for the whole batch. */
export function encodeTrackingEvents(units: readonly TrackingEventUnit[], ingestedAt: number): Buffer {
  return encodeNativeBlock(COLUMNS, units.map((u) => ({ ...u, ingestedAt })));
}

/** One atomic insert of a block made by encodeTrackingEvents. */
export async function insertTrackingEventsBlock(ch: ClickHouse, block: Buffer, queryId?: string): Promise<void> {
  await insertNative(ch, TRACKING_EVENTS_TABLE, COLUMNS.map((c) => c.name), block, { queryId });
}

/** One atomic insert (one Native block) of tracking events. */
export async function insertTrackingEvents(ch: ClickHouse, units: readonly TrackingEventUnit[], ingestedAt: number, queryId?: string): Promise<void> {
  await insertTrackingEventsBlock(ch, encodeTrackingEvents(units, ingestedAt), queryId);
}
