-- Tracking metadata. Every change arrives as a TrackingEvent (Kafka topic <prefix>tracking.v1) and is stored once
-- in tracking_events_v1, the audit trail; the entity tables below are materialized views of it, filled inside the
-- same INSERT (one part per batch, as for metric points: see services/ingest-worker/README.md).
-- version is the Kafka offset of the event: events of one entity share a partition (keyed by entity), so a later
-- change always has a higher version. Read the latest state with FINAL or argMax(…, version).
CREATE TABLE IF NOT EXISTS tracking_events_v1
(
    event_id           String,
    event_type         Enum8('EXPERIMENT_UPSERTED' = 1, 'EXPERIMENT_TAG_SET' = 2, 'RUN_UPSERTED' = 3, 'PARAM_LOGGED' = 4,
                             'RUN_TAG_SET' = 5, 'RUN_TAG_DELETED' = 6, 'RUN_INPUT_LOGGED' = 7),
    event_time_ms      Int64,
    actor              String,
    experiment_id      String,
    run_id             String,
    key                String,
    value              String,
    name               String,
    artifact_location  String,
    lifecycle_stage    String,
    creation_time_ms   Int64,
    last_update_ms     Int64,
    user_id            String,
    status             String,
    start_time_ms      Int64,
    end_time_ms        Nullable(Int64),
    dataset_name       String,
    dataset_digest     String,
    dataset_source_type String,
    dataset_source     String,
    dataset_schema     String,
    dataset_profile    String,
    input_tags_json    String,
    ingested_at        DateTime,
    src_topic          String,
    src_partition      UInt32,
    src_offset         UInt64
)
ENGINE = MergeTree()
ORDER BY (experiment_id, run_id, event_time_ms, src_partition, src_offset);

CREATE MATERIALIZED VIEW IF NOT EXISTS tracking_progress_mv_v1 TO ingest_progress_v1 AS
SELECT src_topic, src_partition, max(src_offset) AS max_offset, max(ingested_at) AS updated_at
FROM tracking_events_v1
GROUP BY src_topic, src_partition;

CREATE TABLE IF NOT EXISTS experiments_v1
(
    experiment_id     String,
    name              String,
    artifact_location String,
    lifecycle_stage   String,
    creation_time_ms  Int64,
    last_update_ms    Int64,
    version           UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY experiment_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS experiments_mv_v1 TO experiments_v1 AS
SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time_ms, last_update_ms, src_offset AS version
FROM tracking_events_v1
WHERE event_type = 'EXPERIMENT_UPSERTED';

CREATE TABLE IF NOT EXISTS experiment_tags_v1
(
    experiment_id String,
    key           String,
    value         String,
    version       UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (experiment_id, key);

CREATE MATERIALIZED VIEW IF NOT EXISTS experiment_tags_mv_v1 TO experiment_tags_v1 AS
SELECT experiment_id, key, value, src_offset AS version
FROM tracking_events_v1
WHERE event_type = 'EXPERIMENT_TAG_SET';

CREATE TABLE IF NOT EXISTS runs_v1
(
    run_id          String,
    experiment_id   String,
    run_name        String,
    user_id         String,
    status          String,
    start_time_ms   Int64,
    end_time_ms     Nullable(Int64),
    artifact_uri    String,
    lifecycle_stage String,
    version         UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY run_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS runs_mv_v1 TO runs_v1 AS
SELECT run_id, experiment_id, name AS run_name, user_id, status, start_time_ms, end_time_ms, artifact_location AS artifact_uri, lifecycle_stage, src_offset AS version
FROM tracking_events_v1
WHERE event_type = 'RUN_UPSERTED';

-- Params are immutable (the API refuses a different value), so the first write is the only one.
CREATE TABLE IF NOT EXISTS run_params_v1
(
    run_id  String,
    key     String,
    value   String,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (run_id, key);

CREATE MATERIALIZED VIEW IF NOT EXISTS run_params_mv_v1 TO run_params_v1 AS
SELECT run_id, key, value, src_offset AS version
FROM tracking_events_v1
WHERE event_type = 'PARAM_LOGGED';

-- Tags are last-write-wins; a deletion is a newer version with deleted = 1.
CREATE TABLE IF NOT EXISTS run_tags_v1
(
    run_id  String,
    key     String,
    value   String,
    deleted UInt8,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (run_id, key);

CREATE MATERIALIZED VIEW IF NOT EXISTS run_tags_mv_v1 TO run_tags_v1 AS
SELECT run_id, key, value, event_type = 'RUN_TAG_DELETED' AS deleted, src_offset AS version
FROM tracking_events_v1
WHERE event_type IN ('RUN_TAG_SET', 'RUN_TAG_DELETED');

CREATE TABLE IF NOT EXISTS run_inputs_v1
(
    run_id              String,
    dataset_digest      String,
    dataset_name        String,
    dataset_source_type String,
    dataset_source      String,
    dataset_schema      String,
    dataset_profile     String,
    input_tags_json     String,
    version             UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (run_id, dataset_name, dataset_digest);

CREATE MATERIALIZED VIEW IF NOT EXISTS run_inputs_mv_v1 TO run_inputs_v1 AS
SELECT run_id, dataset_digest, dataset_name, dataset_source_type, dataset_source, dataset_schema, dataset_profile, input_tags_json, src_offset AS version
FROM tracking_events_v1
WHERE event_type = 'RUN_INPUT_LOGGED';
