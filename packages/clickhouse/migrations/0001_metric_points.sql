-- Raw metric points, one row per point. Sorted for the reads that matter: one entity's key over steps.
-- No PARTITION BY: every batch insert then lands as a single part, which is what makes a batch atomic
-- (see services/ingest-worker/README.md, "Exactly once").
-- src_topic / src_partition / src_offset / point_index tie each row to the Kafka message it came from (audit, replay safety).
CREATE TABLE IF NOT EXISTS metric_points_v1
(
    entity_kind   Enum8('run' = 1, 'model_version' = 2),
    entity_id     String,
    key           String,
    value         Float64,
    step          Int64,
    timestamp_ms  Int64,
    timestamp     DateTime ALIAS toDateTime(intDiv(timestamp_ms, 1000)),
    producer      String,
    ingested_at   DateTime,
    src_topic     String,
    src_partition UInt32,
    src_offset    UInt64,
    point_index   UInt32
)
ENGINE = MergeTree()
ORDER BY (entity_kind, entity_id, key, step, timestamp_ms);
