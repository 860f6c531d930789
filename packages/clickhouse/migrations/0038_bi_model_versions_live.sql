-- bi_model_versions leaves deleted versions out (and versions of deleted or renamed models: schema v4). Same name
-- and columns (a contract: packages/clickhouse/README.md, "BI views"); `deleted` is filtered outside FINAL so the
-- newest row of a version is chosen first. 18.16 has no CREATE OR REPLACE VIEW.
DROP TABLE IF EXISTS bi_model_versions;

CREATE VIEW IF NOT EXISTS bi_model_versions AS
SELECT model, version, run_id, stage, status, source, description, creation_time_ms, created_at
FROM (
    SELECT name AS model, model_version AS version, run_id, stage, status, source, description,
           creation_time_ms, toDateTime(intDiv(creation_time_ms, 1000)) AS created_at, deleted
    FROM model_versions_v1 FINAL
)
WHERE deleted = 0;
