// Our ClickHouse SQL must run on ClickHouse 18.16 (the local server) and on current ClickHouse alike, and on the
// sharded cluster as on one server. This test applies every migration, inserts one Native block of awkward points
// and runs every exported SQL builder plus round trips of hostile literals on all three: the local 18.16 server,
// current ClickHouse in process via chdb (PyPI chdb-core, installed on demand), and the loopback cluster
// (deploy/cluster: 2 shards x 2 replicas, the cluster schema of the same migrations, each shard's batch inserted
// as the worker does, every query read through the Distributed tables). All must accept everything, agree on every
// result (no exceptions), and return the literals and stored doubles exactly.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clickhouseEnv, loadEnv, toClickHouseSettings } from '@runstream/config';
import {
  command,
  connectClickHouse,
  encodeMetricPointUnits,
  floatFromBits,
  ident,
  insertMetricPoints,
  listEntitiesSql,
  listMetricKeys,
  listMetricKeysSql,
  loadMigrations,
  METRIC_ENTRY_COLUMNS,
  METRIC_ENTRY_TABLE,
  metricHistorySql,
  metricSummariesSql,
  planBuckets,
  quoteFloat,
  seriesBucketsSql,
  seriesPointsSql,
  type SeriesQueryContext,
  type SeriesXAxis,
  queryRows,
  readIngestProgressSql,
  sql,
  SqlFragment,
  type ClickHouse,
  type EntityKindName,
  type HistoryCursor,
  type MetricKeySummary,
  type MetricPointRow,
  type MetricPointUnit,
  type PointValues,
  categorySetsSql,
  columnQualitySql,
  DATASET_ROW_COLUMNS,
  DATASET_ROWS_TABLE,
  distinctValuesSql,
  bucketValuesSql,
  categoryCountsSql,
  gridBounds,
  gridBucket,
  driftColumnsSql,
  fewValuesSql,
  numericBucketsSql,
  shiftedMomentsSql,
  subBucketsSql,
  encodeDatasetRowsUnits,
  insertDatasetRows,
  listDatasetsSql,
  monitorQueriesSql,
  type MonitorSource,
  sideValueCountsSql,
  topValuesSql,
  type DatasetRowsUnit,
  type RowSelection,
} from '@runstream/clickhouse';
import { ensurePythonPackages, PYTHON } from './support/python-deps.ts';
import { createLogger } from '@runstream/config';
import { connectReplicas, localDatabaseOf } from '@runstream/clickhouse';
import { applyMigrations } from '../scripts/local-stack.ts';
import { clusterEnv } from '../scripts/cluster.ts';
import { shardOfPartition } from '../services/ingest-worker/src/ingest-worker.ts';
import { runQuerySql } from '../services/query-service/src/search/run-query.ts';

const CHDB_PACKAGE = 'chdb-core==26.9.0';
const RUNNER = fileURLToPath(new URL('./support/chdb-runner.py', import.meta.url));

type Row = Record<string, unknown>;
interface Query {
  name: string;
  sql: string;
  /** No ORDER BY in the query: rows are compared as a set. */
  unordered?: boolean;
  /** Reads the server's own system tables: one server's facts, not the cluster's data (not run on the cluster). */
  serverLocal?: boolean;
}
interface ServerRun {
  version: string;
  results: Record<string, Row[]>;
}

// ---------------------------------------------------------------------------------------------------------------
// Data: three entities with hostile ids, four keys (one with nothing but NaN), ~70 points including every awkward
// double.

const RUN_A = `run-'single'-"double"-\\back\\slash-\`tick\``;
const RUN_B = 'run-ünïcødé-日本語-🚀-nul\0end';
const MODEL = "mv-\\'; DROP TABLE metric_points_v2; --\n\t1";
const HOSTILE_KEY = "key 'q' \\ \\n\nnewline é 🚀";
/** Every point of this key is NaN: its summary min/max are NaN. */
const NAN_KEY = 'all-nan';
const KEYS = ['acc', 'loss', HOSTILE_KEY, NAN_KEY];
const TOPIC = 'runstream.metrics';
const HOSTILE_TOPIC = "topic-'\\-\0-x";
const ENTITIES: { kind: EntityKindName; id: string }[] = [
  { kind: 'RUN', id: RUN_A },
  { kind: 'RUN', id: RUN_B },
  { kind: 'MODEL_VERSION', id: MODEL },
];
const SPECIAL_VALUES = [NaN, Infinity, -Infinity, -0, 0, 1e-300, 5e-324, 1e308, -1e308, 0.1, 1 / 3, -2.5, 2 ** 53, Math.PI, -1e-300];

/** Deterministic PRNG (mulberry32), so every run inserts the same rows. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INGESTED_AT = 1_700_000_100;
const POINTS_PER_MESSAGE = 3;

/** Source messages (units): per entity and key, six points in two messages of three (point_index 0..2). */
function makeUnits(): MetricPointUnit[] {
  const rand = prng(20240518);
  const units: MetricPointUnit[] = [];
  let special = 0;
  let offset = 2 ** 40; // 64-bit offsets beyond 32 bits
  for (const [e, entity] of ENTITIES.entries()) {
    for (const [k, key] of KEYS.entries()) {
      // Steps include a negative one, a repeated step (distinct timestamps) and one beyond 32 bits.
      const steps = [-1, 0, 1, 1, 2, 2 ** 40 + e];
      for (let first = 0; first < steps.length; first += POINTS_PER_MESSAGE) {
        const points: PointValues[] = [];
        for (let i = first; i < first + POINTS_PER_MESSAGE; i++) {
          const useSpecial = (i + k + e) % 2 === 0;
          const value =
            key === NAN_KEY ? NaN : useSpecial ? SPECIAL_VALUES[special++ % SPECIAL_VALUES.length]! : (rand() - 0.5) * 10 ** Math.floor(rand() * 20 - 10);
          points.push({ key, value, step: steps[i]!, timestampMs: 1_700_000_000_000 + e * 100_000 + k * 10_000 + i * 1_000 + (i === 3 ? 1 : 0) });
        }
        units.push({
          entityKind: entity.kind,
          entityId: entity.id,
          producer: first ? 'trainer-1' : "prod'\\ücer",
          srcTopic: (e + k) % 3 === 2 ? HOSTILE_TOPIC : TOPIC,
          // Four partitions, but each entity's in one shard of the cluster (partition mod 2 = entity mod 2), as the
          // producers key messages by entity: a sum over one series then adds in the same order on every server
          // (doubles such as ±1e308 make a sum depend on its order).
          srcPartition: (e % 2) + 2 * ((k + first) % 2),
          srcOffset: (offset += 1 + Math.floor(rand() * 1000)),
          points,
        });
      }
    }
  }
  return units;
}

