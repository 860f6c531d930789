-- Params are first-write-wins in Kafka order. Two query-service instances can both accept a different value for the
-- same param when the writes are in flight at the same moment (each checks against its own copy of the run's
-- state); both events reach the run's partition, and the FIRST in that order is the param (the other stays in the
-- audit trail, tracking_events_v1). run_params_v1 (migration 0004) is a ReplacingMergeTree(version = src_offset):
-- its merges keep the LAST value, so a read flipped once parts merged. run_params_v2 ranks rows by bitNot(src_offset)
-- (the earliest event has the highest rank), so merges keep the first; readers take argMax(value, rank), which is
-- the same before and after a merge. An event's src_offset is unique in its partition, and a run's events share one
-- partition (key RUN:<id>).
CREATE TABLE IF NOT EXISTS run_params_v2
(
    run_id String,
    key    String,
    value  String,
    rank   UInt64
)
ENGINE = ReplacingMergeTree(rank)
ORDER BY (run_id, key);

CREATE MATERIALIZED VIEW IF NOT EXISTS run_params_mv_v2 TO run_params_v2 AS
SELECT run_id, key, value, bitNot(src_offset) AS rank
FROM tracking_events_v1
WHERE event_type = 'PARAM_LOGGED';

-- Nothing reads run_params_v1 any more: stop feeding it (the table stays, as history; drop it by hand once no older
-- query service runs).
DROP TABLE IF EXISTS run_params_mv_v1;

-- The progress view must stay the last view of tracking_events_v1 (see 0009): current ClickHouse runs views in the
-- order they were created, so it is created again after run_params_mv_v2 (18.16 sorts by name: `run_…` < `tracking_…`).
DROP TABLE IF EXISTS tracking_progress_mv_v2;

CREATE MATERIALIZED VIEW IF NOT EXISTS tracking_progress_mv_v2 TO ingest_progress_v1 AS
SELECT src_topic, src_partition, max(src_offset) AS max_offset, max(ingested_at) AS updated_at
FROM tracking_events_v1
GROUP BY src_topic, src_partition;

-- Params stored before this migration, from the audit trail rather than run_params_v1, whose merges may already have
-- dropped the first value (migrations run before the ingest workers start: scripts/start.ts). Idempotent: a second
-- run inserts identical rows (same run_id, key, rank, value), which the table collapses and argMax ignores.
INSERT INTO run_params_v2
SELECT run_id, key, value, bitNot(src_offset) AS rank
FROM tracking_events_v1
WHERE event_type = 'PARAM_LOGGED';

-- The BI views on the new table, same names and columns (a contract: packages/clickhouse/README.md, "BI views").
-- 18.16 has no CREATE OR REPLACE VIEW.
DROP TABLE IF EXISTS bi_run_params;

CREATE VIEW IF NOT EXISTS bi_run_params AS
SELECT run_id, key, argMax(value, rank) AS value
FROM run_params_v2
GROUP BY run_id, key;

DROP TABLE IF EXISTS bi_run_params_wide;

CREATE VIEW IF NOT EXISTS bi_run_params_wide AS
SELECT run_id, groupArray(key) AS param_keys, groupArray(value) AS param_values
FROM (SELECT run_id, key, argMax(value, rank) AS value FROM run_params_v2 GROUP BY run_id, key ORDER BY run_id, key)
GROUP BY run_id;
