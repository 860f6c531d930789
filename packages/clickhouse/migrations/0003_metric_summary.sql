-- Per (entity, key) summary kept up to date by ClickHouse: listing runs and a run's keys reads this small
-- table instead of scanning raw points. Read with the -Merge combinators (see metric-queries.ts).
-- min/max skip NaN explicitly: ClickHouse versions disagree on NaN inside min()/max() (18.16 keeps a NaN seen
-- first, current versions ignore it), and a summary must not depend on insert order. nan_points tells a key
-- whose values are all NaN (its min/max are then reported as NaN).
CREATE TABLE IF NOT EXISTS metric_summary_v1
(
    entity_kind        Enum8('run' = 1, 'model_version' = 2),
    entity_id          String,
    key                String,
    points             AggregateFunction(count),
    nan_points         AggregateFunction(countIf, UInt8),
    min_value          AggregateFunction(minIf, Float64, UInt8),
    max_value          AggregateFunction(maxIf, Float64, UInt8),
    first_step         AggregateFunction(min, Int64),
    last_step          AggregateFunction(max, Int64),
    last_value         AggregateFunction(argMax, Float64, Tuple(Int64, Int64)),
    first_timestamp_ms AggregateFunction(min, Int64),
    last_timestamp_ms  AggregateFunction(max, Int64)
)
ENGINE = AggregatingMergeTree()
ORDER BY (entity_kind, entity_id, key);

CREATE MATERIALIZED VIEW IF NOT EXISTS metric_summary_mv_v1 TO metric_summary_v1 AS
SELECT
    entity_kind,
    entity_id,
    key,
    countState() AS points,
    countIfState(isNaN(value)) AS nan_points,
    minIfState(value, NOT isNaN(value)) AS min_value,
    maxIfState(value, NOT isNaN(value)) AS max_value,
    minState(step) AS first_step,
    maxState(step) AS last_step,
    argMaxState(value, tuple(step, timestamp_ms)) AS last_value,
    minState(timestamp_ms) AS first_timestamp_ms,
    maxState(timestamp_ms) AS last_timestamp_ms
FROM metric_points_v1
GROUP BY entity_kind, entity_id, key;
