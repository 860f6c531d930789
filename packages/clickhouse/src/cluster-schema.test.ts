import { describe, expect, it } from 'vitest';
import { clusterStatements, ClusterSchemaState, replicationPath, type ClusterNames } from './cluster-schema.ts';
import { loadMigrations } from './migrate.ts';

const NAMES: ClusterNames = { cluster: 'runstream', database: 'rs', localDatabase: 'rs_local' };
const run = (statements: string[], version = 1, state = new ClusterSchemaState()) => statements.flatMap((s) => clusterStatements(s, version, NAMES, state));

describe('clusterStatements', () => {
  it('makes a MergeTree table replicated in the local database and Distributed in the main one', () => {
    const out = run([`CREATE TABLE IF NOT EXISTS t (a UInt8, v UInt64) ENGINE = ReplacingMergeTree(v) ORDER BY a`], 7);
    expect(out).toEqual([
      {
        scope: 'every-server',
        database: 'rs_local',
        text: `CREATE TABLE IF NOT EXISTS t (a UInt8, v UInt64) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/rs_local/t/m0007', '{replica}', v) ORDER BY a`,
      },
      { scope: 'every-server', database: 'rs', text: 'CREATE TABLE IF NOT EXISTS t AS rs_local.t ENGINE = Distributed(runstream, rs_local, t, rand())' },
    ]);
    expect(run([`CREATE TABLE x (a UInt8) ENGINE = MergeTree() ORDER BY a`])[0]!.text).toContain(`ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/rs_local/x/m0001', '{replica}') ORDER BY a`);
  });

  it('keeps Null entry tables and materialized views local to each server', () => {
    const state = new ClusterSchemaState();
    const out = run([`CREATE TABLE e (a UInt8) ENGINE = Null`, `CREATE MATERIALIZED VIEW IF NOT EXISTS e_mv TO t AS SELECT a FROM e`], 1, state);
    expect(out.map((s) => [s.scope, s.database])).toEqual([
      ['every-server', 'rs_local'],
      ['every-server', 'rs_local'],
    ]);
    expect(() => run([`CREATE MATERIALIZED VIEW v ENGINE = MergeTree() ORDER BY a AS SELECT a FROM e`])).toThrow(/TO a table/);
  });

  it('creates plain views in both databases and drops in both', () => {
    const state = new ClusterSchemaState();
    expect(run([`CREATE VIEW IF NOT EXISTS v AS SELECT 1`], 1, state).map((s) => s.database)).toEqual(['rs_local', 'rs']);
    expect(run([`DROP TABLE IF EXISTS v`], 2, state).map((s) => [s.database, s.text])).toEqual([
      ['rs_local', 'DROP TABLE IF EXISTS v'],
      ['rs', 'DROP TABLE IF EXISTS v'],
    ]);
  });

  it('runs replicated writes once per shard and column changes on the Distributed table too', () => {
    const state = new ClusterSchemaState();
    run([`CREATE TABLE t (a UInt8) ENGINE = MergeTree() ORDER BY a`, `CREATE TABLE e (a UInt8) ENGINE = Null`], 1, state);
    expect(run([`INSERT INTO t SELECT a FROM e`], 2, state)).toEqual([{ scope: 'one-replica-per-shard', database: 'rs_local', text: 'INSERT INTO t SELECT a FROM e' }]);
    expect(run([`TRUNCATE TABLE t`], 2, state)[0]!.scope).toBe('one-replica-per-shard');
    expect(run([`ALTER TABLE t ADD COLUMN b String`], 2, state).map((s) => [s.scope, s.database])).toEqual([
      ['one-replica-per-shard', 'rs_local'],
      ['every-server', 'rs'],
    ]);
    expect(run([`ALTER TABLE t DELETE WHERE a = 1`], 2, state).map((s) => s.scope)).toEqual(['one-replica-per-shard']);
    expect(run([`ALTER TABLE e ADD COLUMN b String`], 2, state)).toEqual([{ scope: 'every-server', database: 'rs_local', text: 'ALTER TABLE e ADD COLUMN b String' }]);
    expect(() => run([`INSERT INTO t VALUES (1)`], 2, state)).toThrow(/INSERT … SELECT/);
  });

  it('refuses statements it has no cluster form for', () => {
    expect(() => run([`RENAME TABLE a TO b`])).toThrow(/no cluster form/);
    expect(() => run([`CREATE DICTIONARY d`])).toThrow(/no cluster form/);
  });

  it('has a cluster form for every statement of every migration', () => {
    const state = new ClusterSchemaState();
    for (const m of loadMigrations()) for (const s of m.statements) expect(() => clusterStatements(s, m.version, NAMES, state), `${m.version}: ${s.slice(0, 60)}`).not.toThrow();
    // Every MergeTree-family table of the single node is replicated on the cluster.
    expect([...state.tables].filter(([, kind]) => kind === 'replicated').map(([t]) => t)).toContain('metric_points_v2');
    expect(state.tables.get('metric_entry_v1')).toBe('local');
  });

  it('gives a table re-created by a later migration a replication path of its own', () => {
    expect(replicationPath('rs_local', 't', 3)).not.toBe(replicationPath('rs_local', 't', 14));
  });
});
