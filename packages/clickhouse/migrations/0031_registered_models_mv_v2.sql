-- registered_models_v1 filled with aliases and deletion (schema v4). The old view is dropped first so no event is
-- written twice; migrations run only while no ingest worker consumes, so none is missed in between.
DROP TABLE IF EXISTS registered_models_mv_v1;

CREATE MATERIALIZED VIEW IF NOT EXISTS registered_models_mv_v2 TO registered_models_v1 AS
SELECT model_name AS name, description, creation_time_ms, last_update_ms, tags_json, aliases_json, deleted, src_offset AS version
FROM tracking_events_v1
WHERE event_type = 'REGISTERED_MODEL_UPSERTED';
