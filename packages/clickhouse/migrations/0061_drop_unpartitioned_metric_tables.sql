-- Once 0060 is recorded, the unpartitioned copies it was made from are no longer fed or read: free their space.
-- metric_summary_v1 and metric_rollup_v1 (0003, 0006) have not been fed since 0014.
DROP TABLE IF EXISTS metric_points_v1;
DROP TABLE IF EXISTS metric_rollup_v2;
DROP TABLE IF EXISTS metric_summary_v1;
DROP TABLE IF EXISTS metric_rollup_v1;
