-- model_versions_v1 filled with the logged model, creator and deletion (schema v4); replaces model_versions_mv_v1
-- as 0031 does for registered models.
DROP TABLE IF EXISTS model_versions_mv_v1;

CREATE MATERIALIZED VIEW IF NOT EXISTS model_versions_mv_v2 TO model_versions_v1 AS
SELECT model_name AS name, model_version, model_source AS source, run_id, description, status, model_stage AS stage,
       creation_time_ms, last_update_ms, tags_json, model_id, user_id, deleted, src_offset AS version
FROM tracking_events_v1
WHERE event_type = 'MODEL_VERSION_UPSERTED';
