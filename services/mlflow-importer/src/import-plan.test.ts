import { describe, expect, it } from 'vitest';
import type { ExperimentRow, RunRow } from '@runstream/clickhouse';
import type { MetricPoint } from '@runstream/codec';
import {
  chunks,
  eventBatches,
  compareDoubles,
  comparePoints,
  planExperiment,
  planMetricKey,
  planRun,
  prefixSums,
  storablePoints,
  type StoredSeries,
} from './import-plan.ts';
import type { SourceExperiment, SourcePoint, SourceRunInfo } from './mlflow-rest-client.ts';

const NOW = Date.UTC(2026, 0, 1);
const T0 = Date.UTC(2025, 5, 1);

function history(n: number, key = 'loss'): SourcePoint[] {
  // Deliberately not in sending order: MLflow returns (timestamp, step, value) order, we send (step, timestamp, value).
  const out: SourcePoint[] = [];
  for (let i = n - 1; i >= 0; i--) out.push({ key, value: i % 7 === 0 ? NaN : 1 / (i + 1), step: Math.floor(i / 2), timestampMs: T0 + ((i * 37) % n) });
  return out;
}

/** What Runstream would hold after storing the first `count` points of the sending order. */
function storedPrefix(points: SourcePoint[], key: string, count: number): StoredSeries {
  const { valid } = storablePoints(key, points, NOW);
  return { count, ...prefixSums(valid, count) };
}