const UNITS = makeUnits();
/** Every stored point, in insert order. */
const ROWS: MetricPointRow[] = UNITS.flatMap(({ points, ...unit }) =>
  points.map((p, pointIndex) => ({ ...unit, ...p, ingestedAt: INGESTED_AT, pointIndex })),
);
const byOrder = (a: MetricPointRow, b: MetricPointRow) =>
  a.step - b.step || a.timestampMs - b.timestampMs || a.srcPartition - b.srcPartition || a.srcOffset - b.srcOffset || a.pointIndex - b.pointIndex;
const pointsOf = (entityId: string, key: string) => ROWS.filter((r) => r.entityId === entityId && r.key === key).sort(byOrder);
/** First point of a key in insert order (where ClickHouse 18.16's plain min()/max() would keep a NaN). */
const firstInserted = (entityId: string, key: string) => ROWS.find((p) => p.entityId === entityId && p.key === key)!;
const cursorOf = (r: MetricPointRow): HistoryCursor => ({ step: r.step, timestampMs: r.timestampMs, partition: r.srcPartition, offset: r.srcOffset, index: r.pointIndex });

// Dataset rows: a hostile dataset name, two versions, numerical values with NaN, ±inf, -0, subnormals and nulls,
// categories with quotes and unicode, segments.

const HOSTILE_DATASET = "data'set\\ \"quoted\" ünï 🚀";
const DATASET_UNITS: DatasetRowsUnit[] = (() => {
  const rand = prng(77);
  const units: DatasetRowsUnit[] = [];
  const specials = [NaN, Infinity, -Infinity, -0, 5e-324, 1e308, null];
  for (const [k, version] of ['v1', "v'2"].entries()) {
    const rows = Array.from({ length: 40 }, (_, i) => ({
      timestampMs: 1_700_000_000_000 + i * 1000 + k,
      segment: i % 3 === 0 ? null : `seg-${i % 2}`,
      values: [
        i % 7 === 0 ? specials[(i / 7) % specials.length]! : Math.round((rand() - 0.5) * 1e6) / 1e3 + k,
        i % 5 === 0 ? null : ["a'b", 'ünï', 'c\\d', '🚀'][Math.floor(rand() * 4)]!,
        i % 4,
      ],
    }));
    units.push({
      batch: { dataset: HOSTILE_DATASET, version, producer: null, rows, columns: [{ name: 'x', type: 'NUMERICAL' }, { name: "cat'", type: 'CATEGORICAL' }, { name: 'level', type: 'NUMERICAL' }] },
      srcTopic: 'runstream.datasets',
      srcPartition: k,
      srcOffset: 10 + k,
    });
  }
  return units;
})();
const REF_SEL: RowSelection = { dataset: HOSTILE_DATASET, version: 'v1' };
const CUR_SEL: RowSelection = { dataset: HOSTILE_DATASET, version: "v'2", fromMs: 1_700_000_000_000, toMs: 1_700_000_030_000 };

// ---------------------------------------------------------------------------------------------------------------
// Hostile literals.

function hundredKilobytes(): string {
  const chunk = "The 'quick' \"brown\" fox \\ jumps\0over é 日本 🚀\n\t\x01 ";
  let s = '';
  while (Buffer.byteLength(s) < 100_000) s += chunk; // whole chunks: ~100 kB of UTF-8, ~117 kB escaped (< max_query_size)
  return s;
}

const HOSTILE_STRINGS: [string, string][] = [
  ['empty', ''],
  ['quote', "it's"],
  ['quotes only', "''''"],
  ['double quotes', '"x"'],
  ['backslash', '\\'],
  ['backslash quote', "\\'"],
  ['quote backslash', "'\\"],
  ['literal backslash-n', 'a\\nb'],
  ['literal backslash-x41', '\\x41 \\0 \\N'],
  ['nul', '\0'],
  ['embedded nul', 'a\0b\0'],
  ['C0 controls', Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('') + '\x7f'],
  ['whitespace escapes', '\t\n\r\b\f\v'],
  ['C1 and separators', '\u0080\u009f\u2028\u2029\ufeff'],
  ['unicode', 'ünïcødé — 日本語 — Ελληνικά — עברית'],
  ['emoji', '🚀👩‍👩‍👧🏳️‍🌈'],
  ['max code point', '\u{10ffff}'],
  ['sql injection', "'; DROP TABLE metric_points_v2; --"],
  ['comments', '-- x /* y */ # z'],
  ['parameter syntax', '{name:String} ? $1 :x %s'],
  ['backticks', '`metric_points_v2`'],
  ['hostile entity A', RUN_A],
  ['hostile entity B', RUN_B],
  ['hostile entity model', MODEL],
  ['100 kB', hundredKilobytes()],
];

const HOSTILE_FLOATS: [string, number][] = [
  ['NaN', NaN],
  ['+Infinity', Infinity],
  ['-Infinity', -Infinity],
  ['-0', -0],
  ['+0', 0],
  ['0.1', 0.1],
  ['1/3', 1 / 3],
  ['1e308', 1e308],
  ['max double', Number.MAX_VALUE],
  ['-1e308', -1e308],
  ['1e-300', 1e-300],
  ['min normal', 2.2250738585072014e-308],
  ['5e-324 (min subnormal)', 5e-324],
  ['-5e-324', -5e-324],
  ['1e-310 (subnormal)', 1e-310],
  ['2.225073858507201e-308 (max subnormal)', 2.225073858507201e-308],
  ['5e-324 as bits', 5e-324],
  ['2^53', 2 ** 53],
  ['2^53 + 2', 2 ** 53 + 2],
  ['pi', Math.PI],
];

