-- Summaries of dataset rows kept by ClickHouse in the same INSERT as the rows (as metric rollups are), so that a drift
-- report over whole versions reads thousands of summary rows per column instead of millions of values.
--
-- Numerical columns: clean values (not missing, finite; -0 counted as 0) in buckets that do not depend on the data:
-- the bucket is the top 24 bits of the value's order-preserving bit pattern (sign, 11 exponent bits, 12 mantissa
-- bits), so every power-of-two range is cut into 4096 equal slices, and bucket order is value order. Per bucket: the
-- count, Σ(v − p) and Σ(v − p)² around the bucket's own point p (the value with the bucket's top bits and zero low
-- bits, so the sums stay exact where values are large and close together). Plain sums, so that reading them is cheap
-- (aggregate states cost far more to read); the extremes are kept per column and version. The same expressions
-- are built in packages/clickhouse/src/dataset-buckets.ts for selections these summaries cannot serve (time windows,
-- segments); a test checks that the two spellings are identical.
--
-- The clean numerical values once more, compact and keyed by hashes of the names (integers compare far faster than
-- strings) and by bucket, in small granules: a drift report reads the values of the few buckets its summaries leave
-- undecided (packages/drift/src/bucket-scan.ts) without scanning the column. sipHash64 of the names: a collision
-- would need a second preimage of SipHash.
--
-- Categorical columns: clean values counted per category.
CREATE TABLE IF NOT EXISTS dataset_numeric_buckets_v1
(
    dataset       String,
    column        String,
    version       String,
    bucket        UInt32,
    value_count   UInt64,
    offset_sum    Float64,
    offset_sq_sum Float64
)
ENGINE = SummingMergeTree()
ORDER BY (dataset, column, version, bucket);

