// The API sends values JSON cannot carry as "NaN", "Infinity", "-Infinity".
export type JsonDouble = number | 'NaN' | 'Infinity' | '-Infinity';

export function toNumber(v: JsonDouble | null | undefined): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN' || v === null || v === undefined) return NaN;
  return v === 'Infinity' ? Infinity : -Infinity;
}

export function toNumbers(vs: readonly JsonDouble[] | undefined): Float64Array {
  const out = new Float64Array(vs?.length ?? 0);
  for (let i = 0; i < out.length; i++) out[i] = toNumber(vs![i]);
  return out;
}
