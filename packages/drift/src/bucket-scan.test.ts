import { describe, expect, it } from 'vitest';
import { emptyTotals, numpyBin, profileBuckets, scanBuckets, scanValues, type PendingBucket, type ScanTotals, type ValueBucket } from './bucket-scan.ts';
import { sturgesEdges } from './histogram-edges.ts';

/** A seeded generator, so a failure reproduces. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Sample {
  values: number[];
  sides: number[];
}

function sortedPairs(ref: number[], cur: number[]): Sample {
  const pairs = [...ref.map((v) => [v, 1] as const), ...cur.map((v) => [v, 2] as const)].sort((a, b) => a[0] - b[0]);
  return { values: pairs.map((p) => p[0]), sides: pairs.map((p) => p[1]) };
}

/**
 * Buckets of sorted values by a key that is monotone in the value, with the sums ClickHouse would return; bounded by
 * their values' extremes, or by `bounds` (a grid slice).
 */
function bucketsOf(s: Sample, key: (v: number) => number, point: (k: number) => number, widen = false): { buckets: ValueBucket[]; members: Sample[] } {
  const buckets: ValueBucket[] = [];
  const members: Sample[] = [];
  let current = NaN;
  for (let i = 0; i < s.values.length; i++) {
    const v = s.values[i]!;
    const k = key(v);
    if (k !== current) {
      current = k;
      buckets.push({ point: point(k), lo: v, hi: v, c1: 0, c2: 0, s1: 0, s2: 0, q1: 0 });
      members.push({ values: [], sides: [] });
    }
    const b = buckets[buckets.length - 1]!;
    const m = members[members.length - 1]!;
    m.values.push(v);
    m.sides.push(s.sides[i]!);
    b.hi = v;
    if (s.sides[i] === 1) {
      b.c1++;
      b.s1 += v - b.point;
      b.q1 += (v - b.point) ** 2;
    } else {
      b.c2++;
      b.s2 += v - b.point;
    }
  }
  if (widen) {
    // Halfway to the neighbours' values (one further out at the ends): wider than the values, never overlapping.
    const lows = buckets.map((b, i) => (i === 0 ? b.lo - 1 : (buckets[i - 1]!.hi + b.lo) / 2));
    const highs = buckets.map((b, i) => (i + 1 === buckets.length ? b.hi + 1 : (b.hi + buckets[i + 1]!.lo) / 2));
    buckets.forEach((b, i) => {
      b.lo = lows[i]!;
      b.hi = highs[i]!;
    });
  }
  return { buckets, members };
}

/** KS and W numerators and histograms by brute force over the sorted merged sample. */
function bruteForce(ref: number[], cur: number[], edges: number[][]) {
  const s = sortedPairs(ref, cur);
  let a = 0;
  let b = 0;
  let d = 0;
  let w = 0;
  for (let i = 0; i < s.values.length; i++) {
    if (s.sides[i] === 1) a++;
    else b++;
    const diff = Math.abs(a * cur.length - b * ref.length);
    if (i + 1 < s.values.length) w += diff * (s.values[i + 1]! - s.values[i]!);
    if (i + 1 === s.values.length || s.values[i + 1] !== s.values[i]) d = Math.max(d, diff);
  }
  const count = (xs: number[], e: number[]) => e.slice(0, -1).map((lo, i) => xs.filter((x) => x >= lo && (i === e.length - 2 ? x <= e[i + 1]! : x < e[i + 1]!)).length);
  return { d, w, histograms: edges.map((e) => ({ reference: count(ref, e), current: count(cur, e) })) };
}

/** Scans coarse buckets, then settles every pending bucket from its values (as the query service does). */
function scanAll(s: Sample, n1: number, n2: number, key: (v: number) => number, point: (k: number) => number, edges: number[][], widen = false, ks = true): ScanTotals & { pending: number } {
  const { buckets, members } = bucketsOf(s, key, point, widen);
  const totals = emptyTotals(n1, n2, edges);
  const pending: PendingBucket[] = scanBuckets(buckets, 0, { wasserstein: true, ks, histograms: edges.map(() => true) }, edges, totals);
  for (const p of pending) {
    const m = members[buckets.indexOf(p.bucket)]!;
    scanValues(m.values, m.sides, p, edges, totals);
  }
  return { ...totals, pending: pending.length };
}

const rel = (a: number, b: number) => (a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b)));