describe('metric histories: the prefix rule', () => {
  it('sends every storable point, sorted by step, timestamp, value, when Runstream has none', () => {
    const src = history(50);
    const plan = planMetricKey('r1', 'loss', src, undefined, { nowMs: NOW });
    expect(plan.valid).toBe(50);
    expect(plan.alreadyPresent).toBe(0);
    expect(plan.toSend).toHaveLength(50);
    const sorted = [...plan.toSend].sort(comparePoints);
    expect(plan.toSend).toEqual(sorted);
    expect(plan.toSend.map((p) => p.step)).toEqual([...plan.toSend.map((p) => p.step)].sort((a, b) => a - b));
  });

  it('sends only what follows the stored prefix, for every prefix length (a crash at any point)', () => {
    const src = history(40);
    const full = planMetricKey('r1', 'loss', src, undefined, { nowMs: NOW }).toSend;
    for (let k = 0; k <= 40; k++) {
      const plan = planMetricKey('r1', 'loss', src, storedPrefix(src, 'loss', k), { nowMs: NOW });
      expect(plan.conflict).toBeUndefined();
      expect(plan.alreadyPresent).toBe(k);
      expect([...full.slice(0, k), ...plan.toSend]).toEqual(full);
    }
  });

  it('gives the same order whatever order the source returned the points in', () => {
    const src = history(30);
    const a = planMetricKey('r1', 'loss', src, undefined, { nowMs: NOW }).toSend;
    const b = planMetricKey('r1', 'loss', [...src].reverse(), undefined, { nowMs: NOW }).toSend;
    expect(a.map((p) => [p.step, p.timestampMs, String(p.value)])).toEqual(b.map((p) => [p.step, p.timestampMs, String(p.value)]));
  });

  it('orders repeated steps by timestamp, then value (NaN last, -0 before +0)', () => {
    const pts: SourcePoint[] = [
      { key: 'm', value: NaN, step: 1, timestampMs: T0 },
      { key: 'm', value: 0, step: 1, timestampMs: T0 },
      { key: 'm', value: -0, step: 1, timestampMs: T0 },
      { key: 'm', value: -Infinity, step: 1, timestampMs: T0 },
      { key: 'm', value: 5, step: 1, timestampMs: T0 - 1 },
      { key: 'm', value: Infinity, step: 0, timestampMs: T0 + 9 },
    ];
    const sent = planMetricKey('r', 'm', pts, undefined, { nowMs: NOW }).toSend;
    expect(sent.map((p) => [p.step, p.timestampMs - T0])).toEqual([[0, 9], [1, -1], [1, 0], [1, 0], [1, 0], [1, 0]]);
    expect(sent.slice(2).map((p) => (Object.is(p.value, -0) ? '-0' : String(p.value)))).toEqual(['-Infinity', '-0', '0', 'NaN']);
    expect(compareDoubles(NaN, NaN)).toBe(0);
    expect(compareDoubles(1, NaN)).toBe(-1);
  });

  it('sends nothing when everything is stored', () => {
    const src = history(25);
    const plan = planMetricKey('r1', 'loss', src, storedPrefix(src, 'loss', 25), { nowMs: NOW });
    expect(plan.toSend).toEqual([]);
    expect(plan.alreadyPresent).toBe(25);
    expect(plan.conflict).toBeUndefined();
  });

  it('is a conflict (nothing sent) when Runstream holds more points than the source', () => {
    const src = history(10);
    const stored = { ...storedPrefix(src, 'loss', 10), count: 11 };
    const plan = planMetricKey('r1', 'loss', src, stored, { nowMs: NOW });
    expect(plan.toSend).toEqual([]);
    expect(plan.conflict?.message).toMatch(/holds 11 points .* 10 storable/);
  });

  it('is a conflict when the stored points are not the first ones of the sequence', () => {
    const src = history(10);
    const { valid } = storablePoints('loss', src, NOW);
    // Same count, but points 1..5 instead of 0..4 (e.g. logged to this run by someone else).
    const wrong: StoredSeries = { count: 5, ...prefixSums(valid.slice(1), 5) };
    const plan = planMetricKey('r1', 'loss', src, wrong, { nowMs: NOW });
    expect(plan.toSend).toEqual([]);
    expect(plan.conflict?.kind).toBe('metric');
    expect(plan.conflict?.message).toMatch(/not the first 5/);
  });

  it('compares sums the way ClickHouse computes them (wrapping Int64)', () => {
    const big: MetricPoint[] = [
      { key: 'k', value: 1, step: Number.MAX_SAFE_INTEGER, timestampMs: T0 },
      { key: 'k', value: 1, step: Number.MAX_SAFE_INTEGER, timestampMs: T0 },
    ];
    expect(prefixSums(big, 2).stepSum).toBe(BigInt.asIntN(64, 2n * BigInt(Number.MAX_SAFE_INTEGER)));
    const many = Array.from({ length: 1100 }, () => ({ key: 'k', value: 1, step: Number.MAX_SAFE_INTEGER, timestampMs: T0 }));
    expect(prefixSums(many, 1100).stepSum).toBe(BigInt.asIntN(64, 1100n * BigInt(Number.MAX_SAFE_INTEGER)));
    expect(prefixSums(many, 1100).stepSum < 0n || prefixSums(many, 1100).stepSum > 0n).toBe(true);
  });

  it('reports points that cannot be stored and counts them, keeping the rest', () => {
    const pts: SourcePoint[] = [
      { key: 'm', value: 1, step: 0, timestampMs: T0 },
      { key: 'm', value: 2, step: -1, timestampMs: T0 },
      { key: 'm', value: 3, step: 1, timestampMs: 5 },
      { key: 'm', value: null, rawValue: 'banana', step: 2, timestampMs: T0 },
      { key: 'm', value: 4, step: 2 ** 60, timestampMs: T0 },
      { key: 'm', value: 5, step: 3, timestampMs: NOW + 2 * 86_400_000 },
      { key: 'm', value: 6, step: 4, timestampMs: T0 },
    ];
    const plan = planMetricKey('r', 'm', pts, undefined, { nowMs: NOW });
    expect(plan.sourcePoints).toBe(7);
    // MLflow's own rules: negative steps, early and future timestamps are stored like any other point.
    expect(plan.valid).toBe(5);
    expect(plan.invalid.count).toBe(2);
    expect(plan.invalid.examples).toHaveLength(2);
    expect(plan.invalid.examples[0]).toMatch(/"banana".*not a number/);
    expect(plan.invalid.examples[1]).toMatch(/step .* must be an integer/);
    expect(plan.toSend.map((p) => p.value)).toEqual([2, 1, 3, 5, 6]);
  });

  it("keeps every point of a key with MLflow's ':'", () => {
    const plan = planMetricKey('r', 'eval:acc', [{ key: 'eval:acc', value: 1, step: 0, timestampMs: T0 }], undefined, { nowMs: NOW });
    expect(plan.valid).toBe(1);
    expect(plan.invalid.count).toBe(0);
  });

  it('holds back points beyond maxToSend and resumes exactly there', () => {
    const src = history(30);
    const full = planMetricKey('r', 'loss', src, undefined, { nowMs: NOW }).toSend;
    const first = planMetricKey('r', 'loss', src, undefined, { nowMs: NOW, maxToSend: 12 });
    expect(first.toSend).toEqual(full.slice(0, 12));
    expect(first.deferred).toBe(18);
    const rest = planMetricKey('r', 'loss', src, storedPrefix(src, 'loss', 12), { nowMs: NOW });
    expect(rest.toSend).toEqual(full.slice(12));
    expect(planMetricKey('r', 'loss', src, undefined, { nowMs: NOW, maxToSend: 0 }).toSend).toEqual([]);
  });

  it('chunks keep the order and the limit', () => {
    expect([...chunks([1, 2, 3, 4, 5], 2)]).toEqual([[1, 2], [3, 4], [5]]);
    expect([...chunks([], 2)]).toEqual([]);
  });
});

