// Parity with Evidently, the reference: generated datasets go through the real pipeline (SDK → Kafka → ingest worker
// → ClickHouse), our API computes drift and data quality, and Evidently 0.7 (PyPI, installed on demand) computes
// them from the very same values in pandas. Every score must agree to 1e-9 relative (KS p-values 1e-6), every
// method and drifted flag must be identical, and so must the quality numbers.
//
// The cases cover small and large numerical data, categorical and binary data, NaN and ±inf, constant columns, a
// category only in current, and the boundaries where Evidently's default method switches (evidently/legacy/
// calculations/stattests/registry.py, _get_default_stattest): 1000 vs 1001 reference rows, 2 vs 3 and 5 vs 6
// distinct values; and where binning switches for PSI/KL/JS (utils.py, get_binned_data): 20 vs 21 distinct
// reference values. Every method is also requested explicitly.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows, sql } from '@runstream/clickhouse';
import { DatasetProducer } from '@runstream/sdk';
import { busFor, isolatedEnv, startPipelineService, topicsFor, waitFor, type PipelineService } from './support/pipeline-fixture.ts';
import { ensurePythonEnv, type PythonEnv } from './support/python-deps.ts';

const EVIDENTLY = ['evidently==0.7.23', 'pandas==2.3.3'];
const SCRIPT = fileURLToPath(new URL('./data-parity/evidently_reference.py', import.meta.url));

type Kind = 'numerical' | 'categorical';
type Value = number | string | null;
interface Case {
  name: string;
  columns: Record<string, Kind>;
  reference: Record<string, Value[]>;
  current: Record<string, Value[]>;
  methods?: Record<string, string>;
}

/** Deterministic PRNG (mulberry32) and a normal sampler, so every run generates the same data. */
function prng(seed: number) {
  const next = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (mean = 0, sd = 1) => mean + sd * Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  const pick = <T>(xs: readonly T[], weights?: readonly number[]): T => {
    if (!weights) return xs[Math.floor(next() * xs.length)]!;
    let u = next() * weights.reduce((a, b) => a + b, 0);
    for (let i = 0; i < xs.length; i++) if ((u -= weights[i]!) < 0) return xs[i]!;
    return xs[xs.length - 1]!;
  };
  return { next, normal, pick };
}

/** np.histogram(values, edges)[0] over the finite values: bins [e_i, e_i+1), the last one closed. */
function numpyHistogram(values: readonly Value[], edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (const v of values) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < edges[0]! || v > edges[edges.length - 1]!) continue;
    let lo = 0;
    let hi = edges.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (v >= edges[mid]!) lo = mid;
      else hi = mid;
    }
    counts[lo]!++;
  }
  return counts;
}

const r = prng(20261127);
const times = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
/** Rounded to 3 decimals: realistic ties for KS and binning. */
const round3 = (x: number) => Math.round(x * 1000) / 1000;

