// Derives the cluster schema from the same migration files as the single node. Each cluster database comes in two:
//   <db>_local  the real tables, on every server: Replicated*MergeTree with the server's {shard}/{replica} macros,
//               the Null entry tables and the materialized views. The ingest worker writes here, on one replica of
//               the shard that owns the batch's Kafka partition; replication copies it to the other replica.
//   <db>        one Distributed table per real table, same name and columns, over <db>_local on every shard, plus
//               the plain views. The query service and BI tools read here with the single node's SQL unchanged.
// Statements are applied server by server rather than with ON CLUSTER: ClickHouse 18.16's distributed DDL resolves
// the unqualified tables inside a materialized view's SELECT against the `default` database, not the target one.
// Writes that replication already copies (INSERT … SELECT backfills, TRUNCATE, ALTER of a replicated table) run on
// one replica per shard only; running them on both would apply them twice.

export interface ClusterNames {
  /** remote_servers name, used by the Distributed tables. */
  cluster: string;
  /** Database the services read (Distributed tables, views). */
  database: string;
  /** Database of the shard-local replicated tables. */
  localDatabase: string;
}

export type ClusterScope = 'every-server' | 'one-replica-per-shard';

export interface ClusterStatement {
  scope: ClusterScope;
  database: string;
  text: string;
}

type TableKind = 'replicated' | 'local' | 'materialized-view' | 'view';

/** What the transformer knows of the tables earlier statements created; filled in as migrations are transformed. */
export class ClusterSchemaState {
  readonly tables = new Map<string, TableKind>();
}

export function localDatabaseOf(database: string): string {
  return `${database}_local`;
}

const IDENT = '([A-Za-z_][A-Za-z0-9_]*)';
const CREATE_TABLE = new RegExp(`^CREATE\\s+TABLE\\s+(IF\\s+NOT\\s+EXISTS\\s+)?${IDENT}\\b`, 'i');
const MERGE_TREE_ENGINE = /ENGINE\s*=\s*((?:Replacing|Aggregating|Summing|Collapsing|VersionedCollapsing|Graphite)?MergeTree)\s*\(([^)]*)\)/i;
const CREATE_MV = new RegExp(`^CREATE\\s+MATERIALIZED\\s+VIEW\\s+(IF\\s+NOT\\s+EXISTS\\s+)?${IDENT}\\b`, 'i');
const CREATE_VIEW = new RegExp(`^CREATE\\s+VIEW\\s+(IF\\s+NOT\\s+EXISTS\\s+)?${IDENT}\\b`, 'i');
const DROP = new RegExp(`^DROP\\s+(TABLE|VIEW)\\s+(IF\\s+EXISTS\\s+)?${IDENT}\\s*$`, 'i');
const ALTER = new RegExp(`^ALTER\\s+TABLE\\s+${IDENT}\\s+(.*)$`, 'is');
const INSERT_SELECT = new RegExp(`^INSERT\\s+INTO\\s+${IDENT}\\b`, 'i');
const TRUNCATE = new RegExp(`^TRUNCATE\\s+TABLE\\s+(IF\\s+EXISTS\\s+)?${IDENT}\\s*$`, 'i');
const OPTIMIZE = new RegExp(`^OPTIMIZE\\s+TABLE\\s+${IDENT}\\b`, 'i');

/** ZooKeeper path of a replicated table: per shard, per database, and per creating migration, so a table dropped and
 * created again by a later migration never meets the old one's replication log. */
export function replicationPath(localDatabase: string, table: string, version: number): string {
  return `/clickhouse/tables/{shard}/${localDatabase}/${table}/m${String(version).padStart(4, '0')}`;
}

/**
 * The cluster statements for one migration statement. `version` is the migration's number. Throws on a statement
 * whose effect on the cluster is not known, so a new kind of migration fails in the cluster tests instead of
 * producing a schema that differs from the single node's.
 */
export function clusterStatements(statement: string, version: number, names: ClusterNames, state: ClusterSchemaState): ClusterStatement[] {
  const text = statement.trim();
  const local = names.localDatabase;
  const main = names.database;
  const everyLocal = (t: string): ClusterStatement => ({ scope: 'every-server', database: local, text: t });
  const everyMain = (t: string): ClusterStatement => ({ scope: 'every-server', database: main, text: t });
  const oncePerShard = (t: string): ClusterStatement => ({ scope: 'one-replica-per-shard', database: local, text: t });
  let m: RegExpExecArray | null;

  if ((m = CREATE_TABLE.exec(text))) {
    const table = m[2]!;
    const engine = MERGE_TREE_ENGINE.exec(text);
    if (!engine) {
      // Null entry tables and other engines without data of their own: one per server, beside the views they feed.
      state.tables.set(table, 'local');
      return [everyLocal(text)];
    }
    const args = engine[2]!.trim();
    const path = replicationPath(local, table, version);
    const replicated = `ENGINE = Replicated${engine[1]}('${path}', '{replica}'${args ? `, ${args}` : ''})`;
    state.tables.set(table, 'replicated');
    return [
      everyLocal(text.replace(MERGE_TREE_ENGINE, replicated)),
      everyMain(`CREATE TABLE IF NOT EXISTS ${table} AS ${local}.${table} ENGINE = Distributed(${names.cluster}, ${local}, ${table}, rand())`),
    ];
  }
  if ((m = CREATE_MV.exec(text))) {
    if (!/\sTO\s/i.test(text.slice(0, text.search(/\sAS\s/i) + 1))) throw new Error(`materialized view ${m[2]} must write TO a table of its own to run on the cluster`);
    state.tables.set(m[2]!, 'materialized-view');
    return [everyLocal(text)];
  }
  if ((m = CREATE_VIEW.exec(text))) {
    // Both databases: over the shard's own tables, and over the whole cluster's.
    state.tables.set(m[2]!, 'view');
    return [everyLocal(text), everyMain(text)];
  }
  if ((m = DROP.exec(text))) {
    const table = m[3]!;
    const kind = state.tables.get(table);
    state.tables.delete(table);
    const drop = `DROP TABLE IF EXISTS ${table}`;
    if (kind === 'replicated' || kind === 'view' || kind === undefined) return [everyLocal(drop), everyMain(drop)];
    return [everyLocal(drop)];
  }
  if ((m = ALTER.exec(text))) {
    const table = m[1]!;
    const kind = state.tables.get(table);
    if (kind !== 'replicated') return [everyLocal(text)];
    const action = m[2]!.trim();
    // A replicated table's ALTER goes through its replication log; the Distributed table only needs its columns.
    const out = [oncePerShard(text)];
    if (/^(ADD|DROP|MODIFY)\s+COLUMN\b/i.test(action)) out.push(everyMain(text));
    return out;
  }
  if ((m = INSERT_SELECT.exec(text))) {
    if (!/\bSELECT\b/i.test(text)) throw new Error(`INSERT INTO ${m[1]} in a migration must be INSERT … SELECT (rows in a migration would land on every shard)`);
    return [oncePerShard(text)];
  }
  if ((m = TRUNCATE.exec(text))) {
    return state.tables.get(m[2]!) === 'replicated' ? [oncePerShard(text)] : [everyLocal(text)];
  }
  if ((m = OPTIMIZE.exec(text))) return [oncePerShard(text)];
  throw new Error(`migration ${version}: no cluster form for statement: ${text.slice(0, 80)}`);
}
