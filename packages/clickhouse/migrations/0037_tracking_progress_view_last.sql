-- The progress view must stay the last view of tracking_events_v1 (see 0009): current ClickHouse runs views in the
-- order they were created, so it is created again after the entity views of 0031, 0032, 0034 and 0036 (18.16 sorts
-- by name, where `tracking_…` already comes after them).
DROP TABLE IF EXISTS tracking_progress_mv_v2;

CREATE MATERIALIZED VIEW IF NOT EXISTS tracking_progress_mv_v2 TO ingest_progress_v1 AS
SELECT src_topic, src_partition, max(src_offset) AS max_offset, max(ingested_at) AS updated_at
FROM tracking_events_v1
GROUP BY src_topic, src_partition;
