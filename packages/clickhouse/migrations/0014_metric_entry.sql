-- Metric points enter through one Null-engine table; every real table is fed by its own view of it, and each view
-- takes only the rows whose `feed` bit names its table. So a retry after an insert that failed part-way (a view
-- failing after others committed, a crash between two parts, a timeout while the server finished) re-feeds exactly
-- the tables that miss the batch: each table knows what it holds from rows written in the same part as its data.
-- The design, and how the worker reads those markers, is in services/ingest-worker/README.md ("Exactly once").
--
-- Rows of metric_entry_v1, one or more per Kafka message (a unit):
--   row_kind 'points':  the message's points as parallel arrays (p_*), keys by index into `keys`;
--   row_kind 'buckets': the same points pre-aggregated by the worker into fine buckets (b_*): 64 steps x 4 s per key.
--                       Rollups and summaries are built from these (a few rows per thousand points) instead of
--                       every point: that is what keeps the views' cost near the raw insert's.
--   entity_kind 'marker' (a 'buckets' row): one per source partition of the batch, a fake series whose last step /
--                       last x is the batch's highest offset in that partition. Each aggregated table stores it in
--                       the same part as its rows: the highest offset it holds per partition.
-- feed bits: 1 raw points, 2 summary, 4 step rollups, 8 time rollups. The progress view takes every marker and
-- runs last, so ingest_progress_v1 still means "every table holds the batch".
CREATE TABLE IF NOT EXISTS metric_entry_v1
(
    row_kind          Enum8('points' = 1, 'buckets' = 2),
    feed              UInt8,
    entity_kind       Enum8('run' = 1, 'model_version' = 2, 'marker' = 3),
    entity_id         String,
    producer          String,
    ingested_at       DateTime,
    src_topic         String,
    src_partition     UInt32,
    src_offset        UInt64,
    first_point_index UInt32,
    keys              Array(String),
    p_key             Array(UInt32),
    p_value           Array(Float64),
    p_step            Array(Int64),
    p_ts              Array(Int64),
    b_key             Array(UInt32),
    b_step            Array(Int64),
    b_time            Array(Int64),
    b_n               Array(UInt64),
    b_nans            Array(UInt64),
    b_min             Array(Float64),
    b_max             Array(Float64),
    b_sum             Array(Float64),
    b_last            Array(Float64),
    b_last_step       Array(Int64),
    b_last_ts         Array(Int64),
    b_first_step      Array(Int64),
    b_first_ts        Array(Int64),
    b_max_ts          Array(Int64)
)
ENGINE = Null;

