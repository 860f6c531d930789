import { describe, expect, it } from 'vitest';
import { fineBuckets, FINE_STEP, FINE_TIME_MS, type FineBucket } from './fine-buckets.ts';

/** The definition, spelled out per bucket over every point (what ClickHouse computed per point before). */
function reference(points: { key: number; value: number; step: number; ts: number }[]): FineBucket[] {
  const groups = new Map<string, typeof points>();
  for (const p of points) {
    const id = `${p.key}|${Math.floor(p.step / FINE_STEP)}|${Math.floor(p.ts / FINE_TIME_MS)}`;
    groups.set(id, [...(groups.get(id) ?? []), p]);
  }
  return [...groups.values()].map((g) => {
    const finite = g.filter((p) => !Number.isNaN(p.value));
    let last = g[0]!;
    for (const p of g) if (p.step > last.step || (p.step === last.step && p.ts > last.ts)) last = p;
    return {
      key: g[0]!.key,
      stepBucket: Math.floor(g[0]!.step / FINE_STEP),
      timeBucket: Math.floor(g[0]!.ts / FINE_TIME_MS),
      n: g.length,
      nans: g.length - finite.length,
      min: finite.length ? Math.min(...finite.map((p) => p.value)) : NaN,
      max: finite.length ? Math.max(...finite.map((p) => p.value)) : NaN,
      sum: finite.reduce((s, p) => s + p.value, 0),
      last: last.value,
      lastStep: last.step,
      lastTs: last.ts,
      firstStep: Math.min(...g.map((p) => p.step)),
      firstTs: Math.min(...g.map((p) => p.ts)),
      maxTs: Math.max(...g.map((p) => p.ts)),
    };
  });
}

const columns = (points: { key: number; value: number; step: number; ts: number }[]) => ({
  key: points.map((p) => p.key),
  value: points.map((p) => p.value),
  step: points.map((p) => p.step),
  ts: points.map((p) => p.ts),
});

describe('fineBuckets', () => {
  it('matches the per-point definition on ordered, interleaved, shuffled and negative data', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const ordered = Array.from({ length: 1000 }, (_, i) => ({ key: 1 + (i % 3), value: Math.sin(i) * 10, step: Math.floor(i / 3), ts: 1_767_225_600_000 + i * 37 }));
    const shuffled = [...ordered].sort(() => rnd() - 0.5);
    const negative = Array.from({ length: 300 }, (_, i) => ({ key: 1, value: i % 7 === 0 ? NaN : -i, step: -150 + i, ts: -5000 + i * 20 }));
    const repeats = [
      { key: 1, value: 1, step: 5, ts: 100 },
      { key: 1, value: 2, step: 5, ts: 100 },
      { key: 1, value: 3, step: 5, ts: 99 },
      { key: 1, value: -Infinity, step: 4, ts: 101 },
    ];
    for (const points of [ordered, shuffled, negative, repeats]) {
      const got = fineBuckets(columns(points));
      const want = reference(points);
      expect(got.length).toBe(want.length);
      const byId = new Map(want.map((b) => [`${b.key}|${b.stepBucket}|${b.timeBucket}`, b]));
      for (const b of got) {
        const w = byId.get(`${b.key}|${b.stepBucket}|${b.timeBucket}`)!;
        // Sums may differ in the last bits with the order of addition; everything else is exact.
        expect({ ...b, sum: 0 }).toEqual({ ...w, sum: 0 });
        expect(b.sum).toBeCloseTo(w.sum, 9);
      }
    }
  });

  it('keeps NaN out of min, max and sum, and reports a bucket of nothing but NaN as NaN', () => {
    const [b] = fineBuckets(columns([{ key: 1, value: NaN, step: 0, ts: 0 }, { key: 1, value: NaN, step: 1, ts: 1 }]));
    expect(b).toMatchObject({ n: 2, nans: 2, sum: 0 });
    expect(b!.min).toBeNaN();
    expect(b!.max).toBeNaN();
    expect(b!.last).toBeNaN();
    const [c] = fineBuckets(columns([{ key: 1, value: NaN, step: 0, ts: 0 }, { key: 1, value: 4, step: 1, ts: 1 }, { key: 1, value: -2, step: 2, ts: 2 }]));
    expect(c).toMatchObject({ n: 3, nans: 1, min: -2, max: 4, sum: 2, last: -2, lastStep: 2 });
  });

  it('floors negative steps and times into the bucket below', () => {
    const [b] = fineBuckets(columns([{ key: 1, value: 1, step: -1, ts: -1 }]));
    expect(b).toMatchObject({ stepBucket: -1, timeBucket: -1 });
  });
});
