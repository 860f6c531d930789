-- Logged models (MLflow 3): a model a run logged, with its own params, tags, status and artifact location. Every
-- change carries the whole state (schema v3 of TrackingEvent), so the entity view keeps the newest one per model.
ALTER TABLE tracking_events_v1
    MODIFY COLUMN event_type Enum8('EXPERIMENT_UPSERTED' = 1, 'EXPERIMENT_TAG_SET' = 2, 'RUN_UPSERTED' = 3, 'PARAM_LOGGED' = 4,
                                   'RUN_TAG_SET' = 5, 'RUN_TAG_DELETED' = 6, 'RUN_INPUT_LOGGED' = 7,
                                   'REGISTERED_MODEL_UPSERTED' = 8, 'MODEL_VERSION_UPSERTED' = 9, 'LOGGED_MODEL_UPSERTED' = 10),
    ADD COLUMN model_id String,
    ADD COLUMN model_type String,
    ADD COLUMN status_message String,
    ADD COLUMN params_json String;

CREATE TABLE IF NOT EXISTS logged_models_v1
(
    model_id         String,
    experiment_id    String,
    name             String,
    model_type       String,
    source_run_id    String,
    status           String,
    status_message   String,
    artifact_uri     String,
    lifecycle_stage  String,
    creation_time_ms Int64,
    last_update_ms   Int64,
    tags_json        String,
    params_json      String,
    version          UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY model_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS logged_models_mv_v1 TO logged_models_v1 AS
SELECT model_id, experiment_id, name, model_type, run_id AS source_run_id, status, status_message, artifact_location AS artifact_uri,
       lifecycle_stage, creation_time_ms, last_update_ms, tags_json, params_json, src_offset AS version
FROM tracking_events_v1
WHERE event_type = 'LOGGED_MODEL_UPSERTED';
