// What the data costs on disk: per table (rows, bytes on disk, uncompressed bytes, parts, partitions) from
// system.parts, and per experiment (points, and their estimated share of the points' bytes). ClickHouse stores
// columns, not experiments, so an experiment's bytes are its share of the rows times the table's bytes per row.
import { queryRows, type ClickHouse } from './clickhouse-client.ts';
import { sql } from './sql-literal.ts';

export interface TableStorage {
  table: string;
  rows: number;
  bytesOnDisk: number;
  bytesUncompressed: number;
  parts: number;
  partitions: number;
}

/** Active parts of every table of the current database, largest first. */
export async function tableStorage(ch: ClickHouse): Promise<TableStorage[]> {
  const rows = await queryRows<Record<string, string>>(
    ch,
    sql`SELECT table, sum(rows) AS rows, sum(bytes_on_disk) AS on_disk, sum(data_uncompressed_bytes) AS uncompressed,
               count() AS parts, uniqExact(partition_id) AS partitions
        FROM system.parts WHERE database = currentDatabase() AND active
        GROUP BY table ORDER BY on_disk DESC, table`,
  );
  return rows.map((r) => ({
    table: r.table!,
    rows: Number(r.rows),
    bytesOnDisk: Number(r.on_disk),
    bytesUncompressed: Number(r.uncompressed),
    parts: Number(r.parts),
    partitions: Number(r.partitions),
  }));
}

export interface ExperimentStorage {
  experimentId: string;
  runs: number;
  points: number;
  /** The experiment's share of metric_points_v2's bytes on disk (points x the table's bytes per row). */
  estimatedPointBytes: number;
}

/**
 * Points per experiment (from the summaries, through each run's experiment), the `limit` largest. Runs whose
 * tracking state is unknown (metrics logged by the SDK without a run created through the API) count under ''.
 */
export async function experimentStorage(ch: ClickHouse, limit: number): Promise<ExperimentStorage[]> {
  const rows = await queryRows<Record<string, string>>(
    ch,
    sql`SELECT experiment_id, count() AS runs, sum(run_points) AS points,
               toUInt64(sum(run_points) * (SELECT if(sum(rows) = 0, 0, sum(bytes_on_disk) / sum(rows)) FROM system.parts
                                       WHERE database = currentDatabase() AND table = 'metric_points_v2' AND active)) AS est_bytes
        FROM (SELECT entity_id AS run_id, sumMerge(points) AS run_points FROM metric_summary_v2 WHERE entity_kind = 'run' GROUP BY entity_id)
        ANY LEFT JOIN (SELECT run_id, argMax(experiment_id, version) AS experiment_id FROM runs_v1 GROUP BY run_id) USING run_id
        GROUP BY experiment_id ORDER BY points DESC, experiment_id LIMIT ${limit}`,
  );
  return rows.map((r) => ({ experimentId: r.experiment_id!, runs: Number(r.runs), points: Number(r.points), estimatedPointBytes: Number(r.est_bytes) }));
}