function buildCases(): Case[] {
  const cases: Case[] = [];
  // Small numerical (KS exact, equal and unequal sizes), with an override for every applicable method.
  cases.push({
    name: 'num_small',
    columns: { a: 'numerical', b: 'numerical', ties: 'numerical', psi: 'numerical', kl: 'numerical', js: 'numerical', hel: 'numerical', wass: 'numerical' },
    reference: {
      a: times(400, () => r.normal()),
      b: times(400, () => r.normal(5, 2)),
      ties: times(400, () => round3(r.normal())),
      psi: times(400, () => r.normal()),
      kl: times(400, () => r.normal()),
      js: times(400, () => r.normal()),
      hel: times(400, () => r.normal()),
      wass: times(400, () => r.normal()),
    },
    current: {
      a: times(350, () => r.normal(0.15)),
      b: times(350, () => r.normal(5.6, 2)),
      ties: times(350, () => round3(r.normal(0.05))),
      psi: times(350, () => r.normal(0.3)),
      kl: times(350, () => r.normal(0.3)),
      js: times(350, () => r.normal(0.3)),
      hel: times(350, () => r.normal(0.3)),
      wass: times(350, () => r.normal(0.3)),
    },
    methods: { psi: 'psi', kl: 'kl_div', js: 'jensenshannon', hel: 'hellinger', wass: 'wasserstein' },
  });
  // KS with samples of equal size (the alternating series), and one tiny pair.
  cases.push({
    name: 'ks_equal',
    columns: { e: 'numerical', ties: 'numerical' },
    reference: { e: times(250, () => r.normal()), ties: times(250, () => Math.round(r.normal() * 4)) },
    current: { e: times(250, () => r.normal(0.25)), ties: times(250, () => Math.round(r.normal(0.2) * 4)) },
  });
  cases.push({
    name: 'ks_tiny',
    columns: { t: 'numerical' },
    reference: { t: [1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5] },
    current: { t: [2.25, 3.25, 9.5, 10.5, 11.5] },
  });
  // Large numerical: Wasserstein by default; KS requested (asymptotic beyond 10 000 values); binned PSI/KL/JS/Hellinger.
  const big = 12_000;
  cases.push({
    name: 'num_large',
    columns: { w: 'numerical', w2: 'numerical', ks: 'numerical', psi: 'numerical', kl: 'numerical', js: 'numerical', hel: 'numerical' },
    reference: Object.fromEntries(['w', 'w2', 'ks', 'psi', 'kl', 'js', 'hel'].map((c) => [c, times(big, () => r.normal(10, 3))])),
    current: Object.fromEntries(['w', 'w2', 'ks', 'psi', 'kl', 'js', 'hel'].map((c, i) => [c, times(big + 500, () => (c === 'w2' ? r.normal(11, 3) : r.normal(10 + i * 0.02, 3)))])),
    methods: { ks: 'ks', psi: 'psi', kl: 'kl_div', js: 'jensenshannon', hel: 'hellinger' },
  });
  // KS asymptotic by default: a small reference against a large current.
  cases.push({
    name: 'ks_asymp',
    columns: { x: 'numerical' },
    reference: { x: times(700, () => r.normal()) },
    current: { x: times(15_000, () => r.normal(0.05)) },
  });
  // Reference rows 1000 vs 1001 (a missing value makes one column's cleaned reference 1000 rows).
  cases.push({
    name: 'rows_1000_1001',
    columns: { n1000: 'numerical', n1001: 'numerical', c1000: 'categorical', c1001: 'categorical' },
    reference: {
      n1000: [null, ...times(1000, () => r.normal())],
      n1001: times(1001, () => r.normal()),
      c1000: [null, ...times(1000, () => r.pick(['x', 'y', 'z']))],
      c1001: times(1001, () => r.pick(['x', 'y', 'z'])),
    },
    current: {
      n1000: times(900, () => r.normal(0.1)),
      n1001: times(900, () => r.normal(0.1)),
      c1000: times(900, () => r.pick(['x', 'y', 'z'], [1, 1, 1.3])),
      c1001: times(900, () => r.pick(['x', 'y', 'z'], [1, 1, 1.3])),
    },
  });
  // Distinct values 2/3 and 5/6 (reference ∪ current), small and large references.
  const levels = (k: number) => times(k, (i) => i * 1.5);
  for (const [label, n] of [['small', 600], ['large', 3000]] as const) {
    cases.push({
      name: `distinct_${label}`,
      columns: { v2: 'numerical', v3: 'numerical', v5: 'numerical', v6: 'numerical', v6new: 'numerical' },
      reference: {
        v2: times(n, () => r.pick(levels(2))),
        v3: times(n, () => r.pick(levels(3))),
        v5: times(n, () => r.pick(levels(5))),
        v6: times(n, () => r.pick(levels(6))),
        v6new: times(n, () => r.pick(levels(5))),
      },
      current: {
        v2: times(n, () => r.pick(levels(2), [1, 1.2])),
        v3: times(n, () => r.pick(levels(3), [1, 1, 1.2])),
        v5: times(n, () => r.pick(levels(5), [1, 1, 1, 1, 1.3])),
        v6: times(n, () => r.pick(levels(6))),
        // A value only in current makes 6 distinct values in the union.
        v6new: times(n, () => r.pick(levels(6))),
      },
    });
  }
  // 20 vs 21 distinct reference values: per-value shares vs Sturges bins for PSI, KL and JS.
  const grid = (k: number) => times(k, (i) => i / 4);
  cases.push({
    name: 'bins_20_21',
    columns: { psi20: 'numerical', psi21: 'numerical', kl20: 'numerical', kl21: 'numerical', js20: 'numerical', js21: 'numerical' },
    reference: Object.fromEntries(['psi', 'kl', 'js'].flatMap((m) => [[`${m}20`, times(800, () => r.pick(grid(20)))], [`${m}21`, times(800, () => r.pick(grid(21)))]])),
    current: Object.fromEntries(['psi', 'kl', 'js'].flatMap((m) => [[`${m}20`, times(700, () => r.pick(grid(22)))], [`${m}21`, times(700, () => r.pick(grid(22)))]])),
    methods: { psi20: 'psi', psi21: 'psi', kl20: 'kl_div', kl21: 'kl_div', js20: 'jensenshannon', js21: 'jensenshannon' },
  });
  // Categorical: chi-square, a category only in current, binary (z-test), large (JS), and every categorical method.
  const cats = ['red', 'green', 'blue', 'amber'];
  cases.push({
    name: 'categorical',
    columns: { color: 'categorical', newcat: 'categorical', binary: 'categorical', psi: 'categorical', kl: 'categorical', js: 'categorical', hel: 'categorical', z: 'categorical', chi: 'categorical' },
    reference: {
      color: times(500, () => r.pick(cats)),
      newcat: times(500, () => r.pick(['a', 'b', 'c'])),
      binary: times(500, () => r.pick(['no', 'yes'], [3, 1])),
      psi: times(500, () => r.pick(cats)),
      kl: times(500, () => r.pick(cats)),
      js: times(500, () => r.pick(cats)),
      hel: times(500, () => r.pick(cats)),
      z: times(500, () => r.pick(['no', 'yes'])),
      chi: times(500, () => r.pick(['no', 'yes'])),
    },
    current: {
      color: times(450, () => r.pick(cats, [1, 1, 1.4, 1])),
      newcat: times(450, () => r.pick(['a', 'b', 'c', 'ünïcødé new'])),
      binary: times(450, () => r.pick(['no', 'yes'], [2, 1])),
      psi: times(450, () => r.pick([...cats, 'new'], [1, 1, 1, 1, 0.2])),
      kl: times(450, () => r.pick([...cats, 'new'], [1, 1, 1, 1, 0.2])),
      js: times(450, () => r.pick([...cats, 'new'], [1, 1, 1, 1, 0.2])),
      hel: times(450, () => r.pick([...cats, 'new'], [1, 1, 1, 1, 0.2])),
      z: times(450, () => r.pick(['no', 'yes'], [1, 1.3])),
      chi: times(450, () => r.pick(['no', 'yes'], [1, 1.3])),
    },
    methods: { psi: 'psi', kl: 'kl_div', js: 'jensenshannon', hel: 'hellinger', z: 'z', chi: 'chisquare' },
  });
  cases.push({
    name: 'categorical_large',
    columns: { city: 'categorical', flag: 'categorical' },
    reference: { city: times(5000, () => r.pick(['ams', 'ber', 'cph', 'dub', 'edi'])), flag: times(5000, () => r.pick(['0', '1'])) },
    current: { city: times(4000, () => r.pick(['ams', 'ber', 'cph', 'dub', 'edi', 'fra'], [1, 1, 1, 1, 1, 0.3])), flag: times(4000, () => r.pick(['0', '1'], [1, 1.1])) },
  });
  // NaN, ±inf and missing values mixed into numerical data; constant columns.
  const dirty = (n: number, shift: number) => times(n, (i) => (i % 17 === 0 ? 'NaN' : i % 23 === 0 ? 'Infinity' : i % 29 === 0 ? '-Infinity' : i % 31 === 0 ? null : r.normal(shift)));
  cases.push({
    name: 'dirty_and_constant',
    columns: { dirty: 'numerical', dirty_big: 'numerical', const_same: 'numerical', const_diff: 'numerical', const_cat: 'categorical' },
    reference: { dirty: dirty(600, 0), dirty_big: dirty(600, 0), const_same: times(600, () => 7), const_diff: times(600, () => 7), const_cat: times(600, () => 'only') },
    current: { dirty: dirty(500, 0.2), dirty_big: dirty(500, 0.2), const_same: times(500, () => 7), const_diff: times(500, () => 8), const_cat: times(500, () => 'only') },
    methods: { dirty_big: 'wasserstein' },
  });
  // Many values in few buckets of the summaries' grid (read again as sub-buckets), negative values, integers, few values.
  const many = 30_000;
  cases.push({
    name: 'narrow_large',
    columns: { tight: 'numerical', tight_ks: 'numerical', neg: 'numerical', ints: 'numerical', few: 'numerical', zeros: 'numerical', strips: 'numerical', big_ints: 'numerical' },
    reference: {
      tight: times(many, () => 1e6 + r.normal(0, 1e-3)),
      tight_ks: times(many, () => 1e6 + r.normal(0, 1e-3)),
      neg: times(many, () => r.normal(-1000, 5)),
      ints: times(many, () => Math.round(r.normal(50, 15))),
      few: times(many, () => r.pick([0.5, 1, 2, 4, 8])),
      // Mostly zeros (a bucket too narrow to cut), a tail of positive values.
      zeros: times(many, (i) => (i < 25_000 ? 0 : r.normal(5, 1))),
      // Many values close together inside one bucket with other buckets around it.
      strips: times(many, (i) => (i < many - 1000 ? 1.0001 + r.next() * 1e-4 : 3)),
      // Large integers: every number in the bucket queries is a whole number.
      big_ints: times(many, () => 2 ** 40 + 4096 * Math.floor(r.next() * 30_000)),
    },
    current: {
      tight: times(many - 1000, () => 1e6 + r.normal(2e-5, 1e-3)),
      tight_ks: times(many - 1000, () => 1e6 + r.normal(2e-5, 1e-3)),
      neg: times(many - 1000, () => r.normal(-1000.05, 5)),
      ints: times(many - 1000, () => Math.round(r.normal(50.2, 15))),
      few: times(many - 1000, () => r.pick([0.5, 1, 2, 4, 8], [1, 1, 1, 1, 1.1])),
      zeros: times(many - 1000, (i) => (i < 24_000 ? 0 : r.normal(5.1, 1))),
      strips: times(many - 1000, (i) => (i < many - 2000 ? 1.0001 + r.next() * 1e-4 : 0.5)),
      big_ints: times(many - 1000, () => 2 ** 40 + 4096 * (50 + Math.floor(r.next() * 30_000))),
    },
    methods: { tight_ks: 'ks' },
  });
  cases.push({
    name: 'constant_large',
    columns: { k: 'numerical', kc: 'categorical' },
    reference: { k: times(2000, () => 3.25), kc: times(2000, () => 'same') },
    current: { k: times(1500, () => 3.25), kc: times(1500, () => 'same') },
  });
  return cases;
}