const HOSTILE_INTS: [string, number | bigint][] = [
  ['zero', 0],
  ['-1', -1],
  ['max safe', Number.MAX_SAFE_INTEGER],
  ['min safe', Number.MIN_SAFE_INTEGER],
  ['int64 max', 2n ** 63n - 1n],
  ['int64 min', -(2n ** 63n)],
  ['uint64 max', 2n ** 64n - 1n],
];

const floatLiteral = (v: number) => new SqlFragment(quoteFloat(v));

// ---------------------------------------------------------------------------------------------------------------
// The queries: every exported SQL builder, then the literal round trips.

function buildQueries(): Query[] {
  const q: Query[] = [];
  const add = (name: string, f: SqlFragment, unordered = false, serverLocal = false) => q.push({ name, sql: f.text, unordered, serverLocal });

  add('listEntities run', listEntitiesSql('RUN', 100, undefined));
  add('listEntities run limit 1', listEntitiesSql('RUN', 1, undefined));
  add('listEntities run after A', listEntitiesSql('RUN', 100, RUN_A));
  add('listEntities run after B', listEntitiesSql('RUN', 100, RUN_B));
  add('listEntities model_version', listEntitiesSql('MODEL_VERSION', 100, undefined));
  add('listEntities model_version after hostile', listEntitiesSql('MODEL_VERSION', 100, "'\\\0"));

  for (const e of ENTITIES) {
    add(`listMetricKeys ${e.kind} ${JSON.stringify(e.id)}`, listMetricKeysSql(e.kind, e.id));
  }
  add('listMetricKeys unknown hostile id', listMetricKeysSql('RUN', "nope'\\\0🚀"));
  add('listMetricKeys wrong kind', listMetricKeysSql('MODEL_VERSION', RUN_A));

  for (const e of ENTITIES) {
    for (const key of KEYS) {
      const pts = pointsOf(e.id, key);
      const base = { kind: e.kind, entityId: e.id, key };
      const label = `${e.kind} ${JSON.stringify(e.id)} ${JSON.stringify(key)}`;
      add(`history full ${label}`, metricHistorySql({ ...base, limit: 1000 }));
      add(`history page 1 ${label}`, metricHistorySql({ ...base, limit: 2 }));
      add(`history after cursor ${label}`, metricHistorySql({ ...base, limit: 2, after: cursorOf(pts[1]!) }));
      add(`history step range ${label}`, metricHistorySql({ ...base, limit: 1000, startStep: 0, endStep: 1 }));
      add(`history range + cursor ${label}`, metricHistorySql({ ...base, limit: 1000, startStep: -1, endStep: 2 ** 40 + 5, after: cursorOf(pts[2]!) }));
    }
  }

  // Series reads (POST /api/v1/series): every path of the planner — raw points, buckets aggregated from raw
  // points, buckets merged from the rollups with and without a cut range (the union with raw edges), by step, time
  // and relative time — over every entity and key, so the rollups written by the migration's views are compared too.
  const refs = ENTITIES.filter((e) => e.kind === 'RUN').flatMap((e) => KEYS.map((key) => ({ entityId: e.id, key })));
  const origins = new Map(ENTITIES.map((e) => [e.id, 1_000]));
  for (const axis of ['step', 'time', 'relative'] as SeriesXAxis[]) {
    for (const [label, plan, cut] of [
      ['raw aggregate', { width: 3, granularity: 1 }, false],
      ['rollup', axis === 'step' ? { width: 128, granularity: 64 } : { width: 128_000, granularity: 64_000 }, false],
      ['rollup cut', axis === 'step' ? { width: 64, granularity: 64 } : { width: 4000, granularity: 4000 }, true],
    ] as const) {
      const ctx: SeriesQueryContext = {
        req: { kind: 'RUN', entityIds: refs.map((r) => r.entityId), keys: KEYS, axis, buckets: 1000, ...(cut ? { from: -5, to: 2 ** 40 } : {}) },
        plan,
        lo: -(2 ** 41),
        hi: 2 ** 41,
        origins,
      };
      add(`series buckets ${axis} ${label}`, seriesBucketsSql(ctx, refs), true);
    }
    add(`series points ${axis}`, seriesPointsSql({ req: { kind: 'RUN', entityIds: [RUN_A], keys: KEYS, axis, buckets: 10 }, plan: planBuckets('step', 0, 9, 10), lo: -10, hi: 2 ** 41, origins }, refs));
  }
  add('metric summaries of many entities', metricSummariesSql('RUN', [RUN_A, RUN_B], KEYS));
  // Run search with the DSL's every kind of term (the tracking tables are empty here: the SQL must still run).
  const search = runQuerySql({
    stages: ['active'],
    filter: "params.lr = 'x\\' OR 1=1' AND (min(metrics.loss) < 0.5 OR max(metrics.`a b`) >= 1) OR tags.t ILIKE '%A%' AND attributes.end_time > 5",
    orderBy: ['min(metrics.loss) DESC', 'params.lr', 'attributes.start_time ASC'],
    limit: 10,
    offset: 0,
  });
  for (const view of ['bi_runs', 'bi_run_params', 'bi_run_params_wide', 'bi_run_tags', 'bi_model_versions', 'bi_metric_summaries', 'bi_metric_points', 'bi_metric_rollups']) {
    add(`BI view ${view}`, sql`SELECT * FROM ${ident(view)}`, true);
  }
  add('run search page', search.page);
  add('run search total', search.total);

  // Metric points enter through metric_entry_v1 (migration 0014): its views run in this order, progress last (checked
  // on 18.16 in test/progress-order.test.ts); the views of migration 0009 on metric_points_v2 are gone.
  add(
    'entry and progress views',
    sql`SELECT name, arraySort(dependencies_table) AS views
        FROM system.tables WHERE database = currentDatabase() AND name IN ('metric_entry_v1', 'metric_points_v2', 'tracking_events_v1') ORDER BY name`,
    false,
    true,
  );

  // One insert of one Native block is one part in each table it feeds (the rollup views write one part each).
  add(
    'parts of one insert',
    sql`SELECT table, count() AS parts, sum(rows) AS rows FROM system.parts
        WHERE database = currentDatabase() AND table IN ('metric_points_v2', 'metric_summary_v2', 'metric_rollup_v3') AND active GROUP BY table ORDER BY table`,
    false,
    true,
  );
  add('ingest progress topic', readIngestProgressSql(TOPIC), true);
  add('ingest progress topic partitions 0,2', readIngestProgressSql(TOPIC, [0, 2]), true);
  add('ingest progress hostile topic', readIngestProgressSql(HOSTILE_TOPIC), true);
  add('ingest progress hostile topic partition 3', readIngestProgressSql(HOSTILE_TOPIC, [3]), true);
  add('ingest progress unknown topic', readIngestProgressSql("none'\\"), true);

  add('listDatasets', listDatasetsSql(100, undefined));
  add('listDatasets after', listDatasetsSql(100, "data'"));
  for (const [label, sel] of [['ref', REF_SEL], ['cur', CUR_SEL], ['segment', { ...REF_SEL, segment: 'seg-1' }], ['unknown', { dataset: "nope'\\" }]] as const) {
    add(`columnQuality ${label}`, columnQualitySql(sel));
    add(`topValues ${label}`, topValuesSql(sel, undefined, 3));
  }
  add('columnQuality one column', columnQualitySql(REF_SEL, ['x']));
  add('categorySets', categorySetsSql(REF_SEL, CUR_SEL, undefined, 10));
  // Drift reads: REF_SEL is whole versions (summaries of migration 0011), CUR_SEL a time window (rows).
  const wholeCur: RowSelection = { dataset: HOSTILE_DATASET, version: "v'2" };
  const windowRef: RowSelection = { ...REF_SEL, fromMs: 0 };
  // Buckets that hold stored values of x: a negative one, a positive one, and part of another.
  const xs = DATASET_UNITS.flatMap((u) => u.batch.rows.map((r) => r.values[0])).filter((v): v is number => typeof v === 'number' && Number.isFinite(v) && v !== 0);
  const negative = gridBucket(xs.find((v) => v < 0)!);
  const positive = gridBucket(xs.find((v) => v > 0)!);
  const partial = gridBounds(gridBucket(xs.filter((v) => v > 0)[1]!));
  add('driftColumns', driftColumnsSql(REF_SEL, CUR_SEL));
  add('driftColumns named', driftColumnsSql(REF_SEL, CUR_SEL, ['x', "cat'", 'nope']));
  for (const column of ['x', 'level', 'nope']) {
    add(`numericBuckets ${column} summaries + rows`, numericBucketsSql(REF_SEL, CUR_SEL, column), true);
    add(`numericBuckets ${column} rows + summaries`, numericBucketsSql(windowRef, wholeCur, column), true);
  }
  add('distinctValues', distinctValuesSql(REF_SEL, CUR_SEL, ['x', 'level']));
  add('subBuckets x', subBucketsSql(REF_SEL, CUR_SEL, 'x', { bucket: positive, ...gridBounds(positive) }, 16), true);
  add('subBuckets x window', subBucketsSql(windowRef, wholeCur, 'x', { bucket: negative, ...gridBounds(negative) }, 8), true);
  for (const [label, ref, cur] of [['summaries', REF_SEL, wholeCur], ['rows', windowRef, CUR_SEL]] as const) {
    for (const [side, sel] of [['ref', ref], ['cur', cur]] as const) add(`bucketValues ${label} ${side}`, bucketValuesSql(sel, 'x', [{ bucket: negative }, { bucket: positive }, { bucket: gridBucket(partial.lo), lo: partial.lo, hi: (partial.lo + partial.hi) / 2 }]), true);
    add(`fewValues ${label}`, fewValuesSql(ref, cur, 'level', 3), true);
    add(`categoryCounts ${label}`, categoryCountsSql(ref, cur, ["cat'", 'x'], 100));
  }
  // Kahan sums in another order differ in the last bits: compared rounded.
  const rounded = (f: SqlFragment) => sql`SELECT n, round(reinterpretAsFloat64(unhex(s)), 6) AS s6, round(reinterpretAsFloat64(unhex(q)), 3) AS q3 FROM (${f})`;
  add('shiftedMoments summaries', rounded(shiftedMomentsSql(REF_SEL, 'x', -500.25)));
  add('shiftedMoments rows', rounded(shiftedMomentsSql(CUR_SEL, 'x', 0)));
  add('sideValueCounts', sideValueCountsSql(REF_SEL, CUR_SEL, ['level', "cat'"], 100));
  // Model monitoring: every query of a binary (with late labels joined by id), multiclass and regression report.
  // Logarithms and Kahan sums may differ in the last bits between versions: the row counts are compared.
  const monitorBase = { dataset: HOSTILE_DATASET, version: "v'2", windowMs: 10_000, sensitiveColumns: ["cat'"] };
  const monitors: [string, MonitorSource][] = [
    ['binary', { ...monitorBase, task: 'binary', predictionColumn: 'level', labelColumn: 'level', scoreColumn: 'x', positiveLabel: '1', idColumn: "cat'", labels: { dataset: HOSTILE_DATASET, version: 'v1', idColumn: "cat'", labelColumn: 'level' } }],
    ['multiclass', { ...monitorBase, task: 'multiclass', predictionColumn: "cat'", labelColumn: "cat'", classScores: [{ class: "b'", column: 'x' }, { class: 'a', column: 'level' }], fromMs: 1_700_000_000_000 }],
    ['regression', { ...monitorBase, task: 'regression', predictionColumn: 'x', labelColumn: 'level', sensitiveColumns: [] }],
  ];
  for (const [name, m] of monitors) monitorQueriesSql(m).forEach((f, i) => add(`monitor ${name} ${i}`, sql`SELECT count() AS n FROM (${f})`));

  for (const [name, s] of HOSTILE_STRINGS) {
    add(`string ${name}`, sql`SELECT v, hex(v) AS h, length(v) AS n FROM (SELECT ${s} AS v)`);
  }
  for (const [name, f] of HOSTILE_FLOATS) {
    if (name.endsWith(' as bits')) {
      // The portable spelling of any double, subnormals included: its little-endian bytes.
      const bytes = Buffer.alloc(8);
      bytes.writeDoubleLE(f);
      add(`float ${name}`, sql`SELECT hex(reinterpretAsString(v)) AS bits, toTypeName(v) AS t FROM (SELECT reinterpretAsFloat64(unhex(${bytes.toString('hex')})) AS v)`);
      continue;
    }
    add(`float ${name}`, sql`SELECT hex(reinterpretAsString(v)) AS bits, toTypeName(v) AS t FROM (SELECT ${floatLiteral(f)} AS v)`);
    // The sql tag writes safe integers as integers and every other number (fractions, -0, whole numbers beyond
    // 2^53, NaN, the infinities, subnormals) with quoteFloat.
    add(`float via sql tag ${name}`, sql`SELECT hex(reinterpretAsString(v)) AS bits, toTypeName(v) AS t FROM (SELECT ${f} AS v)`);
  }
  for (const [name, n] of HOSTILE_INTS) add(`int ${name}`, sql`SELECT toString(v) AS s FROM (SELECT ${n} AS v)`);
  add('int list', sql`SELECT 3 IN ${[1, 2, 3]} AS yes, 4 IN ${[1, 2, 3]} AS no, 'b' IN ${['a', "b'"]} AS quoted`);
  return q;
}