// ---- runs ---------------------------------------------------------------------------------------------------------

const INFO: SourceRunInfo = {
  runId: 'abc123',
  experimentId: '7',
  runName: 'brisk-otter-1',
  userId: 'ada',
  status: 'FINISHED',
  startTimeMs: T0,
  endTimeMs: T0 + 5_000,
  artifactUri: 'mlflow-artifacts:/7/abc123/artifacts',
  lifecycleStage: 'active',
};
const TARGET = { experimentId: '7', artifactLocation: 'mlflow-artifacts:/7' };

function storedRun(over: Partial<RunRow> = {}): RunRow {
  return {
    runId: 'abc123',
    experimentId: '7',
    runName: 'brisk-otter-1',
    userId: 'ada',
    status: 'FINISHED',
    startTimeMs: T0,
    endTimeMs: T0 + 5_000,
    artifactUri: 'mlflow-artifacts:/7/abc123/artifacts',
    lifecycleStage: 'active',
    ...over,
  };
}

describe('runs: state, params, tags', () => {
  it('creates a missing run with its source id, state, params and tags', () => {
    const plan = planRun({ info: INFO, params: [{ key: 'lr', value: '0.1' }], tags: [{ key: 'mlflow.runName', value: 'brisk-otter-1' }] }, TARGET, { run: undefined, params: [], tags: [] });
    expect(plan.stateChange).toBe('create');
    expect(plan.events.map((e) => e.eventType)).toEqual(['RUN_UPSERTED', 'PARAM_LOGGED', 'RUN_TAG_SET']);
    expect(plan.events[0]).toMatchObject({
      runId: 'abc123',
      experimentId: '7',
      run: { runName: 'brisk-otter-1', userId: 'ada', status: 'FINISHED', startTimeMs: T0, endTimeMs: T0 + 5_000, artifactUri: 'mlflow-artifacts:/7/abc123/artifacts', lifecycleStage: 'active' },
    });
    expect(plan.paramsToLog).toBe(1);
    expect(plan.tagsToSet).toBe(1);
  });

  it('writes nothing when the run is already as in the source', () => {
    const plan = planRun({ info: INFO, params: [{ key: 'lr', value: '0.1' }], tags: [{ key: 't', value: 'x' }] }, TARGET, {
      run: storedRun(),
      params: [{ key: 'lr', value: '0.1' }],
      tags: [{ key: 't', value: 'x' }, { key: 'only-here', value: 'kept' }],
    });
    expect(plan.stateChange).toBe('unchanged');
    expect(plan.events).toEqual([]);
    expect(plan.paramsPresent).toBe(1);
    expect(plan.tagsPresent).toBe(1);
    expect(plan.conflicts).toEqual([]);
  });

  it('upserts the run when any part of its state differs (status, end time, lifecycle, name)', () => {
    for (const over of [{ status: 'RUNNING' }, { endTimeMs: null }, { lifecycleStage: 'deleted' }, { runName: 'other' }, { userId: '' }, { startTimeMs: T0 + 1 }]) {
      const plan = planRun({ info: INFO, params: [], tags: [] }, TARGET, { run: storedRun(over), params: [], tags: [] });
      expect(plan.stateChange, JSON.stringify(over)).toBe('update');
      expect(plan.events).toHaveLength(1);
      expect(plan.events[0]!.run?.status).toBe('FINISHED');
    }
    const running = planRun({ info: { ...INFO, status: 'RUNNING', endTimeMs: null }, params: [], tags: [] }, TARGET, { run: storedRun({ status: 'RUNNING', endTimeMs: null }), params: [], tags: [] });
    expect(running.stateChange).toBe('unchanged');
  });

  it('keeps an existing artifact URI in the same experiment; builds it from the experiment location otherwise', () => {
    const kept = planRun({ info: INFO, params: [], tags: [] }, TARGET, { run: storedRun({ artifactUri: 's3://bucket/x' }), params: [], tags: [] });
    expect(kept.stateChange).toBe('unchanged');
    const moved = planRun({ info: INFO, params: [], tags: [] }, { experimentId: '99', artifactLocation: 'mlflow-artifacts:/99' }, { run: storedRun(), params: [], tags: [] });
    expect(moved.stateChange).toBe('update');
    expect(moved.events[0]).toMatchObject({ experimentId: '99', run: { artifactUri: 'mlflow-artifacts:/99/abc123/artifacts' } });
  });

  it('logs only missing params; a different existing value is a reported conflict and is not written', () => {
    const plan = planRun(
      { info: INFO, params: [{ key: 'lr', value: '0.2' }, { key: 'bs', value: '32' }, { key: 'opt', value: 'adam' }], tags: [] },
      TARGET,
      { run: storedRun(), params: [{ key: 'lr', value: '0.1' }, { key: 'opt', value: 'adam' }], tags: [] },
    );
    expect(plan.events).toEqual([{ eventType: 'PARAM_LOGGED', runId: 'abc123', key: 'bs', value: '32' }]);
    expect(plan.paramsToLog).toBe(1);
    expect(plan.paramsPresent).toBe(1);
    expect(plan.conflicts).toEqual([{ kind: 'param', runId: 'abc123', key: 'lr', message: expect.stringMatching(/'0\.1' in Runstream but '0\.2' in the source/) }]);
  });

  it('sets tags that are missing or different, leaves equal ones and Runstream-only ones alone', () => {
    const plan = planRun(
      { info: INFO, params: [], tags: [{ key: 'a', value: '1' }, { key: 'b', value: 'new' }, { key: 'c', value: '3' }] },
      TARGET,
      { run: storedRun(), params: [], tags: [{ key: 'a', value: '1' }, { key: 'b', value: 'old' }, { key: 'z', value: 'mine' }] },
    );
    expect(plan.events).toEqual([
      { eventType: 'RUN_TAG_SET', runId: 'abc123', key: 'b', value: 'new' },
      { eventType: 'RUN_TAG_SET', runId: 'abc123', key: 'c', value: '3' },
    ]);
    expect(plan.tagsToSet).toBe(2);
    expect(plan.tagsPresent).toBe(1);
  });

  it('splits many or large events into sends under the Kafka request limit, keeping their order', () => {
    const tags = Array.from({ length: 1200 }, (_, i) => ({ key: `t${i}`, value: 'v'.repeat(i < 100 ? 7000 : 10) }));
    const plan = planRun({ info: INFO, params: [], tags }, TARGET, { run: undefined, params: [], tags: [] });
    const batches = eventBatches(plan.events);
    expect(batches.length).toBeGreaterThan(2);
    expect(batches.flat()).toEqual(plan.events);
    expect(batches[0]![0]!.eventType).toBe('RUN_UPSERTED');
    for (const b of batches) {
      expect(b.length).toBeLessThanOrEqual(500);
      expect(b.reduce((n, e) => n + (e.value?.length ?? 0), 0)).toBeLessThan(800_000);
    }
    expect(eventBatches([])).toEqual([]);
  });

  it('reports params and tags the worker would refuse instead of sending them', () => {
    const plan = planRun({ info: INFO, params: [{ key: 'p', value: 'x'.repeat(8001) }], tags: [{ key: 'k'.repeat(251), value: 'v' }] }, TARGET, { run: storedRun(), params: [], tags: [] });
    expect(plan.events).toEqual([]);
    expect(plan.conflicts.map((c) => [c.kind, c.message])).toEqual([
      ['param', expect.stringMatching(/value is 8001 characters/)],
      ['tag', expect.stringMatching(/key is 251 characters/)],
    ]);
  });
});