const CASES = buildCases();

// ---------------------------------------------------------------------------------------------------------------

interface EvidentlyDrift {
  method: string;
  method_label: string;
  score: number | string;
  stattest_score: number | string;
  threshold: number;
  drifted: boolean;
}
interface EvidentlyCase {
  drift: Record<string, EvidentlyDrift>;
  drifted_count: number;
  drifted_share: number;
  quality: Record<string, Record<string, unknown>>;
}

function runEvidently(python: PythonEnv, cases: Case[]): Promise<{ evidently: string; cases: Record<string, EvidentlyCase> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python.python, [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'], env: python.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`Evidently exited with ${code}: ${Buffer.concat(err).toString().slice(-4000)}`));
      resolve(JSON.parse(Buffer.concat(out).toString('utf8')));
    });
    child.stdin.end(JSON.stringify({ cases }));
  });
}

const SPECIAL: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };
const num = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' && v in SPECIAL ? SPECIAL[v]! : NaN);

/** Relative difference; two NaNs, two equal infinities or two values below 1e-300 agree. */
function relDiff(a: number, b: number): number {
  if (Number.isNaN(a) && Number.isNaN(b)) return 0;
  if (a === b) return 0;
  if (Math.abs(a) < 1e-300 && Math.abs(b) < 1e-300) return 0;
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
}

