-- Permanent deletion (gc) of soft-deleted runs and experiments. A job first writes the ids it will delete here, on
-- the server (no id list passes through a client); each table then loses its rows by one ALTER TABLE ... DELETE whose
-- condition reads the job's rows, which never change afterwards, so the mutation is deterministic. The rows stay as
-- the record of what a job removed.
CREATE TABLE IF NOT EXISTS gc_runs_v1
(
    job_id        String,
    run_id        String,
    experiment_id String,
    artifact_uri  String
)
ENGINE = MergeTree()
ORDER BY (job_id, run_id);

CREATE TABLE IF NOT EXISTS gc_experiments_v1
(
    job_id            String,
    experiment_id     String,
    artifact_location String
)
ENGINE = MergeTree()
ORDER BY (job_id, experiment_id);

-- The audit trail of gc jobs: one row when a job starts (what was asked, by whom), one when it ends.
CREATE TABLE IF NOT EXISTS gc_audit_v1
(
    job_id            String,
    event             Enum8('started' = 1, 'finished' = 2, 'failed' = 3),
    at                DateTime,
    actor             String,
    older_than_ms     Int64,
    experiment_ids    Array(String),
    run_ids           Array(String),
    runs              UInt64,
    experiments       UInt64,
    points            UInt64,
    artifacts_removed UInt64,
    detail            String
)
ENGINE = MergeTree()
ORDER BY (at, job_id);
