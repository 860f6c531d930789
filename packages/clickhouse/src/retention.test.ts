import { describe, expect, it } from 'vitest';
import { expiredMonths, retentionProblems, retentionTtlStatements } from './retention.ts';

describe('expiredMonths', () => {
  const now = Date.UTC(2026, 11, 7); // 2026-12-07
  it('expires a month once its last day is `days` old, never the month still being written', () => {
    // 90 days before 2026-12-07 is 2026-09-08: August ended before it, September did not.
    expect(expiredMonths(['202607', '202608', '202609', '202612'], 90, now)).toEqual(['202607', '202608']);
    expect(expiredMonths(['202611'], 6, now)).toEqual(['202611']);
    expect(expiredMonths(['202611'], 7, now)).toEqual([]);
    expect(expiredMonths(['202612'], 1, now)).toEqual([]);
  });
  it('keeps everything for 0 days (forever) and ignores partitions that are not months', () => {
    expect(expiredMonths(['199001'], 0, now)).toEqual([]);
    expect(expiredMonths(['all', '1990'], 1, now)).toEqual([]);
  });
  it('rolls over the year', () => {
    expect(expiredMonths(['202512'], 1, Date.UTC(2026, 0, 2))).toEqual(['202512']);
    expect(expiredMonths(['202512'], 2, Date.UTC(2026, 0, 2))).toEqual([]);
  });
});

describe('retentionProblems', () => {
  it('accepts forever, and rollups kept at least as long as raw points', () => {
    expect(retentionProblems({ metricPointsDays: 0, metricRollupsDays: 0 })).toEqual([]);
    expect(retentionProblems({ metricPointsDays: 90, metricRollupsDays: 0 })).toEqual([]);
    expect(retentionProblems({ metricPointsDays: 90, metricRollupsDays: 90 })).toEqual([]);
  });
  it('refuses rollups that would expire first, fractions and negatives, naming each', () => {
    expect(retentionProblems({ metricPointsDays: 90, metricRollupsDays: 30 })).toEqual(['rollups (30 days) must be kept at least as long as raw points (90 days)']);
    expect(retentionProblems({ metricPointsDays: 0, metricRollupsDays: 30 })).toEqual(['rollups cannot expire while raw points are kept forever']);
    expect(retentionProblems({ metricPointsDays: -1, metricRollupsDays: 1.5 })).toHaveLength(2);
  });
});

it('writes the TTL from the partition column, and removes it for forever', () => {
  expect(retentionTtlStatements('metric_points_v2', 'ingested_at', 90).map((s) => s.text)).toEqual([
    'ALTER TABLE `metric_points_v2` MODIFY SETTING ttl_only_drop_parts = 1',
    'ALTER TABLE `metric_points_v2` MODIFY TTL toStartOfMonth(`ingested_at`) + toIntervalMonth(1) + toIntervalDay(90)',
  ]);
  expect(retentionTtlStatements('metric_rollup_v3', 'ingest_month', 0).map((s) => s.text)).toEqual(['ALTER TABLE `metric_rollup_v3` REMOVE TTL']);
});
