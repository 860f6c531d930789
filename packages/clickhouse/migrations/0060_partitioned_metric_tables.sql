-- Raw points and rollups partitioned by the month they were ingested, so that retention drops whole partitions
-- (ClickHouse 18.16 has no TTL) and merges stay within a month instead of growing with the table forever.
-- Why the ingest month and not the points' own time: an insert writes one part per partition it touches, and a batch
-- is atomic only while it is one part per table (services/ingest-worker/README.md, "Exactly once"). The worker sets
-- ingested_at once per batch (the same in every attempt), so every row of a batch falls into one partition.
-- metric_summary_v2 stays unpartitioned: one row per (entity, key), small, kept as long as the entity exists.
CREATE TABLE IF NOT EXISTS metric_points_v2
(
    entity_kind   Enum8('run' = 1, 'model_version' = 2),
    entity_id     String,
    key           String,
    value         Float64,
    step          Int64,
    timestamp_ms  Int64,
    timestamp     DateTime ALIAS toDateTime(intDiv(timestamp_ms, 1000)),
    producer      String,
    ingested_at   DateTime,
    src_topic     String,
    src_partition UInt32,
    src_offset    UInt64,
    point_index   UInt32
)
ENGINE = MergeTree()
PARTITION BY toYYYYMM(ingested_at)
ORDER BY (entity_kind, entity_id, key, step, timestamp_ms);