-- Per column and version: the extremes (exact histogram edges need them; a bucket's own bounds are its grid slice).
CREATE TABLE IF NOT EXISTS dataset_numeric_extents_v1
(
    dataset     String,
    column      String,
    version     String,
    value_count AggregateFunction(count),
    min_value   AggregateFunction(min, Float64),
    max_value   AggregateFunction(max, Float64)
)
ENGINE = AggregatingMergeTree()
ORDER BY (dataset, column, version);

CREATE TABLE IF NOT EXISTS dataset_numeric_values_v1
(
    dataset_key UInt64,
    column_key  UInt64,
    version_key UInt64,
    bucket      UInt32,
    value       Float64
)
ENGINE = MergeTree()
ORDER BY (dataset_key, column_key, version_key, bucket, value)
SETTINGS index_granularity = 256;

CREATE TABLE IF NOT EXISTS dataset_category_counts_v1
(
    dataset String,
    column  String,
    version String,
    value   String,
    value_count UInt64
)
ENGINE = SummingMergeTree()
ORDER BY (dataset, column, version, value);

-- The views' names sort before dataset_rows_progress_mv_v1: ClickHouse 18.16 runs an insert's views in name order,
-- and progress must be written last (migration 0009). Expressions are spelled out without aliases: 18.16 cannot
-- resolve an alias used inside another expression of a materialized view's SELECT.
CREATE MATERIALIZED VIEW IF NOT EXISTS dataset_numeric_buckets_mv_v1 TO dataset_numeric_buckets_v1 AS
SELECT
    dataset,
    column,
    version,
    toUInt32(bitShiftRight(if(reinterpretAsUInt64(reinterpretAsString(num_value + 0)) >= 9223372036854775808, bitNot(reinterpretAsUInt64(reinterpretAsString(num_value + 0))), bitOr(reinterpretAsUInt64(reinterpretAsString(num_value + 0)), 9223372036854775808)), 40)) AS bucket,
    count() AS value_count,
    sum(num_value + 0 - reinterpretAsFloat64(reinterpretAsString(bitAnd(reinterpretAsUInt64(reinterpretAsString(num_value + 0)), 18446742974197923840)))) AS offset_sum,
    sum(pow(num_value + 0 - reinterpretAsFloat64(reinterpretAsString(bitAnd(reinterpretAsUInt64(reinterpretAsString(num_value + 0)), 18446742974197923840))), 2)) AS offset_sq_sum
FROM dataset_rows_v1
WHERE column_type = 'numerical' AND is_missing = 0 AND isFinite(num_value)
GROUP BY dataset, column, version, bucket;

CREATE MATERIALIZED VIEW IF NOT EXISTS dataset_numeric_extents_mv_v1 TO dataset_numeric_extents_v1 AS
SELECT dataset, column, version, countState() AS value_count, minState(num_value + 0) AS min_value, maxState(num_value + 0) AS max_value
FROM dataset_rows_v1
WHERE column_type = 'numerical' AND is_missing = 0 AND isFinite(num_value)
GROUP BY dataset, column, version;

CREATE MATERIALIZED VIEW IF NOT EXISTS dataset_numeric_values_mv_v1 TO dataset_numeric_values_v1 AS
SELECT sipHash64(dataset) AS dataset_key, sipHash64(column) AS column_key, sipHash64(version) AS version_key,
    toUInt32(bitShiftRight(if(reinterpretAsUInt64(reinterpretAsString(num_value + 0)) >= 9223372036854775808, bitNot(reinterpretAsUInt64(reinterpretAsString(num_value + 0))), bitOr(reinterpretAsUInt64(reinterpretAsString(num_value + 0)), 9223372036854775808)), 40)) AS bucket,
    num_value + 0 AS value
FROM dataset_rows_v1
WHERE column_type = 'numerical' AND is_missing = 0 AND isFinite(num_value);

CREATE MATERIALIZED VIEW IF NOT EXISTS dataset_category_counts_mv_v1 TO dataset_category_counts_v1 AS
SELECT dataset, column, version, cat_value AS value, count() AS value_count
FROM dataset_rows_v1
WHERE column_type = 'categorical' AND is_missing = 0
GROUP BY dataset, column, version, value;

-- Rows stored before this migration (migrations run before the ingest workers start: scripts/start.ts). Each target
-- is emptied first, so that a migration interrupted and run again does not count rows twice.
TRUNCATE TABLE dataset_numeric_buckets_v1;
INSERT INTO dataset_numeric_buckets_v1
SELECT
    dataset,
    column,
    version,
    toUInt32(bitShiftRight(if(reinterpretAsUInt64(reinterpretAsString(num_value + 0)) >= 9223372036854775808, bitNot(reinterpretAsUInt64(reinterpretAsString(num_value + 0))), bitOr(reinterpretAsUInt64(reinterpretAsString(num_value + 0)), 9223372036854775808)), 40)) AS bucket,
    count() AS value_count,
    sum(num_value + 0 - reinterpretAsFloat64(reinterpretAsString(bitAnd(reinterpretAsUInt64(reinterpretAsString(num_value + 0)), 18446742974197923840)))) AS offset_sum,
    sum(pow(num_value + 0 - reinterpretAsFloat64(reinterpretAsString(bitAnd(reinterpretAsUInt64(reinterpretAsString(num_value + 0)), 18446742974197923840))), 2)) AS offset_sq_sum
FROM dataset_rows_v1
WHERE column_type = 'numerical' AND is_missing = 0 AND isFinite(num_value)
GROUP BY dataset, column, version, bucket;

TRUNCATE TABLE dataset_numeric_extents_v1;
INSERT INTO dataset_numeric_extents_v1
SELECT dataset, column, version, countState() AS value_count, minState(num_value + 0) AS min_value, maxState(num_value + 0) AS max_value
FROM dataset_rows_v1
WHERE column_type = 'numerical' AND is_missing = 0 AND isFinite(num_value)
GROUP BY dataset, column, version;

TRUNCATE TABLE dataset_numeric_values_v1;
INSERT INTO dataset_numeric_values_v1
SELECT sipHash64(dataset) AS dataset_key, sipHash64(column) AS column_key, sipHash64(version) AS version_key,
    toUInt32(bitShiftRight(if(reinterpretAsUInt64(reinterpretAsString(num_value + 0)) >= 9223372036854775808, bitNot(reinterpretAsUInt64(reinterpretAsString(num_value + 0))), bitOr(reinterpretAsUInt64(reinterpretAsString(num_value + 0)), 9223372036854775808)), 40)) AS bucket,
    num_value + 0 AS value
FROM dataset_rows_v1
WHERE column_type = 'numerical' AND is_missing = 0 AND isFinite(num_value);

TRUNCATE TABLE dataset_category_counts_v1;
INSERT INTO dataset_category_counts_v1
SELECT dataset, column, version, cat_value AS value, count() AS value_count
FROM dataset_rows_v1
WHERE column_type = 'categorical' AND is_missing = 0
GROUP BY dataset, column, version, value;
