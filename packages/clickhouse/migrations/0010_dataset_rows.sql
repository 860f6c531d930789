-- Dataset rows (Kafka topic <prefix>datasets.v1), stored long: one row per (dataset row, column). Sorted so that one
-- column of one dataset and version is contiguous and ordered by value: drift and quality reads take one column at
-- a time and need sorted values (KS, Wasserstein, quantiles), and sorting presorted runs is cheap.
-- is_missing marks null and NaN (missing, as pandas counts it); num_value is NaN for categorical columns.
-- No PARTITION BY: one batch insert is one part, hence atomic (services/ingest-worker/README.md, "Exactly once").
CREATE TABLE IF NOT EXISTS dataset_rows_v1
(
    dataset       String,
    version       String,
    column        String,
    column_type   Enum8('numerical' = 1, 'categorical' = 2),
    timestamp_ms  Int64,
    segment       String,
    is_missing    UInt8,
    num_value     Float64,
    cat_value     String,
    producer      String,
    ingested_at   DateTime,
    src_topic     String,
    src_partition UInt32,
    src_offset    UInt64,
    row_index     UInt32
)
ENGINE = MergeTree()
ORDER BY (dataset, column, version, column_type, num_value, cat_value);

CREATE MATERIALIZED VIEW IF NOT EXISTS dataset_rows_progress_mv_v1 TO ingest_progress_v1 AS
SELECT src_topic, src_partition, max(src_offset) AS max_offset, max(ingested_at) AS updated_at
FROM dataset_rows_v1
GROUP BY src_topic, src_partition;
