-- The progress of an insert (ingest_progress_v1) must be written after every other view of the same insert: readers
-- that wait for progress (read-your-writes) then find the summaries, rollups and entity views filled, and an insert
-- that fails part-way leaves no progress, so the worker writes the batch again instead of skipping it.
-- ClickHouse runs the views of one insert one after another: 18.16 in the alphabetical order of their names, current
-- versions in the order they were created. So the progress views are recreated here, last, under names that sort
-- after every other view of their table (`metrics_…` after `metric_…`, `tracking_progress_…` after the entity views).
-- A migration that adds a view to metric_points_v1 or tracking_events_v1 must recreate the progress view after it
-- (test/sql-portability.test.ts checks the order).
DROP TABLE IF EXISTS ingest_progress_mv_v1;

CREATE MATERIALIZED VIEW IF NOT EXISTS metrics_progress_mv_v1 TO ingest_progress_v1 AS
SELECT src_topic, src_partition, max(src_offset) AS max_offset, max(ingested_at) AS updated_at
FROM metric_points_v1
GROUP BY src_topic, src_partition;

DROP TABLE IF EXISTS tracking_progress_mv_v1;

CREATE MATERIALIZED VIEW IF NOT EXISTS tracking_progress_mv_v2 TO ingest_progress_v1 AS
SELECT src_topic, src_partition, max(src_offset) AS max_offset, max(ingested_at) AS updated_at
FROM tracking_events_v1
GROUP BY src_topic, src_partition;
