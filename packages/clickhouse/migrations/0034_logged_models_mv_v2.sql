-- logged_models_v1 filled with the model's metrics (schema v4); replaces logged_models_mv_v1 as 0031 does for
-- registered models (the old view is dropped first so no event is written twice).
DROP TABLE IF EXISTS logged_models_mv_v1;

CREATE MATERIALIZED VIEW IF NOT EXISTS logged_models_mv_v2 TO logged_models_v1 AS
SELECT model_id, experiment_id, name, model_type, run_id AS source_run_id, status, status_message, artifact_location AS artifact_uri,
       lifecycle_stage, creation_time_ms, last_update_ms, tags_json, params_json, metrics_json, src_offset AS version
FROM tracking_events_v1
WHERE event_type = 'LOGGED_MODEL_UPSERTED';