const QUERIES = buildQueries();

// ---------------------------------------------------------------------------------------------------------------
// Running on both servers.

interface Run1816 extends ServerRun {
  /** listMetricKeys() (the TypeScript API over listMetricKeysSql) per entity, read from the same scratch database. */
  metricKeys: Record<string, MetricKeySummary[]>;
}

async function runOn1816(block: Buffer): Promise<Run1816> {
  const settings = toClickHouseSettings(loadEnv(clickhouseEnv));
  const database = `runstream_portability_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const server = connectClickHouse(settings, 'admin', { database: 'default' });
  let ch: ClickHouse | undefined;
  try {
    await command(server, sql`CREATE DATABASE ${ident(database)}`);
    ch = connectClickHouse(settings, 'admin', { database });
    const [{ v: version }] = (await queryRows<{ v: string }>(ch, sql`SELECT version() AS v`)) as [{ v: string }];
    for (const m of loadMigrations()) {
      for (const statement of m.statements) {
        await command(ch, statement).catch((err: Error) => {
          throw new Error(`18.16: migration ${m.version}_${m.name} failed: ${err.message}\n${statement}`);
        });
      }
    }
    await insertMetricPoints(ch, block);
    await insertDatasetRows(ch, DATASET_UNITS, INGESTED_AT);
    const results: Record<string, Row[]> = {};
    for (const q of QUERIES) {
      results[q.name] = await queryRows<Row>(ch, new SqlFragment(q.sql)).catch((err: Error) => {
        throw new Error(`18.16: query ${JSON.stringify(q.name)} failed: ${err.message}\n${q.sql.slice(0, 2000)}`);
      });
    }
    const metricKeys: Record<string, MetricKeySummary[]> = {};
    for (const e of ENTITIES) metricKeys[e.id] = await listMetricKeys(ch, e.kind, e.id);
    return { version, results, metricKeys };
  } finally {
    await ch?.close();
    await command(server, sql`DROP DATABASE IF EXISTS ${ident(database)}`).finally(() => server.close());
  }
}

interface ClusterRun extends ServerRun {
  shards: number;
  /** Per shard (on the replica written and on its peer): active parts and rows per table after one insert each. */
  partsPerReplica: { shard: number; url: string; parts: Record<string, { parts: number; rows: number }> }[];
}

/**
 * The cluster: the cluster schema of every migration in a scratch database, each shard's share of the points and
 * dataset rows inserted on its first replica in the shard-local database (what the worker does), then every query
 * through the Distributed tables.
 */
async function runOnCluster(): Promise<ClusterRun> {
  const database = `runstream_portability_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const env = { ...clusterEnv(process.env), CLICKHOUSE_DATABASE: database };
  const settings = toClickHouseSettings(loadEnv(clickhouseEnv, env));
  const shards = settings.cluster!.shards;
  const local = localDatabaseOf(database);
  const servers = shards.flat();
  const reader = connectReplicas(settings, 'admin', servers, { database });
  try {
    await applyMigrations(createLogger({ name: 'portability', level: 'warn' }), env);
    const [{ v: version }] = (await queryRows<{ v: string }>(reader, sql`SELECT version() AS v`)) as [{ v: string }];
    for (const [s, urls] of shards.entries()) {
      const writer = connectClickHouse({ ...settings, url: urls[0]! }, 'admin', { database: local });
      try {
        const mine = UNITS.filter((u) => shardOfPartition(u.srcPartition, shards.length) === s);
        if (mine.length > 0) await insertMetricPoints(writer, encodeMetricPointUnits(mine, INGESTED_AT));
        const datasets = DATASET_UNITS.filter((u) => shardOfPartition(u.srcPartition, shards.length) === s);
        if (datasets.length > 0) await insertDatasetRows(writer, datasets, INGESTED_AT);
      } finally {
        await writer.close();
      }
    }
    // Replication is asynchronous: wait until every replica holds what its shard was given.
    const partsPerReplica: ClusterRun['partsPerReplica'] = [];
    for (const [s, urls] of shards.entries()) {
      for (const url of urls) {
        const server = connectClickHouse({ ...settings, url }, 'admin', { database: local });
        try {
          await command(server, sql`SYSTEM SYNC REPLICA ${ident(local)}.metric_points_v2`);
          await command(server, sql`SYSTEM SYNC REPLICA ${ident(local)}.metric_summary_v2`);
          await command(server, sql`SYSTEM SYNC REPLICA ${ident(local)}.metric_rollup_v3`);
          const rows = await queryRows<{ table: string; parts: string; rows: string }>(
            server,
            sql`SELECT table, count() AS parts, sum(rows) AS rows FROM system.parts
                WHERE database = ${local} AND table IN ('metric_points_v2', 'metric_summary_v2', 'metric_rollup_v3') AND active GROUP BY table`,
          );
          partsPerReplica.push({ shard: s, url, parts: Object.fromEntries(rows.map((r) => [r.table, { parts: Number(r.parts), rows: Number(r.rows) }])) });
        } finally {
          await server.close();
        }
      }
    }
    const results: Record<string, Row[]> = {};
    const failures: string[] = [];
    for (const q of QUERIES) {
      if (q.serverLocal) continue;
      try {
        results[q.name] = await queryRows<Row>(reader, new SqlFragment(q.sql));
      } catch (err) {
        failures.push(`${JSON.stringify(q.name)}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    if (failures.length > 0) throw new Error(`cluster: ${failures.length} queries failed:\n${failures.join('\n')}`);
    return { version, results, shards: shards.length, partsPerReplica };
  } finally {
    await reader.close();
    for (const url of servers) {
      const server = connectClickHouse({ ...settings, url }, 'admin', { database: 'default' });
      await command(server, sql`DROP DATABASE IF EXISTS ${ident(database)}`).catch(() => undefined);
      await command(server, sql`DROP DATABASE IF EXISTS ${ident(local)}`).catch(() => undefined);
      await server.close();
    }
  }
}

function runOnChdb(blockFile: string, datasetFile: string): Promise<ServerRun & { timings_ms: Record<string, number> }> {
  const job = {
    statements: loadMigrations().flatMap((m) => m.statements),
    native_inserts: [
      { table: METRIC_ENTRY_TABLE, columns: METRIC_ENTRY_COLUMNS, file: blockFile },
      { table: DATASET_ROWS_TABLE, columns: DATASET_ROW_COLUMNS, file: datasetFile },
    ],
    queries: QUERIES.map(({ name, sql }) => ({ name, sql })),
  };
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [RUNNER], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      const stderr = Buffer.concat(err).toString('utf8');
      if (code !== 0) return reject(new Error(`chdb runner exited with ${code}:\n${stderr.slice(0, 4000)}`));
      try {
        resolve(JSON.parse(Buffer.concat(out).toString('utf8')));
      } catch (e) {
        reject(new Error(`chdb runner printed no JSON (${(e as Error).message}); stderr:\n${stderr.slice(0, 4000)}`));
      }
    });
    child.stdin.end(JSON.stringify(job));
  });
}

/** 64-bit integers are strings on 18.16 and numbers in chdb's JSON: compare every scalar as its text. */
function normalise(rows: Row[], unordered: boolean): string[] {
  const scalars = (v: unknown): unknown => (v === null ? null : Array.isArray(v) ? v.map(scalars) : typeof v === 'object' ? v : String(v));
  const out = rows.map((row) => JSON.stringify(Object.entries(row).map(([k, v]) => [k, v === null ? null : typeof v === 'object' ? JSON.stringify(scalars(v)) : String(v)])));
  return unordered ? out.sort() : out;
}

// ---------------------------------------------------------------------------------------------------------------

describe('SQL portability: ClickHouse 18.16 (local server), current ClickHouse (chdb) and the 18.16 cluster', () => {
  let dir: string;
  let old: PromiseSettledResult<Run1816>;
  let cluster: PromiseSettledResult<ClusterRun>;
  let current: PromiseSettledResult<ServerRun & { timings_ms: Record<string, number> }>;
  const ok = <T>(r: PromiseSettledResult<T>): T => {
    if (r.status === 'rejected') throw r.reason;
    return r.value;
  };

  beforeAll(async () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(50);
    dir = mkdtempSync(join(tmpdir(), 'runstream-portability-'));
    const block = encodeMetricPointUnits(UNITS, INGESTED_AT);
    const blockFile = join(dir, 'metric_points.native');
    writeFileSync(blockFile, block);
    const datasetFile = join(dir, 'dataset_rows.native');
    writeFileSync(datasetFile, encodeDatasetRowsUnits(DATASET_UNITS, INGESTED_AT));
    const started = Date.now();
    [old, current] = await Promise.allSettled([
      runOn1816(block),
      ensurePythonPackages([CHDB_PACKAGE]).then(() => runOnChdb(blockFile, datasetFile)),
    ]);
    [cluster] = await Promise.allSettled([runOnCluster()]);
    const versions = {
      '18.16 server': old.status === 'fulfilled' ? old.value.version : `failed: ${old.reason}`,
      chdb: current.status === 'fulfilled' ? current.value.version : `failed: ${current.reason}`,
    };
    console.log(`ClickHouse versions: local server ${versions['18.16 server']}, chdb (${CHDB_PACKAGE}) ${versions.chdb}; ` +
      `${QUERIES.length} queries, ${ROWS.length} points, ${Date.now() - started} ms` +
      (current.status === 'fulfilled' ? ` (chdb phases ${JSON.stringify(current.value.timings_ms)})` : ''));
  }, 600_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // Every query must succeed on both servers: a failing one fails its whole run (and with it every test below).
  it('applies every migration and runs every query on the local server (18.16)', () => {
    expect(ok(old).version).toMatch(/^18\.16\./);
    expect(Object.keys(ok(old).results).sort()).toEqual(QUERIES.map((q) => q.name).sort());
  });

  it('applies every migration and runs every query on current ClickHouse (chdb)', () => {
    expect(ok(current).version).toMatch(/^\d+\.\d+\./);
    expect(Number(ok(current).version.split('.')[0])).toBeGreaterThanOrEqual(24);
    expect(Object.keys(ok(current).results).sort()).toEqual(QUERIES.map((q) => q.name).sort());
  });

  it('writes every number that is not a safe integer with quoteFloat in the sql tag', () => {
    for (const [name, f] of HOSTILE_FLOATS) {
      const expected = Number.isSafeInteger(f) && !Object.is(f, -0) ? String(f) : quoteFloat(f);
      expect(sql`${f}`.text, name).toBe(expected);
    }
    expect(sql`${-0}`.text).toBe(quoteFloat(-0));
    for (const f of [5e-324, -5e-324, 1e-310, 2.225073858507201e-308]) expect(quoteFloat(f), String(f)).toMatch(/^reinterpretAsFloat64\(unhex\('[0-9a-f]{16}'\)\)$/);
  });

  it('has keys with NaN first, NaN among other values, and nothing but NaN in the data', () => {
    const all = ENTITIES.flatMap((e) => KEYS.map((key) => pointsOf(e.id, key)));
    const someNaN = (pts: MetricPointRow[]) => pts.some((p) => Number.isNaN(p.value)) && pts.some((p) => !Number.isNaN(p.value));
    expect(ENTITIES.some((e) => KEYS.some((key) => Number.isNaN(firstInserted(e.id, key).value) && someNaN(pointsOf(e.id, key)))), 'NaN first, then numbers').toBe(true);
    expect(ENTITIES.some((e) => KEYS.some((key) => !Number.isNaN(firstInserted(e.id, key).value) && someNaN(pointsOf(e.id, key)))), 'numbers, then NaN').toBe(true);
    expect(all.some((pts) => pts.every((p) => Number.isNaN(p.value))), 'only NaN').toBe(true);
  });

  it('lists metric keys with NaN-skipping min/max through the TypeScript API (18.16)', () => {
    for (const e of ENTITIES) {
      const keys = ok(old).metricKeys[e.id]!;
      expect(keys.map((k) => k.key)).toEqual([...KEYS].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
      for (const k of keys) {
        const pts = pointsOf(e.id, k.key);
        const numbers = pts.map((p) => p.value).filter((v) => !Number.isNaN(v));
        const label = `${e.id} ${k.key}`;
        expect(k.points, label).toBe(pts.length);
        if (numbers.length === 0) {
          expect(Number.isNaN(k.minValue) && Number.isNaN(k.maxValue), `${label}: only NaN, got min ${k.minValue} max ${k.maxValue}`).toBe(true);
        } else {
          // The numeric comparison does not tell -0 from 0: either may win a tie.
          expect(k.minValue === Math.min(...numbers), `${label} min: expected ${Math.min(...numbers)}, got ${k.minValue}`).toBe(true);
          expect(k.maxValue === Math.max(...numbers), `${label} max: expected ${Math.max(...numbers)}, got ${k.maxValue}`).toBe(true);
        }
        const last = [...pts].sort((x, y) => y.step - x.step || y.timestampMs - x.timestampMs)[0]!;
        expect(Object.is(k.lastValue, last.value), `${label} last value`).toBe(true);
        expect([k.firstStep, k.lastStep], label).toEqual([pts[0]!.step, last.step]);
      }
    }
  });

  it('applies every migration to the cluster and runs every query through its Distributed tables', () => {
    expect(ok(cluster).version).toMatch(/^18\.16\./);
    expect(ok(cluster).shards).toBe(2);
    expect(Object.keys(ok(cluster).results).sort()).toEqual(QUERIES.filter((q) => !q.serverLocal).map((q) => q.name).sort());
  });

  it('returns the same results on the cluster as on one server', () => {
    const a = ok(old).results;
    const b = ok(cluster).results;
    const differing: string[] = [];
    for (const q of QUERIES) {
      if (q.serverLocal) continue;
      const x = normalise(a[q.name]!, q.unordered ?? false);
      const y = normalise(b[q.name]!, q.unordered ?? false);
      if (JSON.stringify(x) === JSON.stringify(y)) continue;
      const i = x.findIndex((row, j) => row !== y[j]);
      differing.push(`${q.name} (${x.length} vs ${y.length} rows, first difference at row ${i})\n  one server: ${x[i]}\n  cluster:    ${y[i]}`);
    }
    expect(differing, differing.join('\n')).toEqual([]);
  });

  it('stores each shard\'s insert as one part per table on both of its replicas', () => {
    const perShardRows = new Map<number, number>();
    for (const r of ok(cluster).partsPerReplica) {
      const label = `shard ${r.shard} ${r.url}`;
      expect(r.parts.metric_points_v2?.parts, label).toBe(1);
      expect(r.parts.metric_summary_v2?.parts, label).toBe(1);
      expect(r.parts.metric_rollup_v3?.parts, label).toBe(2);
      // Both replicas of a shard hold the same rows.
      const known = perShardRows.get(r.shard);
      if (known !== undefined) expect(r.parts.metric_points_v2!.rows, label).toBe(known);
      perShardRows.set(r.shard, r.parts.metric_points_v2!.rows);
    }
    expect([...perShardRows.values()].reduce((x, y) => x + y, 0)).toBe(ROWS.length);
    expect([...perShardRows.values()].every((n) => n > 0), 'both shards hold points').toBe(true);
  });

  it('returns identical results on both', () => {
    const a = ok(old).results;
    const b = ok(current).results;
    const differing: string[] = [];
    for (const q of QUERIES) {
      const x = normalise(a[q.name]!, q.unordered ?? false);
      const y = normalise(b[q.name]!, q.unordered ?? false);
      if (JSON.stringify(x) !== JSON.stringify(y)) differing.push(`${q.name}\n  18.16: ${JSON.stringify(x).slice(0, 600)}\n  chdb:  ${JSON.stringify(y).slice(0, 600)}`);
    }
    expect(differing, differing.join('\n')).toEqual([]);
  });

  for (const [label, pick] of [['18.16', () => old], ['chdb', () => current]] as const) {
    describe(`on ${label}`, () => {
      const results = () => ok(pick() as PromiseSettledResult<ServerRun>).results;

      it('returns hostile string literals byte for byte', () => {
        for (const [name, s] of HOSTILE_STRINGS) {
          const [row] = results()[`string ${name}`]!;
          expect(row?.v, name).toBe(s);
          expect(String(row?.h).toLowerCase(), name).toBe(Buffer.from(s, 'utf8').toString('hex'));
          expect(Number(row?.n), name).toBe(Buffer.byteLength(s, 'utf8'));
        }
      });

      it('returns float literals bit for bit as Float64', () => {
        for (const [name, f] of HOSTILE_FLOATS) {
          const viaTag = !name.endsWith(' as bits');
          for (const prefix of viaTag ? ['float', 'float via sql tag'] : ['float']) {
            const rows = results()[`${prefix} ${name}`]!;
            expect(rows, `${prefix} ${name}`).toHaveLength(1);
            // The sql tag writes a safe integer (here +0) as an integer literal; quoteFloat always gives a Float64.
            const integral = prefix === 'float via sql tag' && Number.isSafeInteger(f) && !Object.is(f, -0);
            if (integral) expect(rows[0]?.t, `${prefix} ${name}`).toMatch(/^U?Int(8|16|32|64)$/);
            else expect(rows[0]?.t, `${prefix} ${name}`).toBe('Float64');
            expect(Object.is(floatFromBits(String(rows[0]?.bits)), f), `${prefix} ${name}: got ${floatFromBits(String(rows[0]?.bits))}`).toBe(true);
          }
        }
      });

      it('returns integer literals exactly', () => {
        for (const [name, n] of HOSTILE_INTS) expect(results()[`int ${name}`]![0]?.s, name).toBe(String(n));
        expect(normalise(results()['int list']!, false)).toEqual([JSON.stringify([['yes', '1'], ['no', '0'], ['quoted', '0']])]);
      });

      it('stores every double bit-exactly and pages histories by the cursor', () => {
        for (const e of ENTITIES) {
          for (const key of KEYS) {
            const label = `${e.kind} ${JSON.stringify(e.id)} ${JSON.stringify(key)}`;
            const pts = pointsOf(e.id, key);
            const full = results()[`history full ${label}`]!;
            expect(full.map((r) => [Number(r.step), Number(r.timestamp_ms), Number(r.src_partition), Number(r.src_offset), Number(r.point_index)]), label).toEqual(
              pts.map((p) => [p.step, p.timestampMs, p.srcPartition, p.srcOffset, p.pointIndex]),
            );
            for (const [i, r] of full.entries()) {
              const got = floatFromBits(String(r.bits));
              expect(Object.is(got, pts[i]!.value), `${label} point ${i}: stored ${pts[i]!.value}, read ${got}`).toBe(true);
            }
            // A point is identified by its source offset and its index in that message.
            const ids = (name: string) => results()[`${name} ${label}`]!.map((r) => `${String(r.src_offset)}/${String(r.point_index)}`);
            const idsOf = (ps: MetricPointRow[]) => ps.map((p) => `${p.srcOffset}/${p.pointIndex}`);
            expect(ids('history page 1')).toEqual(idsOf(pts.slice(0, 3)));
            expect(ids('history after cursor')).toEqual(idsOf(pts.slice(2, 5)));
            expect(ids('history step range')).toEqual(idsOf(pts.filter((p) => p.step >= 0 && p.step <= 1)));
            expect(ids('history range + cursor')).toEqual(idsOf(pts.slice(3)));
          }
        }
      });

      it('summarises entities and keys from the materialized view', () => {
        const runs = results()['listEntities run']!;
        expect(runs.map((r) => r.entity_id)).toEqual([RUN_A, RUN_B].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
        for (const r of runs) {
          const mine = ROWS.filter((p) => p.entityId === r.entity_id);
          expect(Number(r.metric_keys)).toBe(KEYS.length);
          expect(Number(r.points)).toBe(mine.length);
          expect(Number(r.first_ts)).toBe(Math.min(...mine.map((p) => p.timestampMs)));
          expect(Number(r.last_ts)).toBe(Math.max(...mine.map((p) => p.timestampMs)));
        }
        expect(results()['listEntities run limit 1']).toHaveLength(1);
        expect(results()['listEntities model_version']!.map((r) => r.entity_id)).toEqual([MODEL]);
        for (const e of ENTITIES) {
          const keys = results()[`listMetricKeys ${e.kind} ${JSON.stringify(e.id)}`]!;
          expect(keys.map((r) => r.key)).toEqual([...KEYS].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
          for (const r of keys) {
            const pts = pointsOf(e.id, String(r.key));
            const last = [...pts].sort((x, y) => y.step - x.step || y.timestampMs - x.timestampMs)[0]!;
            expect(Number(r.points)).toBe(pts.length);
            expect(Number(r.first_step)).toBe(pts[0]!.step);
            expect(Number(r.last_step)).toBe(last.step);
            // min/max skip NaN whatever the insert order (NaN first included); nan_points counts the NaN values.
            const numbers = pts.map((p) => p.value).filter((v) => !Number.isNaN(v));
            expect(Number(r.nan_points), `${e.id} ${String(r.key)} nan_points`).toBe(pts.length - numbers.length);
            const [gotMin, gotMax] = [floatFromBits(String(r.min_bits)), floatFromBits(String(r.max_bits))];
            if (numbers.length === 0) {
              // Only NaN: nan_points === points tells listMetricKeys to report NaN; the raw min/max are never NaN.
              expect(Number(r.nan_points), `${e.id} ${String(r.key)}: only NaN`).toBe(Number(r.points));
              expect([gotMin, gotMax].some(Number.isNaN), `${e.id} ${String(r.key)}: min/max skip NaN`).toBe(false);
            } else {
              // The numeric comparison does not tell -0 from 0: either may win a tie.
              const [min, max] = [Math.min(...numbers), Math.max(...numbers)];
              expect(gotMin === min, `${e.id} ${String(r.key)} min: expected ${min}, got ${gotMin}`).toBe(true);
              expect(gotMax === max, `${e.id} ${String(r.key)} max: expected ${max}, got ${gotMax}`).toBe(true);
            }
            expect(Object.is(floatFromBits(String(r.last_bits)), last.value), `${e.id} ${String(r.key)} last value`).toBe(true);
          }
        }
        expect(results()['listMetricKeys unknown hostile id']).toEqual([]);
        expect(results()['listMetricKeys wrong kind']).toEqual([]);
      });

      it('stores the one-block insert as one part in each table (one per rollup view)', () => {
        const parts = normalise(results()['parts of one insert']!, false).map((r) => JSON.parse(r) as [string, string][]).map((r) => Object.fromEntries(r));
        expect(parts.map((p) => [p.table, p.parts])).toEqual([['metric_points_v2', '1'], ['metric_rollup_v3', '2'], ['metric_summary_v2', '1']]);
        expect(parts[0]!.rows).toBe(String(ROWS.length));
      });

      it('maintains ingest progress through the materialized view', () => {
        for (const topic of [TOPIC, HOSTILE_TOPIC]) {
          const expected = new Map<number, number>();
          for (const p of ROWS) if (p.srcTopic === topic) expected.set(p.srcPartition, Math.max(expected.get(p.srcPartition) ?? 0, p.srcOffset));
          const name = topic === TOPIC ? 'ingest progress topic' : 'ingest progress hostile topic';
          const got = new Map(results()[name]!.map((r) => [Number(r.src_partition), Number(r.max_offset)]));
          expect(got).toEqual(expected);
        }
        expect(results()['ingest progress topic partitions 0,2']!.map((r) => Number(r.src_partition)).sort()).toEqual([0, 2]);
        expect(results()['ingest progress unknown topic']).toEqual([]);
      });
    });
  }
});
