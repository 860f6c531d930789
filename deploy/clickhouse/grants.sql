-- Least-privilege users for current ClickHouse (20.x+ SQL access control). Run as an administrator after
-- `npm run migrate`; replace the passwords. ClickHouse 18.16 (the local stack) has no GRANT: there the same roles
-- are set in deploy/local/clickhouse/users.xml with profiles (readonly, allow_ddl) and allow_databases.

-- Ingest worker: append to the ingested tables, read its own progress. Nothing else. (It also reads
-- system.processes for its own running inserts, which every user may see without a grant.)
CREATE USER IF NOT EXISTS runstream_ingest IDENTIFIED WITH sha256_password BY 'change-me' SETTINGS allow_ddl = 0 CONST;
GRANT INSERT ON runstream.metric_entry_v1 TO runstream_ingest;
GRANT INSERT ON runstream.tracking_events_v1 TO runstream_ingest;
GRANT INSERT ON runstream.dataset_rows_v2 TO runstream_ingest;
GRANT SELECT ON runstream.ingest_progress_v1 TO runstream_ingest;
GRANT SELECT ON runstream.metric_points_v2 TO runstream_ingest;
-- What each metric table already holds (packages/clickhouse/src/metric-targets.ts): their marker rows.
GRANT SELECT ON runstream.metric_summary_v2 TO runstream_ingest;
GRANT SELECT ON runstream.metric_rollup_v3 TO runstream_ingest;
GRANT SELECT ON runstream.tracking_events_v1 TO runstream_ingest;
GRANT SELECT ON runstream.dataset_rows_v2 TO runstream_ingest;
-- Materialized views insert into their target tables as the inserting user.
GRANT INSERT ON runstream.ingest_progress_v1 TO runstream_ingest;
GRANT INSERT ON runstream.metric_points_v2 TO runstream_ingest;
GRANT INSERT ON runstream.metric_summary_v2 TO runstream_ingest;
GRANT INSERT ON runstream.metric_rollup_v3 TO runstream_ingest;
GRANT INSERT ON runstream.experiments_v1 TO runstream_ingest;
GRANT INSERT ON runstream.experiment_tags_v1 TO runstream_ingest;
GRANT INSERT ON runstream.runs_v1 TO runstream_ingest;
GRANT INSERT ON runstream.run_params_v1 TO runstream_ingest;
GRANT INSERT ON runstream.run_params_v2 TO runstream_ingest;
GRANT INSERT ON runstream.run_tags_v1 TO runstream_ingest;
GRANT INSERT ON runstream.run_inputs_v1 TO runstream_ingest;
GRANT INSERT ON runstream.registered_models_v1 TO runstream_ingest;
GRANT INSERT ON runstream.model_versions_v1 TO runstream_ingest;
GRANT INSERT ON runstream.logged_models_v1 TO runstream_ingest;
GRANT INSERT ON runstream.dataset_numeric_buckets_v1 TO runstream_ingest;
GRANT INSERT ON runstream.dataset_numeric_values_v1 TO runstream_ingest;
GRANT INSERT ON runstream.dataset_category_counts_v1 TO runstream_ingest;
GRANT INSERT ON runstream.dataset_columns_v1 TO runstream_ingest;

-- Query service: read everything in the database, write nothing; it may tune per-query limits.
CREATE USER IF NOT EXISTS runstream_query IDENTIFIED WITH sha256_password BY 'change-me' SETTINGS readonly = 2 CONST;
GRANT SELECT ON runstream.* TO runstream_query;

-- BI tools: read only, no setting changes, and only the documented views (migration 0007). The views run with
-- their definer's rights, so the BI user needs no grant on the tables behind them.
CREATE USER IF NOT EXISTS runstream_bi IDENTIFIED WITH sha256_password BY 'change-me' SETTINGS readonly = 1 CONST;
ALTER TABLE runstream.bi_runs MODIFY SQL SECURITY DEFINER;
ALTER TABLE runstream.bi_run_params MODIFY SQL SECURITY DEFINER;
ALTER TABLE runstream.bi_run_params_wide MODIFY SQL SECURITY DEFINER;
ALTER TABLE runstream.bi_run_tags MODIFY SQL SECURITY DEFINER;
ALTER TABLE runstream.bi_model_versions MODIFY SQL SECURITY DEFINER;
ALTER TABLE runstream.bi_metric_summaries MODIFY SQL SECURITY DEFINER;
ALTER TABLE runstream.bi_metric_points MODIFY SQL SECURITY DEFINER;
ALTER TABLE runstream.bi_metric_rollups MODIFY SQL SECURITY DEFINER;
GRANT SELECT ON runstream.bi_runs TO runstream_bi;
GRANT SELECT ON runstream.bi_run_params TO runstream_bi;
GRANT SELECT ON runstream.bi_run_params_wide TO runstream_bi;
GRANT SELECT ON runstream.bi_run_tags TO runstream_bi;
GRANT SELECT ON runstream.bi_model_versions TO runstream_bi;
GRANT SELECT ON runstream.bi_metric_summaries TO runstream_bi;
GRANT SELECT ON runstream.bi_metric_points TO runstream_bi;
GRANT SELECT ON runstream.bi_metric_rollups TO runstream_bi;
