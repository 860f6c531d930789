-- Rollups of every series at fixed granularities along two axes, kept up to date by ClickHouse in the same INSERT
-- as the raw points. A downsampled read of a long series merges rollup rows instead of scanning raw points: at
-- granularity g, bucket b holds the points with b*g <= x < (b+1)*g (floor division, also for negative x), so any
-- read bucket whose width is a multiple of g is exact (see series-plan.ts).
--   axis 'step': x = step,         g in 64, 1024, 16384 steps
--   axis 'time': x = timestamp_ms, g in 4 s, 64 s, 1024 s
-- Per bucket: points, NaN points, min/max/mean of the values that are not NaN, the last value (highest step, then
-- time) and the first/last x. Few columns and levels on purpose: each level costs ClickHouse about 0.2 µs of CPU per
-- inserted point (measured on 18.16), so three levels 16 apart per axis, not more.
CREATE TABLE IF NOT EXISTS metric_rollup_v1
(
    entity_kind Enum8('run' = 1, 'model_version' = 2),
    entity_id   String,
    key         String,
    axis        Enum8('step' = 1, 'time' = 2),
    granularity Int64,
    bucket      Int64,
    points      AggregateFunction(count),
    nan_points  AggregateFunction(countIf, UInt8),
    min_value   AggregateFunction(minIf, Float64, UInt8),
    max_value   AggregateFunction(maxIf, Float64, UInt8),
    mean_value  AggregateFunction(avgIf, Float64, UInt8),
    last_value  AggregateFunction(argMax, Float64, Tuple(Int64, Int64)),
    first_x     AggregateFunction(min, Int64),
    last_x      AggregateFunction(max, Int64)
)
ENGINE = AggregatingMergeTree()
ORDER BY (entity_kind, entity_id, key, axis, granularity, bucket)
-- One series' level is a few thousand rows of heavy aggregate states: small granules keep a read of many runs from
-- reading whole 8192-row granules of other levels (measured: 10 runs read 180k rows for 18k needed at 8192).
SETTINGS index_granularity = 1024;

CREATE MATERIALIZED VIEW IF NOT EXISTS metric_rollup_step_mv_v1 TO metric_rollup_v1 AS
SELECT
    entity_kind,
    entity_id,
    key,
    CAST('step' AS Enum8('step' = 1, 'time' = 2)) AS axis,
    granularity,
    intDiv(step, granularity) - (modulo(step, granularity) < 0) AS bucket,
    countState() AS points,
    countIfState(isNaN(value)) AS nan_points,
    minIfState(value, NOT isNaN(value)) AS min_value,
    maxIfState(value, NOT isNaN(value)) AS max_value,
    avgIfState(value, NOT isNaN(value)) AS mean_value,
    argMaxState(value, tuple(step, timestamp_ms)) AS last_value,
    minState(step) AS first_x,
    maxState(step) AS last_x
FROM metric_points_v1
ARRAY JOIN CAST([64, 1024, 16384] AS Array(Int64)) AS granularity
GROUP BY entity_kind, entity_id, key, granularity, bucket;

CREATE MATERIALIZED VIEW IF NOT EXISTS metric_rollup_time_mv_v1 TO metric_rollup_v1 AS
SELECT
    entity_kind,
    entity_id,
    key,
    CAST('time' AS Enum8('step' = 1, 'time' = 2)) AS axis,
    granularity,
    intDiv(timestamp_ms, granularity) - (modulo(timestamp_ms, granularity) < 0) AS bucket,
    countState() AS points,
    countIfState(isNaN(value)) AS nan_points,
    minIfState(value, NOT isNaN(value)) AS min_value,
    maxIfState(value, NOT isNaN(value)) AS max_value,
    avgIfState(value, NOT isNaN(value)) AS mean_value,
    argMaxState(value, tuple(step, timestamp_ms)) AS last_value,
    minState(timestamp_ms) AS first_x,
    maxState(timestamp_ms) AS last_x
FROM metric_points_v1
ARRAY JOIN CAST([4000, 64000, 1024000] AS Array(Int64)) AS granularity
GROUP BY entity_kind, entity_id, key, granularity, bucket;

-- Points stored before this migration (migrations run before the ingest workers start: scripts/start.ts).
INSERT INTO metric_rollup_v1
SELECT
    entity_kind,
    entity_id,
    key,
    CAST('step' AS Enum8('step' = 1, 'time' = 2)) AS axis,
    granularity,
    intDiv(step, granularity) - (modulo(step, granularity) < 0) AS bucket,
    countState() AS points,
    countIfState(isNaN(value)) AS nan_points,
    minIfState(value, NOT isNaN(value)) AS min_value,
    maxIfState(value, NOT isNaN(value)) AS max_value,
    avgIfState(value, NOT isNaN(value)) AS mean_value,
    argMaxState(value, tuple(step, timestamp_ms)) AS last_value,
    minState(step) AS first_x,
    maxState(step) AS last_x
FROM metric_points_v1
ARRAY JOIN CAST([64, 1024, 16384] AS Array(Int64)) AS granularity
GROUP BY entity_kind, entity_id, key, granularity, bucket;

INSERT INTO metric_rollup_v1
SELECT
    entity_kind,
    entity_id,
    key,
    CAST('time' AS Enum8('step' = 1, 'time' = 2)) AS axis,
    granularity,
    intDiv(timestamp_ms, granularity) - (modulo(timestamp_ms, granularity) < 0) AS bucket,
    countState() AS points,
    countIfState(isNaN(value)) AS nan_points,
    minIfState(value, NOT isNaN(value)) AS min_value,
    maxIfState(value, NOT isNaN(value)) AS max_value,
    avgIfState(value, NOT isNaN(value)) AS mean_value,
    argMaxState(value, tuple(step, timestamp_ms)) AS last_value,
    minState(timestamp_ms) AS first_x,
    maxState(timestamp_ms) AS last_x
FROM metric_points_v1
ARRAY JOIN CAST([4000, 64000, 1024000] AS Array(Int64)) AS granularity
GROUP BY entity_kind, entity_id, key, granularity, bucket;
