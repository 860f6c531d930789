-- Stable views for BI tools (Superset, Grafana, Metabase, …): the supported way to read Runstream's data with SQL.
-- Their names and columns are a contract (see packages/clickhouse/README.md, "BI views"); the tables behind them may
-- change. Latest states are resolved here (FINAL / -Merge), times are DateTime (UTC) next to the raw milliseconds.
-- On current ClickHouse the BI user may SELECT these views only (deploy/clickhouse/grants.sql).

CREATE VIEW IF NOT EXISTS bi_runs AS
SELECT r.run_id AS run_id, r.experiment_id AS experiment_id, e.name AS experiment_name, r.run_name AS run_name,
       r.user_id AS user_id, r.status AS status, r.lifecycle_stage AS lifecycle_stage,
       r.start_time_ms AS start_time_ms, toDateTime(intDiv(r.start_time_ms, 1000)) AS start_time,
       r.end_time_ms AS end_time_ms, if(isNull(r.end_time_ms), NULL, toDateTime(intDiv(assumeNotNull(r.end_time_ms), 1000))) AS end_time,
       if(isNull(r.end_time_ms), NULL, (assumeNotNull(r.end_time_ms) - r.start_time_ms) / 1000) AS duration_s
FROM (SELECT * FROM runs_v1 FINAL) AS r
LEFT JOIN (SELECT experiment_id, name FROM experiments_v1 FINAL) AS e USING experiment_id;

-- Params, one row per run and key (long form).
CREATE VIEW IF NOT EXISTS bi_run_params AS
SELECT run_id, key, argMin(value, version) AS value
FROM run_params_v1
GROUP BY run_id, key;

-- Params, one row per run (wide form): parallel arrays sorted by key; param_values[indexOf(param_keys, 'lr')].
CREATE VIEW IF NOT EXISTS bi_run_params_wide AS
SELECT run_id, groupArray(key) AS param_keys, groupArray(value) AS param_values
FROM (SELECT run_id, key, argMin(value, version) AS value FROM run_params_v1 GROUP BY run_id, key ORDER BY run_id, key)
GROUP BY run_id;

-- Tags, latest value per run and key; deleted tags are left out.
CREATE VIEW IF NOT EXISTS bi_run_tags AS
SELECT run_id, key, value
FROM (SELECT run_id, key, argMax(value, version) AS value, argMax(deleted, version) AS deleted FROM run_tags_v1 GROUP BY run_id, key)
WHERE deleted = 0;

CREATE VIEW IF NOT EXISTS bi_model_versions AS
SELECT name AS model, model_version AS version, run_id, stage, status, source, description,
       creation_time_ms, toDateTime(intDiv(creation_time_ms, 1000)) AS created_at
FROM model_versions_v1 FINAL;

-- One row per (run or model version, metric key): counts, extremes (NaN skipped; NaN when every value is NaN),
-- first/last step and time, last value.
CREATE VIEW IF NOT EXISTS bi_metric_summaries AS
SELECT entity_kind, entity_id, key, points, nan_points,
       if(nan_points = points, nan, min_v) AS min_value, if(nan_points = points, nan, max_v) AS max_value,
       first_step, last_step, last_value, first_timestamp_ms, last_timestamp_ms,
       toDateTime(intDiv(first_timestamp_ms, 1000)) AS first_time, toDateTime(intDiv(last_timestamp_ms, 1000)) AS last_time
FROM (
    SELECT entity_kind, entity_id, key, countMerge(points) AS points, countIfMerge(nan_points) AS nan_points,
           minIfMerge(min_value) AS min_v, maxIfMerge(max_value) AS max_v,
           minMerge(first_step) AS first_step, maxMerge(last_step) AS last_step, argMaxMerge(last_value) AS last_value,
           minMerge(first_timestamp_ms) AS first_timestamp_ms, maxMerge(last_timestamp_ms) AS last_timestamp_ms
    FROM metric_summary_v1
    GROUP BY entity_kind, entity_id, key
);

-- Every point.
CREATE VIEW IF NOT EXISTS bi_metric_points AS
SELECT entity_kind, entity_id, key, step, value, timestamp_ms, toDateTime(intDiv(timestamp_ms, 1000)) AS time
FROM metric_points_v1;

-- Downsampled series: the rollups, one row per bucket. Choose axis ('step' or 'time') and granularity (steps:
-- 64, 1024, 16384; ms: 4000, 64000, 1024000); x_start is the bucket's first x.
CREATE VIEW IF NOT EXISTS bi_metric_rollups AS
SELECT entity_kind, entity_id, key, axis, granularity, bucket, bucket * granularity AS x_start, points, nan_points,
       if(nan_points = points, nan, min_v) AS min_value, if(nan_points = points, nan, max_v) AS max_value,
       if(nan_points = points, nan, mean_v) AS mean_value, last_value, first_x, last_x
FROM (
    SELECT entity_kind, entity_id, key, axis, granularity, bucket, countMerge(points) AS points, countIfMerge(nan_points) AS nan_points,
           minIfMerge(min_value) AS min_v, maxIfMerge(max_value) AS max_v, avgIfMerge(mean_value) AS mean_v,
           argMaxMerge(last_value) AS last_value, minMerge(first_x) AS first_x, maxMerge(last_x) AS last_x
    FROM metric_rollup_v1
    GROUP BY entity_kind, entity_id, key, axis, granularity, bucket
);
