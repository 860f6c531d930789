// A metric across model versions against a baseline version: the change of each version and whether it is worse
// than the baseline by more than a tolerance in the metric's goal direction.
import type { Goal } from './metric-goal.ts';

export interface VersionValue {
  version: string;
  value: number | undefined;
}

export interface VersionTrendPoint extends VersionValue {
  /** value - baseline; undefined when either is missing or not a number. */
  delta: number | undefined;
  degraded: boolean;
}

export function versionTrend(versions: readonly VersionValue[], baselineVersion: string, goal: Goal, tolerance: number): VersionTrendPoint[] {
  const baseline = versions.find((v) => v.version === baselineVersion)?.value;
  return versions.map((v) => {
    const comparable = v.value !== undefined && baseline !== undefined && !Number.isNaN(v.value) && !Number.isNaN(baseline);
    const delta = comparable ? v.value! - baseline! : undefined;
    const worse = delta !== undefined && (goal === 'max' ? -delta : delta) > tolerance;
    return { ...v, delta, degraded: worse };
  });
}
