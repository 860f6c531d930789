-- The highest Kafka offset stored per source partition, maintained by ClickHouse inside the same INSERT as the
-- points. The ingest worker reads it when it takes over a partition and skips what is already stored, so a
-- batch written just before a crash (offsets not yet committed to Kafka) is never written twice.
CREATE TABLE IF NOT EXISTS ingest_progress_v1
(
    src_topic     String,
    src_partition UInt32,
    max_offset    UInt64,
    updated_at    DateTime
)
ENGINE = ReplacingMergeTree(max_offset)
ORDER BY (src_topic, src_partition);

CREATE MATERIALIZED VIEW IF NOT EXISTS ingest_progress_mv_v1 TO ingest_progress_v1 AS
SELECT
    src_topic,
    src_partition,
    max(src_offset) AS max_offset,
    max(ingested_at) AS updated_at
FROM metric_points_v1
GROUP BY src_topic, src_partition;
