-- Dataset rows partitioned by the month they were ingested, like the metric tables (0060): a batch's rows share one
-- ingested_at (set once per batch by the worker), so a batch is still one part of dataset_rows_v2 and of each
-- summary table (services/ingest-worker/README.md, "Exactly once"). The summaries (0011, 0012) keep their data and
-- stay unpartitioned; only their views move to the new table.
CREATE TABLE IF NOT EXISTS dataset_rows_v2
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
PARTITION BY toYYYYMM(ingested_at)
ORDER BY (dataset, column, version, column_type, num_value, cat_value);

-- Stop feeding the old table and its summaries' views (migrations run only while no worker is in the ingest group).
DROP TABLE IF EXISTS dataset_numeric_buckets_mv_v1;
DROP TABLE IF EXISTS dataset_numeric_extents_mv_v1;
DROP TABLE IF EXISTS dataset_numeric_values_mv_v1;
DROP TABLE IF EXISTS dataset_category_counts_mv_v1;
DROP TABLE IF EXISTS dataset_columns_mv_v1;
DROP TABLE IF EXISTS dataset_rows_progress_mv_v1;

-- The stored rows, copied before the new table has views (the summaries already count them), in slices of datasets;
-- an interrupted run starts over from the TRUNCATE. The old table is dropped by a later migration.
TRUNCATE TABLE dataset_rows_v2;
INSERT INTO dataset_rows_v2 (dataset, version, column, column_type, timestamp_ms, segment, is_missing, num_value, cat_value, producer, ingested_at, src_topic, src_partition, src_offset, row_index)
SELECT dataset, version, column, column_type, timestamp_ms, segment, is_missing, num_value, cat_value, producer, ingested_at, src_topic, src_partition, src_offset, row_index
FROM dataset_rows_v1 WHERE cityHash64(dataset, column) % 4 = 0;
INSERT INTO dataset_rows_v2 (dataset, version, column, column_type, timestamp_ms, segment, is_missing, num_value, cat_value, producer, ingested_at, src_topic, src_partition, src_offset, row_index)
SELECT dataset, version, column, column_type, timestamp_ms, segment, is_missing, num_value, cat_value, producer, ingested_at, src_topic, src_partition, src_offset, row_index
FROM dataset_rows_v1 WHERE cityHash64(dataset, column) % 4 = 1;
INSERT INTO dataset_rows_v2 (dataset, version, column, column_type, timestamp_ms, segment, is_missing, num_value, cat_value, producer, ingested_at, src_topic, src_partition, src_offset, row_index)
SELECT dataset, version, column, column_type, timestamp_ms, segment, is_missing, num_value, cat_value, producer, ingested_at, src_topic, src_partition, src_offset, row_index
FROM dataset_rows_v1 WHERE cityHash64(dataset, column) % 4 = 2;
INSERT INTO dataset_rows_v2 (dataset, version, column, column_type, timestamp_ms, segment, is_missing, num_value, cat_value, producer, ingested_at, src_topic, src_partition, src_offset, row_index)
SELECT dataset, version, column, column_type, timestamp_ms, segment, is_missing, num_value, cat_value, producer, ingested_at, src_topic, src_partition, src_offset, row_index
FROM dataset_rows_v1 WHERE cityHash64(dataset, column) % 4 = 3;

-- 0011's and 0012's views over the new table, with the names in the same order; the progress view is created last and
-- sorts last, so it runs last on 18.16 (name order) and on current ClickHouse (creation order).
CREATE MATERIALIZED VIEW IF NOT EXISTS dataset_numeric_buckets_mv_v2 TO dataset_numeric_buckets_v1 AS
SELECT
    dataset,
    column,
    version,
    toUInt32(bitShiftRight(if(reinterpretAsUInt64(reinterpretAsString(num_value + 0)) >= 9223372036854775808, bitNot(reinterpretAsUInt64(reinterpretAsString(num_value + 0))), bitOr(reinterpretAsUInt64(reinterpretAsString(num_value + 0)), 9223372036854775808)), 40)) AS bucket,
    count() AS value_count,
    sum(num_value + 0 - reinterpretAsFloat64(reinterpretAsString(bitAnd(reinterpretAsUInt64(reinterpretAsString(num_value + 0)), 18446742974197923840)))) AS offset_sum,
    sum(pow(num_value + 0 - reinterpretAsFloat64(reinterpretAsString(bitAnd(reinterpretAsUInt64(reinterpretAsString(num_value + 0)), 18446742974197923840))), 2)) AS offset_sq_sum
FROM dataset_rows_v2
WHERE column_type = 'numerical' AND is_missing = 0 AND isFinite(num_value)
GROUP BY dataset, column, version, bucket;

CREATE MATERIALIZED VIEW IF NOT EXISTS dataset_numeric_extents_mv_v2 TO dataset_numeric_extents_v1 AS
SELECT dataset, column, version, countState() AS value_count, minState(num_value + 0) AS min_value, maxState(num_value + 0) AS max_value
FROM dataset_rows_v2
WHERE column_type = 'numerical' AND is_missing = 0 AND isFinite(num_value)
GROUP BY dataset, column, version;

CREATE MATERIALIZED VIEW IF NOT EXISTS dataset_numeric_values_mv_v2 TO dataset_numeric_values_v1 AS
SELECT sipHash64(dataset) AS dataset_key, sipHash64(column) AS column_key, sipHash64(version) AS version_key,
    toUInt32(bitShiftRight(if(reinterpretAsUInt64(reinterpretAsString(num_value + 0)) >= 9223372036854775808, bitNot(reinterpretAsUInt64(reinterpretAsString(num_value + 0))), bitOr(reinterpretAsUInt64(reinterpretAsString(num_value + 0)), 9223372036854775808)), 40)) AS bucket,
    num_value + 0 AS value
FROM dataset_rows_v2
WHERE column_type = 'numerical' AND is_missing = 0 AND isFinite(num_value);

CREATE MATERIALIZED VIEW IF NOT EXISTS dataset_category_counts_mv_v2 TO dataset_category_counts_v1 AS
SELECT dataset, column, version, cat_value AS value, count() AS value_count
FROM dataset_rows_v2
WHERE column_type = 'categorical' AND is_missing = 0
GROUP BY dataset, column, version, value;

CREATE MATERIALIZED VIEW IF NOT EXISTS dataset_columns_mv_v2 TO dataset_columns_v1 AS
SELECT dataset, column, version, column_type, countState() AS value_count, minState(timestamp_ms) AS first_timestamp_ms, maxState(timestamp_ms) AS last_timestamp_ms
FROM dataset_rows_v2
GROUP BY dataset, column, version, column_type;

CREATE MATERIALIZED VIEW IF NOT EXISTS dataset_rows_progress_mv_v2 TO ingest_progress_v1 AS
SELECT src_topic, src_partition, max(src_offset) AS max_offset, max(ingested_at) AS updated_at
FROM dataset_rows_v2
GROUP BY src_topic, src_partition;
