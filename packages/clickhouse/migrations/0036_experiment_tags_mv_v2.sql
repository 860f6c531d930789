-- experiment_tags_v1 filled with tag deletions too; replaces experiment_tags_mv_v1 (dropped first so no event is
-- written twice).
DROP TABLE IF EXISTS experiment_tags_mv_v1;

CREATE MATERIALIZED VIEW IF NOT EXISTS experiment_tags_mv_v2 TO experiment_tags_v1 AS
SELECT experiment_id, key, value, event_type = 'EXPERIMENT_TAG_DELETED' AS deleted, src_offset AS version
FROM tracking_events_v1
WHERE event_type IN ('EXPERIMENT_TAG_SET', 'EXPERIMENT_TAG_DELETED');