// ---- experiments --------------------------------------------------------------------------------------------------

const EXP: SourceExperiment = { experimentId: '3', name: 'vision', artifactLocation: 'mlflow-artifacts:/3', lifecycleStage: 'active', creationTimeMs: T0, lastUpdateTimeMs: T0 + 1, tags: [{ key: 'team', value: 'cv' }] };
const row = (over: Partial<ExperimentRow>): ExperimentRow => ({ experimentId: '3', name: 'vision', artifactLocation: 'mlflow-artifacts:/3', lifecycleStage: 'active', creationTimeMs: 1, lastUpdateTimeMs: 1, tags: [], ...over });

describe('experiments', () => {
  const newId = () => '1799999999999000042';

  it('keeps the source id for a new experiment', () => {
    const plan = planExperiment(EXP, { byName: undefined, byId: undefined }, newId);
    expect(plan).toMatchObject({ targetId: '3', action: 'create', artifactLocation: 'mlflow-artifacts:/3' });
    expect(plan.mapping).toBeUndefined();
    expect(plan.events).toEqual([
      { eventType: 'EXPERIMENT_UPSERTED', experimentId: '3', experiment: { name: 'vision', artifactLocation: 'mlflow-artifacts:/3', lifecycleStage: 'active', creationTimeMs: T0, lastUpdateTimeMs: T0 + 1 } },
      { eventType: 'EXPERIMENT_TAG_SET', experimentId: '3', key: 'team', value: 'cv' },
    ]);
  });

  it('maps to a new id, and says so, when the source id is used in Runstream by another name', () => {
    const plan = planExperiment(EXP, { byName: undefined, byId: row({ name: 'something-else' }) }, newId);
    expect(plan.targetId).toBe('1799999999999000042');
    expect(plan.action).toBe('create');
    expect(plan.artifactLocation).toBe('mlflow-artifacts:/1799999999999000042');
    expect(plan.mapping).toMatch(/id 3 is used in Runstream by 'something-else'; 'vision' is imported as experiment 1799999999999000042/);
    expect(plan.events[0]).toMatchObject({ eventType: 'EXPERIMENT_UPSERTED', experimentId: '1799999999999000042' });
  });

  it('finds the experiment by name on a re-run (same id or mapped id) and only sets missing tags', () => {
    const same = planExperiment(EXP, { byName: row({ tags: [{ key: 'team', value: 'cv' }] }), byId: row({}) }, newId);
    expect(same).toMatchObject({ targetId: '3', action: 'existing', events: [] });
    expect(same.mapping).toBeUndefined();
    const mapped = planExperiment(EXP, { byName: row({ experimentId: '1799999999999000042', artifactLocation: 'mlflow-artifacts:/1799999999999000042' }), byId: row({ name: 'something-else' }) }, newId);
    expect(mapped.targetId).toBe('1799999999999000042');
    expect(mapped.artifactLocation).toBe('mlflow-artifacts:/1799999999999000042');
    expect(mapped.mapping).toMatch(/is experiment 1799999999999000042 in Runstream \(same name\)/);
    expect(mapped.events).toEqual([{ eventType: 'EXPERIMENT_TAG_SET', experimentId: '1799999999999000042', key: 'team', value: 'cv' }]);
  });
});
