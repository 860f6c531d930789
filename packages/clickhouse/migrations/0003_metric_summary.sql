-- Per (entity, key) summary kept up to date by ClickHouse: listing runs and a run's keys reads this small
-- table instead of scanning raw points. Read with the -Merge combinators (see metric-queries.ts).
CREATE TABLE IF NOT EXISTS metric_summary_v1
(
    entity_kind       Enum8('run' = 1, 'model_version' = 2),
    entity_id         String,
    key               String,
    points            AggregateFunction(count),
    min_value         AggregateFunction(min, Float64),
    max_value         AggregateFunction(max, Float64),
    first_step        AggregateFunction(min, Int64),
    last_step         AggregateFunction(max, Int64),
    last_value        AggregateFunction(argMax, Float64, Tuple(Int64, Int64)),
    first_timestamp_ms AggregateFunction(min, Int64),
    last_timestamp_ms AggregateFunction(max, Int64)
)
ENGINE = AggregatingMergeTree()
ORDER BY (entity_kind, entity_id, key);

CREATE MATERIALIZED VIEW IF NOT EXISTS metric_summary_mv_v1 TO metric_summary_v1 AS
SELECT
    entity_kind,
    entity_id,
    key,
    countState() AS points,
    minState(value) AS min_value,
    maxState(value) AS max_value,
    minState(step) AS first_step,
    maxState(step) AS last_step,
    argMaxState(value, tuple(step, timestamp_ms)) AS last_value,
    minState(timestamp_ms) AS first_timestamp_ms,
    maxState(timestamp_ms) AS last_timestamp_ms
FROM metric_points_v1
GROUP BY entity_kind, entity_id, key;