describe('scanBuckets', () => {
  const cases: [string, (r: () => number) => number, number, number][] = [
    ['normal, small shift', (r) => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r()), 0.05, 1],
    ['uniform, large shift', (r) => r() * 100, 30, 1],
    ['ties: a few integers', (r) => Math.floor(r() * 7), 1, 1],
    ['large offset, small spread', (r) => 1e9 + r() * 1e-3, 1e-4, 1],
    ['negative and positive', (r) => (r() - 0.5) * 1e6, 1e4, 1],
  ];
  for (const [name, draw, shift, seed] of cases) {
    it(`is exact against brute force: ${name}`, () => {
      const r = random(seed + name.length);
      const ref = Array.from({ length: 3000 }, () => draw(r));
      const cur = Array.from({ length: 2000 }, () => draw(r) + shift);
      const all = [...ref, ...cur];
      const min = Math.min(...all);
      const max = Math.max(...all);
      const edges = [sturgesEdges(min, max, all.length), sturgesEdges(min, max, 7)];
      const expected = bruteForce(ref, cur, edges);
      for (const width of [(max - min) / 50, (max - min) / 700, (max - min) / 20000]) {
        const key = (v: number) => Math.floor((v - min) / width);
        // Bounded by the values, and by grid slices wider than them (the way summaries are read).
        for (const widen of [false, true]) {
          const got = scanAll(sortedPairs(ref, cur), ref.length, cur.length, key, (k) => min + k * width, edges, widen);
          expect(got.dNumerator).toBe(expected.d);
          expect(rel(got.wasserstein, expected.w / (ref.length * cur.length))).toBeLessThan(1e-11);
          expect(got.histograms).toEqual(expected.histograms);
        }
      }
    });
  }

  it('settles sign-stable buckets without their values, and reads only what may hide the maximum', () => {
    // Reference entirely below current: D only grows then shrinks, every bucket is sign-stable.
    const ref = Array.from({ length: 1000 }, (_, i) => i / 1000);
    const cur = Array.from({ length: 1000 }, (_, i) => 2 + i / 1000);
    const expected = bruteForce(ref, cur, []);
    const got = scanAll(sortedPairs(ref, cur), 1000, 1000, (v) => Math.floor(v * 10), (k) => k / 10, []);
    expect(rel(got.wasserstein, expected.w / (ref.length * cur.length))).toBeLessThan(1e-12);
    expect(got.dNumerator).toBe(expected.d);
    expect(got.pending).toBe(0);
  });
});

describe('scanBuckets precision', () => {
  it('reads again buckets whose sums would cancel: values far from their point relative to their spread', () => {
    const r = random(11);
    // Two buckets, one per side, whose point (0) is 1e6 below values spread over 0.001: each is sign-stable, so its
    // sums alone would be used, and they would cancel.
    const ref = Array.from({ length: 4000 }, () => 1e6 + r() * 1e-3);
    const cur = Array.from({ length: 3000 }, () => 1e6 + 1 + r() * 1e-3);
    const expected = bruteForce(ref, cur, []);
    const got = scanAll(sortedPairs(ref, cur), ref.length, cur.length, (v) => Math.floor(v), () => 0, [], false, false);
    expect(got.pending).toBe(2);
    expect(rel(got.wasserstein, expected.w / (ref.length * cur.length))).toBeLessThan(1e-12);
  });
});

describe('scanBuckets range', () => {
  it('stays finite where values reach the largest doubles (scipy: 5e301 for these samples)', () => {
    const ref = Array.from({ length: 2000 }, (_, i) => i / 1000);
    const cur = [...ref.slice(0, 1999), 1e305];
    const got = scanAll(sortedPairs(ref, cur), ref.length, cur.length, (v) => Math.floor(Math.log2(v + 1)), (k) => 2 ** k - 1, [], false, false);
    expect(rel(got.wasserstein, (1e305 - 1.999) / 2000)).toBeLessThan(1e-12);
  });
});

describe('profileBuckets', () => {
  it('gives counts and a precise standard deviation where values are large and close together', () => {
    const r = random(7);
    const ref = Array.from({ length: 5000 }, () => 1e8 + r());
    const cur = Array.from({ length: 100 }, () => 1e8 + 2 * r());
    const { buckets } = bucketsOf(sortedPairs(ref, cur), (v) => Math.floor((v - 1e8) * 256), (k) => 1e8 + k / 256);
    const p = profileBuckets(buckets, 64, 1e8 + 1);
    const mean = ref.reduce((a, b) => a + b, 0) / ref.length;
    const std = Math.sqrt(ref.reduce((a, b) => a + (b - mean) ** 2, 0) / ref.length);
    expect(p.n1).toBe(5000);
    expect(p.n2).toBe(100);
    expect(rel(p.refStdPop, std)).toBeLessThan(1e-12);
    expect(p.refStdPrecise).toBe(true);
    // The same values in one wide bucket whose point is far below them: the sums cannot be trusted, and say so.
    const wide = bucketsOf(sortedPairs(ref, cur), () => 0, () => 0).buckets;
    expect(profileBuckets(wide, 64, 1e8 + 1).refStdPrecise).toBe(false);
    expect(p.distinctAll).toBe(65);
    expect(p.distinctRef).toBe(65);
  });

  it('leaves distinct counts to the values when few buckets hold values, and gives NaN where numpy overflows', () => {
    const few = bucketsOf(sortedPairs([1, 1, 2, 3], [3, 4]), (v) => v, (k) => k).buckets;
    expect(profileBuckets(few, 64, 3)).toMatchObject({ distinctAll: undefined, distinctRef: undefined, refStdPop: Math.sqrt(0.6875) });
    expect(profileBuckets(few, 3, 3)).toMatchObject({ distinctAll: 4, distinctRef: undefined });
    expect(profileBuckets(bucketsOf(sortedPairs([1e200], [1]), (v) => v, (k) => k).buckets, 64, 1e200).refStdPop).toBeNaN();
  });
});

describe('numpyBin', () => {
  it('uses half-open bins with the last one closed', () => {
    const edges = [0, 1, 2, 3];
    expect([0, 0.5, 1, 2.999, 3].map((v) => numpyBin(edges, v))).toEqual([0, 0, 1, 2, 2]);
  });
});
