-- What each dataset holds, kept in the same INSERT as its rows: per dataset, column, version and type the number of
-- stored values (missing ones included) and the first and last row time. The dataset list reads this instead of
-- every row. The view's name sorts before dataset_rows_progress_mv_v1 (progress is written last; migration 0009).
CREATE TABLE IF NOT EXISTS dataset_columns_v1
(
    dataset            String,
    column             String,
    version            String,
    column_type        Enum8('numerical' = 1, 'categorical' = 2),
    value_count        AggregateFunction(count),
    first_timestamp_ms AggregateFunction(min, Int64),
    last_timestamp_ms  AggregateFunction(max, Int64)
)
ENGINE = AggregatingMergeTree()
ORDER BY (dataset, column, version, column_type);

CREATE MATERIALIZED VIEW IF NOT EXISTS dataset_columns_mv_v1 TO dataset_columns_v1 AS
SELECT dataset, column, version, column_type, countState() AS value_count, minState(timestamp_ms) AS first_timestamp_ms, maxState(timestamp_ms) AS last_timestamp_ms
FROM dataset_rows_v1
GROUP BY dataset, column, version, column_type;

-- Rows stored before this migration (migrations run before the ingest workers start: scripts/start.ts). Each target
-- is emptied first, so that a migration interrupted and run again does not count rows twice.
TRUNCATE TABLE dataset_columns_v1;
INSERT INTO dataset_columns_v1
SELECT dataset, column, version, column_type, countState() AS value_count, minState(timestamp_ms) AS first_timestamp_ms, maxState(timestamp_ms) AS last_timestamp_ms
FROM dataset_rows_v1
GROUP BY dataset, column, version, column_type;
