-- Model registry: registered models and their versions, as views of tracking events (schema v2 of TrackingEvent).
-- A version names the run that produced it, which ties it to that run's params, inputs and metrics.
-- One ALTER (ClickHouse has no transactional DDL, and 18.16 has no ADD COLUMN IF NOT EXISTS).
ALTER TABLE tracking_events_v1
    MODIFY COLUMN event_type Enum8('EXPERIMENT_UPSERTED' = 1, 'EXPERIMENT_TAG_SET' = 2, 'RUN_UPSERTED' = 3, 'PARAM_LOGGED' = 4,
                                   'RUN_TAG_SET' = 5, 'RUN_TAG_DELETED' = 6, 'RUN_INPUT_LOGGED' = 7,
                                   'REGISTERED_MODEL_UPSERTED' = 8, 'MODEL_VERSION_UPSERTED' = 9),
    ADD COLUMN model_name String,
    ADD COLUMN model_version String,
    ADD COLUMN description String,
    ADD COLUMN model_source String,
    ADD COLUMN model_stage String,
    ADD COLUMN tags_json String;

CREATE TABLE IF NOT EXISTS registered_models_v1
(
    name             String,
    description      String,
    creation_time_ms Int64,
    last_update_ms   Int64,
    tags_json        String,
    version          UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY name;

CREATE MATERIALIZED VIEW IF NOT EXISTS registered_models_mv_v1 TO registered_models_v1 AS
SELECT model_name AS name, description, creation_time_ms, last_update_ms, tags_json, src_offset AS version
FROM tracking_events_v1
WHERE event_type = 'REGISTERED_MODEL_UPSERTED';

CREATE TABLE IF NOT EXISTS model_versions_v1
(
    name             String,
    model_version    String,
    source           String,
    run_id           String,
    description      String,
    status           String,
    stage            String,
    creation_time_ms Int64,
    last_update_ms   Int64,
    tags_json        String,
    version          UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (name, model_version);

CREATE MATERIALIZED VIEW IF NOT EXISTS model_versions_mv_v1 TO model_versions_v1 AS
SELECT model_name AS name, model_version, model_source AS source, run_id, description, status, model_stage AS stage,
       creation_time_ms, last_update_ms, tags_json, src_offset AS version
FROM tracking_events_v1
WHERE event_type = 'MODEL_VERSION_UPSERTED';