-- As metric_rollup_v2, plus ingest_month (the first day of the month the batch was ingested; every row of one
-- partition has the same value, so a merge keeps it).
CREATE TABLE IF NOT EXISTS metric_rollup_v3
(
    axis         Enum8('step' = 1, 'time' = 2),
    granularity  Int64,
    entity_kind  Enum8('run' = 1, 'model_version' = 2, 'marker' = 3),
    key          String,
    entity_id    String,
    bucket       Int64,
    points       AggregateFunction(sum, UInt64),
    nan_points   AggregateFunction(sum, UInt64),
    min_value    AggregateFunction(minIf, Float64, UInt8),
    max_value    AggregateFunction(maxIf, Float64, UInt8),
    sum_value    AggregateFunction(sum, Float64),
    last_value   AggregateFunction(argMax, Float64, Tuple(Int64, Int64)),
    first_x      AggregateFunction(min, Int64),
    last_x       AggregateFunction(max, Int64),
    ingest_month Date
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(ingest_month)
ORDER BY (axis, granularity, entity_kind, key, entity_id, bucket)
SETTINGS index_granularity = 1024;

-- Stop feeding the old tables. Migrations run only while no worker is in the ingest group (scripts/migrate.ts).
DROP TABLE IF EXISTS metric_entry_1_points_mv_v1;
DROP TABLE IF EXISTS metric_entry_3_rollup_step_mv_v1;
DROP TABLE IF EXISTS metric_entry_4_rollup_time_mv_v1;
DROP TABLE IF EXISTS metric_entry_9_progress_mv_v1;

-- Copy what is stored, in slices of series (bounded memory). An interrupted run starts over from the TRUNCATE, so
-- nothing is copied twice; the old tables are dropped only by the next migration, once this one is recorded.
-- Points keep their ingest time (their partition); rollups had none, so they count as ingested this month.
TRUNCATE TABLE metric_points_v2;
TRUNCATE TABLE metric_rollup_v3;

INSERT INTO metric_points_v2 (entity_kind, entity_id, key, value, step, timestamp_ms, producer, ingested_at, src_topic, src_partition, src_offset, point_index)
SELECT entity_kind, entity_id, key, value, step, timestamp_ms, producer, ingested_at, src_topic, src_partition, src_offset, point_index
FROM metric_points_v1 WHERE cityHash64(entity_id) % 4 = 0;
INSERT INTO metric_points_v2 (entity_kind, entity_id, key, value, step, timestamp_ms, producer, ingested_at, src_topic, src_partition, src_offset, point_index)
SELECT entity_kind, entity_id, key, value, step, timestamp_ms, producer, ingested_at, src_topic, src_partition, src_offset, point_index
FROM metric_points_v1 WHERE cityHash64(entity_id) % 4 = 1;
INSERT INTO metric_points_v2 (entity_kind, entity_id, key, value, step, timestamp_ms, producer, ingested_at, src_topic, src_partition, src_offset, point_index)
SELECT entity_kind, entity_id, key, value, step, timestamp_ms, producer, ingested_at, src_topic, src_partition, src_offset, point_index
FROM metric_points_v1 WHERE cityHash64(entity_id) % 4 = 2;
INSERT INTO metric_points_v2 (entity_kind, entity_id, key, value, step, timestamp_ms, producer, ingested_at, src_topic, src_partition, src_offset, point_index)
SELECT entity_kind, entity_id, key, value, step, timestamp_ms, producer, ingested_at, src_topic, src_partition, src_offset, point_index
FROM metric_points_v1 WHERE cityHash64(entity_id) % 4 = 3;

INSERT INTO metric_rollup_v3 (axis, granularity, entity_kind, key, entity_id, bucket, points, nan_points, min_value, max_value, sum_value, last_value, first_x, last_x, ingest_month)
SELECT axis, granularity, entity_kind, key, entity_id, bucket, points, nan_points, min_value, max_value, sum_value, last_value, first_x, last_x, toStartOfMonth(today())
FROM metric_rollup_v2 WHERE cityHash64(entity_id) % 2 = 0;
INSERT INTO metric_rollup_v3 (axis, granularity, entity_kind, key, entity_id, bucket, points, nan_points, min_value, max_value, sum_value, last_value, first_x, last_x, ingest_month)
SELECT axis, granularity, entity_kind, key, entity_id, bucket, points, nan_points, min_value, max_value, sum_value, last_value, first_x, last_x, toStartOfMonth(today())
FROM metric_rollup_v2 WHERE cityHash64(entity_id) % 2 = 1;

-- The same views as 0014's, into the partitioned tables; the rollup views group by the batch's ingest month (one
-- value per batch). Names keep 0014's order; the progress view is created again last, so it also runs last on
-- current ClickHouse (creation order).
CREATE MATERIALIZED VIEW IF NOT EXISTS metric_entry_1_points_mv_v2 TO metric_points_v2 AS
SELECT CAST(if(entity_kind = 'run', 'run', 'model_version') AS Enum8('run' = 1, 'model_version' = 2)) AS entity_kind,
       entity_id, keys[k] AS key, v AS value, s AS step, t AS timestamp_ms, producer, ingested_at,
       src_topic, src_partition, src_offset, toUInt32(first_point_index + i) AS point_index
FROM metric_entry_v1
ARRAY JOIN p_key AS k, p_value AS v, p_step AS s, p_ts AS t, range(toUInt32(length(p_key))) AS i
WHERE row_kind = 'points' AND bitAnd(feed, 1) != 0 AND length(p_key) > 0;

CREATE MATERIALIZED VIEW IF NOT EXISTS metric_entry_3_rollup_step_mv_v2 TO metric_rollup_v3 AS
SELECT CAST('step' AS Enum8('step' = 1, 'time' = 2)) AS axis,
       if(entity_kind = 'marker', toInt64(0), arrayJoin(CAST([64, 1024, 16384] AS Array(Int64)))) AS granularity,
       entity_kind, keys[bk] AS key, entity_id,
       if(granularity = 0, toInt64(0), intDiv(sb, intDiv(greatest(granularity, 64), 64)) - (modulo(sb, intDiv(greatest(granularity, 64), 64)) < 0)) AS bucket,
       sumState(n) AS points, sumState(nans) AS nan_points,
       minIfState(mn, toUInt8(n > nans)) AS min_value, maxIfState(mx, toUInt8(n > nans)) AS max_value,
       sumState(s) AS sum_value, argMaxState(lv, tuple(ls, lt)) AS last_value, minState(fs) AS first_x, maxState(ls) AS last_x,
       toStartOfMonth(ingested_at) AS ingest_month
FROM metric_entry_v1
ARRAY JOIN b_key AS bk, b_step AS sb, b_n AS n, b_nans AS nans, b_min AS mn, b_max AS mx, b_sum AS s, b_last AS lv,
           b_last_step AS ls, b_last_ts AS lt, b_first_step AS fs
WHERE row_kind = 'buckets' AND bitAnd(feed, 4) != 0 AND length(b_key) > 0
GROUP BY axis, granularity, entity_kind, key, entity_id, bucket, ingest_month;

CREATE MATERIALIZED VIEW IF NOT EXISTS metric_entry_4_rollup_time_mv_v2 TO metric_rollup_v3 AS
SELECT CAST('time' AS Enum8('step' = 1, 'time' = 2)) AS axis,
       if(entity_kind = 'marker', toInt64(0), arrayJoin(CAST([4000, 64000, 1024000] AS Array(Int64)))) AS granularity,
       entity_kind, keys[bk] AS key, entity_id,
       if(granularity = 0, toInt64(0), intDiv(tb, intDiv(greatest(granularity, 4000), 4000)) - (modulo(tb, intDiv(greatest(granularity, 4000), 4000)) < 0)) AS bucket,
       sumState(n) AS points, sumState(nans) AS nan_points,
       minIfState(mn, toUInt8(n > nans)) AS min_value, maxIfState(mx, toUInt8(n > nans)) AS max_value,
       sumState(s) AS sum_value, argMaxState(lv, tuple(ls, lt)) AS last_value, minState(ft) AS first_x, maxState(mt) AS last_x,
       toStartOfMonth(ingested_at) AS ingest_month
FROM metric_entry_v1
ARRAY JOIN b_key AS bk, b_time AS tb, b_n AS n, b_nans AS nans, b_min AS mn, b_max AS mx, b_sum AS s, b_last AS lv,
           b_last_step AS ls, b_last_ts AS lt, b_first_ts AS ft, b_max_ts AS mt
WHERE row_kind = 'buckets' AND bitAnd(feed, 8) != 0 AND length(b_key) > 0
GROUP BY axis, granularity, entity_kind, key, entity_id, bucket, ingest_month;

CREATE MATERIALIZED VIEW IF NOT EXISTS metric_entry_9_progress_mv_v1 TO ingest_progress_v1 AS
SELECT src_topic, src_partition, max(src_offset) AS max_offset, max(ingested_at) AS updated_at
FROM metric_entry_v1
WHERE entity_kind = 'marker'
GROUP BY src_topic, src_partition;

-- The BI views keep their names and columns, over the partitioned tables.
DROP TABLE IF EXISTS bi_metric_points;
CREATE VIEW IF NOT EXISTS bi_metric_points AS
SELECT entity_kind, entity_id, key, step, value, timestamp_ms, toDateTime(intDiv(timestamp_ms, 1000)) AS time
FROM metric_points_v2;

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
    FROM metric_rollup_v3
    WHERE entity_kind != 'marker' AND granularity > 0
    GROUP BY entity_kind, entity_id, key, axis, granularity, bucket
);