-- Per (entity, key) summary, built from the fine buckets (sums of counts instead of count()). Marker rows:
-- entity_kind 'marker', entity_id = topic, key = partition, last_step = highest offset held.
CREATE TABLE IF NOT EXISTS metric_summary_v2
(
    entity_kind        Enum8('run' = 1, 'model_version' = 2, 'marker' = 3),
    entity_id          String,
    key                String,
    points             AggregateFunction(sum, UInt64),
    nan_points         AggregateFunction(sum, UInt64),
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

-- Rollups (see 0006 for the bucket rule), sorted level first: a comparison reads one level of many series, and with
-- the level leading, those rows are contiguous (measured: 100 runs read 103k rows for 98k needed, against 917k with
-- the series leading). Marker rows: granularity 0, entity_kind 'marker', entity_id = topic, key = partition,
-- last_x = highest offset held; axis tells which view wrote them.
CREATE TABLE IF NOT EXISTS metric_rollup_v2
(
    axis        Enum8('step' = 1, 'time' = 2),
    granularity Int64,
    entity_kind Enum8('run' = 1, 'model_version' = 2, 'marker' = 3),
    key         String,
    entity_id   String,
    bucket      Int64,
    points      AggregateFunction(sum, UInt64),
    nan_points  AggregateFunction(sum, UInt64),
    min_value   AggregateFunction(minIf, Float64, UInt8),
    max_value   AggregateFunction(maxIf, Float64, UInt8),
    sum_value   AggregateFunction(sum, Float64),
    last_value  AggregateFunction(argMax, Float64, Tuple(Int64, Int64)),
    first_x     AggregateFunction(min, Int64),
    last_x      AggregateFunction(max, Int64)
)
ENGINE = AggregatingMergeTree()
ORDER BY (axis, granularity, entity_kind, key, entity_id, bucket)
SETTINGS index_granularity = 1024;

-- The views of metric_points_v1 stop: rows now reach it through metric_entry_v1 (an insert made by a view does not
-- run the views of its target table). metric_summary_v1 and metric_rollup_v1 stay as history; nothing reads them.
DROP TABLE IF EXISTS metric_summary_mv_v1;
DROP TABLE IF EXISTS metric_rollup_step_mv_v1;
DROP TABLE IF EXISTS metric_rollup_time_mv_v1;
DROP TABLE IF EXISTS metrics_progress_mv_v1;

-- Points stored before this migration, in four slices of series (bounded memory on large tables). Migrations run
-- only while no worker is in the ingest group (scripts/migrate.ts), and an interrupted run starts over from the
-- TRUNCATE, so nothing is counted twice.
TRUNCATE TABLE metric_summary_v2;
TRUNCATE TABLE metric_rollup_v2;

INSERT INTO metric_summary_v2
SELECT entity_kind, entity_id, key,
       sumState(toUInt64(1)), sumState(toUInt64(isNaN(value))),
       minIfState(value, toUInt8(NOT isNaN(value))), maxIfState(value, toUInt8(NOT isNaN(value))),
       minState(step), maxState(step), argMaxState(value, tuple(step, timestamp_ms)), minState(timestamp_ms), maxState(timestamp_ms)
FROM metric_points_v1 WHERE cityHash64(entity_id) % 4 = 0 GROUP BY entity_kind, entity_id, key;
INSERT INTO metric_summary_v2
SELECT entity_kind, entity_id, key,
       sumState(toUInt64(1)), sumState(toUInt64(isNaN(value))),
       minIfState(value, toUInt8(NOT isNaN(value))), maxIfState(value, toUInt8(NOT isNaN(value))),
       minState(step), maxState(step), argMaxState(value, tuple(step, timestamp_ms)), minState(timestamp_ms), maxState(timestamp_ms)
FROM metric_points_v1 WHERE cityHash64(entity_id) % 4 = 1 GROUP BY entity_kind, entity_id, key;
INSERT INTO metric_summary_v2
SELECT entity_kind, entity_id, key,
       sumState(toUInt64(1)), sumState(toUInt64(isNaN(value))),
       minIfState(value, toUInt8(NOT isNaN(value))), maxIfState(value, toUInt8(NOT isNaN(value))),
       minState(step), maxState(step), argMaxState(value, tuple(step, timestamp_ms)), minState(timestamp_ms), maxState(timestamp_ms)
FROM metric_points_v1 WHERE cityHash64(entity_id) % 4 = 2 GROUP BY entity_kind, entity_id, key;
INSERT INTO metric_summary_v2
SELECT entity_kind, entity_id, key,
       sumState(toUInt64(1)), sumState(toUInt64(isNaN(value))),
       minIfState(value, toUInt8(NOT isNaN(value))), maxIfState(value, toUInt8(NOT isNaN(value))),
       minState(step), maxState(step), argMaxState(value, tuple(step, timestamp_ms)), minState(timestamp_ms), maxState(timestamp_ms)
FROM metric_points_v1 WHERE cityHash64(entity_id) % 4 = 3 GROUP BY entity_kind, entity_id, key;

INSERT INTO metric_rollup_v2
SELECT CAST('step' AS Enum8('step' = 1, 'time' = 2)), granularity, entity_kind, key, entity_id,
       intDiv(step, granularity) - (modulo(step, granularity) < 0) AS bucket,
       sumState(toUInt64(1)), sumState(toUInt64(isNaN(value))),
       minIfState(value, toUInt8(NOT isNaN(value))), maxIfState(value, toUInt8(NOT isNaN(value))),
       sumState(if(isNaN(value), 0., value)), argMaxState(value, tuple(step, timestamp_ms)), minState(step), maxState(step)
FROM metric_points_v1 ARRAY JOIN CAST([64, 1024, 16384] AS Array(Int64)) AS granularity
WHERE cityHash64(entity_id) % 2 = 0 GROUP BY entity_kind, entity_id, key, granularity, bucket;
INSERT INTO metric_rollup_v2
SELECT CAST('step' AS Enum8('step' = 1, 'time' = 2)), granularity, entity_kind, key, entity_id,
       intDiv(step, granularity) - (modulo(step, granularity) < 0) AS bucket,
       sumState(toUInt64(1)), sumState(toUInt64(isNaN(value))),
       minIfState(value, toUInt8(NOT isNaN(value))), maxIfState(value, toUInt8(NOT isNaN(value))),
       sumState(if(isNaN(value), 0., value)), argMaxState(value, tuple(step, timestamp_ms)), minState(step), maxState(step)
FROM metric_points_v1 ARRAY JOIN CAST([64, 1024, 16384] AS Array(Int64)) AS granularity
WHERE cityHash64(entity_id) % 2 = 1 GROUP BY entity_kind, entity_id, key, granularity, bucket;
INSERT INTO metric_rollup_v2
SELECT CAST('time' AS Enum8('step' = 1, 'time' = 2)), granularity, entity_kind, key, entity_id,
       intDiv(timestamp_ms, granularity) - (modulo(timestamp_ms, granularity) < 0) AS bucket,
       sumState(toUInt64(1)), sumState(toUInt64(isNaN(value))),
       minIfState(value, toUInt8(NOT isNaN(value))), maxIfState(value, toUInt8(NOT isNaN(value))),
       sumState(if(isNaN(value), 0., value)), argMaxState(value, tuple(step, timestamp_ms)), minState(timestamp_ms), maxState(timestamp_ms)
FROM metric_points_v1 ARRAY JOIN CAST([4000, 64000, 1024000] AS Array(Int64)) AS granularity
WHERE cityHash64(entity_id) % 2 = 0 GROUP BY entity_kind, entity_id, key, granularity, bucket;
INSERT INTO metric_rollup_v2
SELECT CAST('time' AS Enum8('step' = 1, 'time' = 2)), granularity, entity_kind, key, entity_id,
       intDiv(timestamp_ms, granularity) - (modulo(timestamp_ms, granularity) < 0) AS bucket,
       sumState(toUInt64(1)), sumState(toUInt64(isNaN(value))),
       minIfState(value, toUInt8(NOT isNaN(value))), maxIfState(value, toUInt8(NOT isNaN(value))),
       sumState(if(isNaN(value), 0., value)), argMaxState(value, tuple(step, timestamp_ms)), minState(timestamp_ms), maxState(timestamp_ms)
FROM metric_points_v1 ARRAY JOIN CAST([4000, 64000, 1024000] AS Array(Int64)) AS granularity
WHERE cityHash64(entity_id) % 2 = 1 GROUP BY entity_kind, entity_id, key, granularity, bucket;

-- The views of the entry table. ClickHouse 18.16 runs them in the alphabetical order of their names, current
-- versions in the order they were created: both put progress last. The `length(…) > 0` conditions also keep
-- 18.16 from carrying every other array column through the ARRAY JOIN (measured: 8 GiB for a 500k-point block
-- without them).
CREATE MATERIALIZED VIEW IF NOT EXISTS metric_entry_1_points_mv_v1 TO metric_points_v1 AS
SELECT CAST(if(entity_kind = 'run', 'run', 'model_version') AS Enum8('run' = 1, 'model_version' = 2)) AS entity_kind,
       entity_id, keys[k] AS key, v AS value, s AS step, t AS timestamp_ms, producer, ingested_at,
       src_topic, src_partition, src_offset, toUInt32(first_point_index + i) AS point_index
FROM metric_entry_v1
ARRAY JOIN p_key AS k, p_value AS v, p_step AS s, p_ts AS t, range(toUInt32(length(p_key))) AS i
WHERE row_kind = 'points' AND bitAnd(feed, 1) != 0 AND length(p_key) > 0;

CREATE MATERIALIZED VIEW IF NOT EXISTS metric_entry_2_summary_mv_v1 TO metric_summary_v2 AS
SELECT entity_kind, entity_id, keys[bk] AS key,
       sumState(n) AS points, sumState(nans) AS nan_points,
       minIfState(mn, toUInt8(n > nans)) AS min_value, maxIfState(mx, toUInt8(n > nans)) AS max_value,
       minState(fs) AS first_step, maxState(ls) AS last_step, argMaxState(lv, tuple(ls, lt)) AS last_value,
       minState(ft) AS first_timestamp_ms, maxState(mt) AS last_timestamp_ms
FROM metric_entry_v1
ARRAY JOIN b_key AS bk, b_n AS n, b_nans AS nans, b_min AS mn, b_max AS mx, b_last AS lv, b_last_step AS ls,
           b_last_ts AS lt, b_first_step AS fs, b_first_ts AS ft, b_max_ts AS mt
WHERE row_kind = 'buckets' AND bitAnd(feed, 2) != 0 AND length(b_key) > 0
GROUP BY entity_kind, entity_id, key;

-- Fine step buckets are 64 steps: level g takes floor(fine / (g / 64)), the same as floor(step / g). (if() evaluates
-- both branches: greatest() keeps the marker rows' granularity 0 from dividing by zero.)
CREATE MATERIALIZED VIEW IF NOT EXISTS metric_entry_3_rollup_step_mv_v1 TO metric_rollup_v2 AS
SELECT CAST('step' AS Enum8('step' = 1, 'time' = 2)) AS axis,
       if(entity_kind = 'marker', toInt64(0), arrayJoin(CAST([64, 1024, 16384] AS Array(Int64)))) AS granularity,
       entity_kind, keys[bk] AS key, entity_id,
       if(granularity = 0, toInt64(0), intDiv(sb, intDiv(greatest(granularity, 64), 64)) - (modulo(sb, intDiv(greatest(granularity, 64), 64)) < 0)) AS bucket,
       sumState(n) AS points, sumState(nans) AS nan_points,
       minIfState(mn, toUInt8(n > nans)) AS min_value, maxIfState(mx, toUInt8(n > nans)) AS max_value,
       sumState(s) AS sum_value, argMaxState(lv, tuple(ls, lt)) AS last_value, minState(fs) AS first_x, maxState(ls) AS last_x
FROM metric_entry_v1
ARRAY JOIN b_key AS bk, b_step AS sb, b_n AS n, b_nans AS nans, b_min AS mn, b_max AS mx, b_sum AS s, b_last AS lv,
           b_last_step AS ls, b_last_ts AS lt, b_first_step AS fs
WHERE row_kind = 'buckets' AND bitAnd(feed, 4) != 0 AND length(b_key) > 0
GROUP BY axis, granularity, entity_kind, key, entity_id, bucket;

-- Fine time buckets are 4 s: level g takes floor(fine / (g / 4000)), the same as floor(timestamp_ms / g).
CREATE MATERIALIZED VIEW IF NOT EXISTS metric_entry_4_rollup_time_mv_v1 TO metric_rollup_v2 AS
SELECT CAST('time' AS Enum8('step' = 1, 'time' = 2)) AS axis,
       if(entity_kind = 'marker', toInt64(0), arrayJoin(CAST([4000, 64000, 1024000] AS Array(Int64)))) AS granularity,
       entity_kind, keys[bk] AS key, entity_id,
       if(granularity = 0, toInt64(0), intDiv(tb, intDiv(greatest(granularity, 4000), 4000)) - (modulo(tb, intDiv(greatest(granularity, 4000), 4000)) < 0)) AS bucket,
       sumState(n) AS points, sumState(nans) AS nan_points,
       minIfState(mn, toUInt8(n > nans)) AS min_value, maxIfState(mx, toUInt8(n > nans)) AS max_value,
       sumState(s) AS sum_value, argMaxState(lv, tuple(ls, lt)) AS last_value, minState(ft) AS first_x, maxState(mt) AS last_x
FROM metric_entry_v1
ARRAY JOIN b_key AS bk, b_time AS tb, b_n AS n, b_nans AS nans, b_min AS mn, b_max AS mx, b_sum AS s, b_last AS lv,
           b_last_step AS ls, b_last_ts AS lt, b_first_ts AS ft, b_max_ts AS mt
WHERE row_kind = 'buckets' AND bitAnd(feed, 8) != 0 AND length(b_key) > 0
GROUP BY axis, granularity, entity_kind, key, entity_id, bucket;

CREATE MATERIALIZED VIEW IF NOT EXISTS metric_entry_9_progress_mv_v1 TO ingest_progress_v1 AS
SELECT src_topic, src_partition, max(src_offset) AS max_offset, max(ingested_at) AS updated_at
FROM metric_entry_v1
WHERE entity_kind = 'marker'
GROUP BY src_topic, src_partition;

-- The BI views keep their names and columns (a contract), now over the v2 tables (entity_kind's type gains the
-- 'marker' value, which these views never return).
DROP TABLE IF EXISTS bi_metric_summaries;
CREATE VIEW IF NOT EXISTS bi_metric_summaries AS
SELECT entity_kind, entity_id, key, points, nan_points,
       if(nan_points = points, nan, min_v) AS min_value, if(nan_points = points, nan, max_v) AS max_value,
       first_step, last_step, last_value, first_timestamp_ms, last_timestamp_ms,
       toDateTime(intDiv(first_timestamp_ms, 1000)) AS first_time, toDateTime(intDiv(last_timestamp_ms, 1000)) AS last_time
FROM (
    SELECT entity_kind, entity_id, key,
           sumMerge(points) AS points, sumMerge(nan_points) AS nan_points,
           minIfMerge(min_value) AS min_v, maxIfMerge(max_value) AS max_v,
           minMerge(first_step) AS first_step, maxMerge(last_step) AS last_step, argMaxMerge(last_value) AS last_value,
           minMerge(first_timestamp_ms) AS first_timestamp_ms, maxMerge(last_timestamp_ms) AS last_timestamp_ms
    FROM metric_summary_v2
    WHERE entity_kind != 'marker'
    GROUP BY entity_kind, entity_id, key
);

DROP TABLE IF EXISTS bi_metric_rollups;
CREATE VIEW IF NOT EXISTS bi_metric_rollups AS
SELECT entity_kind, entity_id, key, axis, granularity, bucket, bucket * granularity AS x_start, points, nan_points,
       if(nan_points = points, nan, min_v) AS min_value, if(nan_points = points, nan, max_v) AS max_value,
       if(nan_points = points, nan, sum_v / (points - nan_points)) AS mean_value, last_value, first_x, last_x
FROM (
    SELECT entity_kind, entity_id, key, axis, granularity, bucket,
           sumMerge(points) AS points, sumMerge(nan_points) AS nan_points,
           minIfMerge(min_value) AS min_v, maxIfMerge(max_value) AS max_v, sumMerge(sum_value) AS sum_v,
           argMaxMerge(last_value) AS last_value, minMerge(first_x) AS first_x, maxMerge(last_x) AS last_x
    FROM metric_rollup_v2
    WHERE entity_kind != 'marker' AND granularity > 0
    GROUP BY entity_kind, entity_id, key, axis, granularity, bucket
);