const pythonFloat = (x: number) => (x === Infinity ? 'inf' : x === -Infinity ? '-inf' : Number.isInteger(x) && Math.abs(x) < 1e16 ? x.toFixed(1) : String(x));

const datasetOf = (run: string, c: Case) => `parity-${run}-${c.name}`;

describe('drift and data quality agree with Evidently', () => {
  const env = isolatedEnv();
  const run = randomUUID().slice(0, 8);
  let svc: PipelineService;
  let evidently: { evidently: string; cases: Record<string, EvidentlyCase> };
  const ours: Record<string, { drift: any; driftFromRows: any; quality: any }> = {};
  const stats = { scores: 0, maxRel: 0, maxRelKs: 0, quality: 0, maxRelQuality: 0 };

  beforeAll(async () => {
    const python = ensurePythonEnv('evidently', EVIDENTLY);
    svc = await startPipelineService(env);
    const producer = new DatasetProducer({ producer: await busFor(env).producer({ idempotent: true }), topic: topicsFor(env).datasets, producerId: 'parity-test' });
    const now = Date.now();
    let expected = 0;
    for (const c of CASES) {
      for (const side of ['reference', 'current'] as const) {
        const data = c[side];
        const n = data[Object.keys(c.columns)[0]!]!.length;
        const rows = times(n, (i) => ({
          timestampMs: now - n + i,
          values: Object.fromEntries(Object.keys(c.columns).map((col) => {
            const v = data[col]![i] ?? null;
            return [col, typeof v === 'string' && c.columns[col] === 'numerical' ? SPECIAL[v]! : v];
          })),
        }));
        await producer.logRows(datasetOf(run, c), rows, { version: side, columns: Object.fromEntries(Object.entries(c.columns).map(([k, t]) => [k, t === 'numerical' ? 'NUMERICAL' : 'CATEGORICAL'])) });
        expected += n * Object.keys(c.columns).length;
      }
    }
    await producer.close();
    await waitFor('every dataset value stored', async () => {
      const [row] = await queryRows<{ c: string }>(svc.ch, sql`SELECT count() AS c FROM dataset_rows_v2 WHERE startsWith(dataset, ${`parity-${run}-`})`);
      return Number(row!.c) === expected;
    }, 120_000);
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${svc.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const json = await res.json();
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    for (const c of CASES) {
      const dataset = datasetOf(run, c);
      const methods = Object.fromEntries(Object.entries(c.methods ?? {}).map(([k, m]) => [k, { method: m }]));
      ours[c.name] = {
        drift: await post('/api/v1/drift', { reference: { dataset, version: 'reference' }, current: { dataset, version: 'current' }, methods }),
        // A time window reads the rows themselves instead of the summaries whole versions are served from.
        driftFromRows: await post('/api/v1/drift', { reference: { dataset, version: 'reference', from_ms: 0 }, current: { dataset, version: 'current', from_ms: 0 }, methods }),
        quality: await post(`/api/v1/datasets/${encodeURIComponent(dataset)}/quality`, { version: 'current', top_values: 100, reference: { dataset, version: 'reference' } }),
      };
    }
    evidently = await runEvidently(await python, CASES);
  }, 600_000);

  afterAll(async () => {
    await svc?.close();
    console.log(`Evidently ${evidently?.evidently}: ${stats.scores} drift scores, largest relative difference ${stats.maxRel.toExponential(2)} (KS p-values ${stats.maxRelKs.toExponential(2)}); ${stats.quality} quality numbers, largest relative difference ${stats.maxRelQuality.toExponential(2)}`);
  });

  for (const c of CASES) {
    describe(c.name, () => {
      for (const column of Object.keys(c.columns)) {
        it(`drift of ${column}: same method, score and verdict`, () => {
          const theirs = evidently.cases[c.name]!.drift[column]!;
          const mine = ours[c.name]!.drift.columns.find((x: { column: string }) => x.column === column);
          expect(mine, `column ${column} in our report`).toBeDefined();
          expect(mine.method).toBe(theirs.method);
          const diff = relDiff(num(mine.score), num(theirs.score));
          expect(relDiff(num(theirs.score), num(theirs.stattest_score))).toBe(0);
          stats.scores++;
          if (mine.method === 'ks') stats.maxRelKs = Math.max(stats.maxRelKs, diff);
          else stats.maxRel = Math.max(stats.maxRel, diff);
          expect(diff, `score ${mine.score} vs Evidently ${theirs.score}`).toBeLessThanOrEqual(mine.method === 'ks' ? 1e-6 : 1e-9);
          expect(mine.threshold).toBe(theirs.threshold);
          expect(mine.drifted).toBe(theirs.drifted);
        });
      }
      it('histograms of numerical columns: numpy\'s counts over the reported edges', () => {
        for (const [column, kind] of Object.entries(c.columns)) {
          const mine = ours[c.name]!.drift.columns.find((x: { column: string }) => x.column === column);
          if (kind !== 'numerical' || !mine?.reference_histogram?.edges) continue;
          const edges = (mine.reference_histogram.edges as unknown[]).map(num);
          expect(mine.current_histogram.edges.map(num)).toEqual(edges);
          for (const [side, values] of [['reference', c.reference[column]!], ['current', c.current[column]!]] as const) {
            expect(mine[`${side}_histogram`].counts, `${column} ${side}`).toEqual(numpyHistogram(values, edges));
          }
        }
      });
      it('the same report from the rows (a time window) as from the summaries (whole versions)', () => {
        const fromRows = ours[c.name]!.driftFromRows;
        const fromSummaries = ours[c.name]!.drift;
        expect(fromRows.columns.map((x: { column: string; method: string; drifted: boolean }) => [x.column, x.method, x.drifted])).toEqual(
          fromSummaries.columns.map((x: { column: string; method: string; drifted: boolean }) => [x.column, x.method, x.drifted]),
        );
        for (const mine of fromSummaries.columns) {
          const other = fromRows.columns.find((x: { column: string }) => x.column === mine.column);
          // Sums are added in another order: the last bits may differ.
          expect(relDiff(num(other.score), num(mine.score)), `${mine.column}`).toBeLessThanOrEqual(1e-12);
          expect(other.reference_histogram).toEqual(mine.reference_histogram);
          expect(other.current_histogram).toEqual(mine.current_histogram);
        }
      });
      it('the same number and share of drifted columns', () => {
        const theirs = evidently.cases[c.name]!;
        expect(ours[c.name]!.drift.number_of_drifted_columns).toBe(theirs.drifted_count);
        expect(ours[c.name]!.drift.share_of_drifted_columns).toBeCloseTo(theirs.drifted_share, 12);
        expect(ours[c.name]!.drift.dataset_drift).toBe(theirs.drifted_share >= 0.5);
      });
      it('data quality of the current data matches', () => {
        const theirs = evidently.cases[c.name]!.quality;
        for (const column of Object.keys(c.columns)) {
          const q = theirs[column]!;
          const mine = ours[c.name]!.quality.columns.find((x: { column: string }) => x.column === column);
          expect(mine.missing, `${column} missing`).toBe(q.missing);
          expect(relDiff(mine.missing_share, q.missing_share as number)).toBeLessThan(1e-12);
          const counts = (q.value_counts as [string, number][]).filter(([, n]) => n > 0);
          expect(mine.distinct, `${column} distinct`).toBe(counts.length);
          // Our most common values (top 100) carry the same counts and shares as Evidently's value counts.
          const byValue = new Map(counts.map(([v, n]) => [v, n]));
          for (const m of mine.most_common) {
            // Python spells floats as str(float): 7.0, inf, -inf.
            const key = typeof m.value === 'number' || m.value === 'Infinity' || m.value === '-Infinity' ? pythonFloat(num(m.value)) : m.value;
            const theirsCount = byValue.get(key) ?? byValue.get(String(m.value));
            expect(theirsCount, `${column} value ${m.value}`).toBe(m.count);
            expect(m.share).toBeCloseTo(m.count / mine.rows, 15);
          }
          if (c.columns[column] !== 'numerical') continue;
          const pairs: [string, number, unknown][] = [
            ['min', num(mine.min), q.MinValue],
            ['max', num(mine.max), q.MaxValue],
            ['mean', num(mine.mean), q.MeanValue],
            ['std', num(mine.std), q.StdValue],
            ['p25', num(mine.quantiles.p25), q['q0.25']],
            ['p50', num(mine.quantiles.p50), q['q0.5']],
            ['p75', num(mine.quantiles.p75), q['q0.75']],
          ];
          for (const [name, a, b] of pairs) {
            const d = relDiff(a, num(b));
            stats.quality++;
            stats.maxRelQuality = Math.max(stats.maxRelQuality, d);
            expect(d, `${column} ${name}: ${a} vs Evidently ${String(b)}`).toBeLessThanOrEqual(1e-9);
          }
        }
      });
    });
  }

  // The boundaries themselves, spelled out (the per-column tests above already require Evidently's method).
  it.each([
    ['rows_1000_1001', 'n1000', 'ks'],
    ['rows_1000_1001', 'n1001', 'wasserstein'],
    ['rows_1000_1001', 'c1000', 'chisquare'],
    ['rows_1000_1001', 'c1001', 'jensenshannon'],
    ['distinct_small', 'v2', 'z'],
    ['distinct_small', 'v3', 'chisquare'],
    ['distinct_small', 'v5', 'chisquare'],
    ['distinct_small', 'v6', 'ks'],
    ['distinct_small', 'v6new', 'ks'],
    ['distinct_large', 'v5', 'jensenshannon'],
    ['distinct_large', 'v6', 'wasserstein'],
    ['distinct_large', 'v6new', 'wasserstein'],
    ['categorical', 'binary', 'z'],
    ['categorical_large', 'city', 'jensenshannon'],
    ['ks_asymp', 'x', 'ks'],
    ['dirty_and_constant', 'const_same', 'z'],
    ['constant_large', 'k', 'jensenshannon'],
  ])('%s.%s uses %s by default', (name, column, method) => {
    expect(ours[name]!.drift.columns.find((x: { column: string }) => x.column === column).method).toBe(method);
  });

  it('lists new and vanished categories against the reference', () => {
    const col = ours.categorical!.quality.columns.find((x: { column: string }) => x.column === 'newcat');
    expect(col.new_categories).toEqual(['ünïcødé new']);
    expect(col.vanished_categories).toEqual([]);
  });
});
