// Parity of model monitoring with scikit-learn and Fairlearn, the references: predictions (and labels arriving later
// on their own dataset) go through the real pipeline (SDK → Kafka → ingest worker → ClickHouse), monitors are
// created and read through the HTTP API, and scikit-learn 1.9 / Fairlearn 0.15 (PyPI, installed on demand) compute
// the same metrics from the very same rows, grouped per window and segment by this test. Every number must agree to
// 1e-9 relative; every confusion matrix, class list and undefined value (null) exactly.
//
// The data has imbalanced classes, missing labels, a sensitive group with one class only, tied scores (two
// decimals), a class absent from a window, a window whose segment has one class only (ROC AUC undefined),
// multiclass and regression — and late labels: the binary report is read before and after they arrive.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows, sql } from '@runstream/clickhouse';
import { DatasetProducer, type DatasetRowInput } from '@runstream/sdk';
import { busFor, isolatedEnv, startPipelineService, topicsFor, waitFor, type PipelineService } from './support/pipeline-fixture.ts';
import { ensurePythonPackages, PYTHON } from './support/python-deps.ts';

const REFERENCE_PACKAGES = [{ spec: 'scikit-learn==1.9.1', module: 'sklearn' }, { spec: 'fairlearn==0.15.0' }];
const SCRIPT = fileURLToPath(new URL('./model-parity/sklearn_reference.py', import.meta.url));
const T0 = Date.UTC(2026, 0, 5);
const HOUR = 3_600_000;

function prng(seed: number) {
  const next = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (mean = 0, sd = 1) => mean + sd * Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  return { next, normal };
}
const r = prng(20261207);
const round2 = (x: number) => Math.round(x * 100) / 100;

type Task = 'binary' | 'multiclass' | 'regression';
interface Row {
  ts: number;
  segment: string;
  id: string;
  pred: number | string;
  label: number | string | null;
  /** Binary: P(1); multiclass: one per class. */
  scores?: number[];
  group?: string;
}
interface Case {
  name: Task;
  rows: Row[];
  lateLabels: { id: string; label: number }[];
  classes?: string[];
}

function binaryCase(): Case {
  const rows: Row[] = [];
  for (let w = 0; w < 3; w++) {
    for (let i = 0; i < 420; i++) {
      const segment = i % 3 === 0 ? 'app' : 'web';
      // Group "x" is small and (like every label of the "app" segment in window 2) has negatives only.
      const group = i % 41 === 0 ? 'x' : r.next() < 0.55 ? 'f' : 'm';
      const positive = group !== 'x' && !(w === 2 && segment === 'app') && r.next() < (group === 'f' ? 0.12 : 0.2);
      const score = round2(Math.min(0.99, Math.max(0.01, (positive ? 0.62 : 0.3) + r.normal(0, 0.18))));
      rows.push({
        ts: T0 + w * HOUR + Math.floor((i / 420) * HOUR),
        segment,
        id: `b${w}-${i}`,
        pred: score >= 0.5 ? 1 : 0,
        label: r.next() < 0.18 ? null : positive ? 1 : 0,
        scores: [score],
        group,
      });
    }
  }
  // Late labels: most missing labels arrive, and a few correct a label sent with the prediction.
  const lateLabels = rows.flatMap((row, i) => {
    const truth = Number(row.scores![0]! > 0.55 && row.group !== 'x' && !(row.ts >= T0 + 2 * HOUR && row.segment === 'app'));
    if (row.label === null && i % 4 !== 0) return [{ id: row.id, label: truth }];
    if (row.label !== null && i % 97 === 0) return [{ id: row.id, label: 1 - (row.label as number) }];
    return [];
  });
  return { name: 'binary', rows, lateLabels };
}

function multiclassCase(): Case {
  const classes = ['a', 'b', 'c'];
  const rows: Row[] = [];
  for (let w = 0; w < 3; w++) {
    for (let i = 0; i < 300; i++) {
      // Class "c" is absent from window 1 (neither true nor predicted).
      const present = w === 1 ? 2 : 3;
      const truth = Math.floor(r.next() ** 1.6 * present);
      const logits = classes.map((_, k) => (k >= present ? -40 : (k === truth ? 1.4 : 0) + r.normal(0, 1)));
      const exps = logits.map((l) => Math.exp(l));
      const total = exps.reduce((a, b) => a + b, 0);
      const scores = exps.map((e) => e / total);
      const pred = scores.indexOf(Math.max(...scores));
      rows.push({
        ts: T0 + w * HOUR + i * 1000,
        segment: i % 2 === 0 ? 'eu' : 'us',
        id: `m${w}-${i}`,
        pred: classes[pred]!,
        label: r.next() < 0.1 ? null : classes[truth]!,
        scores,
        group: r.next() < 0.5 ? 'north' : 'south',
      });
    }
  }
  return { name: 'multiclass', rows, lateLabels: [], classes };
}

function regressionCase(): Case {
  const rows: Row[] = [];
  for (let w = 0; w < 3; w++) {
    for (let i = 0; i < 200; i++) {
      const y = w === 2 && i === 7 ? 0 : r.normal(100, 20);
      rows.push({ ts: T0 + w * HOUR + i * 1000, segment: i % 4 === 0 ? 'b' : 'a', id: `r${w}-${i}`, pred: y + r.normal(0, 5 + w * 3), label: r.next() < 0.1 ? null : y });
    }
  }
  return { name: 'regression', rows, lateLabels: [] };
}

const CASES = [binaryCase(), multiclassCase(), regressionCase()];

interface RefGroup {
  key: string;
  task: Task;
  y_true: (number | string)[];
  y_pred: (number | string)[];
  scores: number[] | number[][] | null;
  classes?: string[];
  positive: number;
  sensitive: Record<string, string[]>;
}

/** The reference groups: per window and segment (and all segments), the labelled rows, late labels applied. */
function referenceGroups(prefix: string, c: Case, late: boolean): RefGroup[] {
  const lateOf = new Map(late ? c.lateLabels.map((l) => [l.id, l.label] as const) : []);
  const labelled = c.rows.map((row) => ({ ...row, label: lateOf.has(row.id) ? lateOf.get(row.id)! : row.label })).filter((row) => row.label !== null);
  const out: RefGroup[] = [];
  const windows = [...new Set(labelled.map((row) => Math.floor(row.ts / HOUR) * HOUR))];
  for (const w of windows) {
    const inWindow = labelled.filter((row) => Math.floor(row.ts / HOUR) * HOUR === w);
    for (const seg of [null, ...new Set(inWindow.map((row) => row.segment))]) {
      const rows = inWindow.filter((row) => seg === null || row.segment === seg);
      out.push({
        key: `${prefix}|${w}|${seg ?? '*'}`,
        task: c.name,
        y_true: rows.map((row) => row.label!),
        y_pred: rows.map((row) => row.pred),
        scores: c.name === 'binary' ? rows.map((row) => row.scores![0]!) : c.name === 'multiclass' ? rows.map((row) => row.scores!) : null,
        ...(c.classes ? { classes: c.classes } : {}),
        positive: 1,
        sensitive: c.name === 'regression' ? {} : { grp: rows.map((row) => row.group!) },
      });
    }
  }
  return out;
}

function runReference(groups: RefGroup[]): Promise<{ sklearn: string; fairlearn: string; results: Record<string, any> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(Buffer.concat(out).toString('utf8'))) : reject(new Error(`reference exited with ${code}: ${Buffer.concat(err).toString().slice(-4000)}`))));
    child.stdin.end(JSON.stringify({ groups }));
  });
}

function relDiff(a: number, b: number): number {
  if (a === b) return 0;
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
}

describe('model monitoring agrees with scikit-learn and Fairlearn', () => {
  const env = isolatedEnv();
  const run = randomUUID().slice(0, 8);
  let svc: PipelineService;
  let reference: { sklearn: string; fairlearn: string; results: Record<string, any> };
  const reports: Record<string, any> = {};
  const stats = { numbers: 0, maxRel: 0 };
  const datasetOf = (c: Case) => `monitor-${run}-${c.name}`;
  const labelsOf = (c: Case) => `monitor-${run}-${c.name}-labels`;

  const post = async (path: string, body: unknown): Promise<any> => {
    const res = await fetch(`${svc.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const json = await res.json();
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const storedValues = async (prefix: string) => {
    const [row] = await queryRows<{ c: string }>(svc.ch, sql`SELECT count() AS c FROM dataset_rows_v2 WHERE startsWith(dataset, ${prefix})`);
    return Number(row!.c);
  };

  beforeAll(async () => {
    const python = ensurePythonPackages(REFERENCE_PACKAGES);
    svc = await startPipelineService(env);
    const producer = new DatasetProducer({ producer: await busFor(env).producer({ idempotent: true }), topic: topicsFor(env).datasets, producerId: 'monitor-parity' });
    let expected = 0;
    for (const c of CASES) {
      const rows: DatasetRowInput[] = c.rows.map((row) => ({
        timestampMs: row.ts,
        segment: row.segment,
        values: {
          id: row.id,
          pred: row.pred,
          label: row.label,
          ...(c.name === 'binary' ? { score: row.scores![0]! } : {}),
          ...(c.name === 'multiclass' ? Object.fromEntries(c.classes!.map((cls, k) => [`p_${cls}`, row.scores![k]!])) : {}),
          ...(row.group !== undefined ? { grp: row.group } : {}),
        },
      }));
      const numeric = c.name !== 'multiclass';
      await producer.logRows(datasetOf(c), rows, { columns: { id: 'CATEGORICAL', pred: numeric ? 'NUMERICAL' : 'CATEGORICAL', label: numeric ? 'NUMERICAL' : 'CATEGORICAL' } });
      expected += rows.length * Object.keys(rows[0]!.values).length;
    }
    await waitFor('every prediction stored', async () => (await storedValues(`monitor-${run}-`)) === expected, 120_000);
    const common = { dataset_version: '', prediction_column: 'pred', label_column: 'label', window_ms: HOUR, id_column: 'id' };
    await post('/api/v1/monitors', {
      name: `bin-${run}`,
      model: { name: `churn-${run}`, version: '2' },
      task: 'binary',
      dataset: datasetOf(CASES[0]!),
      ...common,
      score_column: 'score',
      positive_label: 1,
      sensitive_columns: ['grp'],
      labels: { dataset: labelsOf(CASES[0]!), id_column: 'id', label_column: 'y' },
    });
    await post('/api/v1/monitors', {
      name: `multi-${run}`,
      model: { name: `species-${run}`, version: '1' },
      task: 'multiclass',
      dataset: datasetOf(CASES[1]!),
      ...common,
      class_score_columns: Object.fromEntries(CASES[1]!.classes!.map((cls) => [cls, `p_${cls}`])),
      sensitive_columns: ['grp'],
    });
    await post('/api/v1/monitors', { name: `reg-${run}`, model: { name: `price-${run}`, version: '1' }, task: 'regression', dataset: datasetOf(CASES[2]!), ...common });
    reports['binary-before'] = await post(`/api/v1/monitors/bin-${run}/report`, {});
    // The labels arrive later, on their own dataset, and change the windows of their predictions.
    const late = CASES[0]!.lateLabels;
    await producer.logRows(labelsOf(CASES[0]!), late.map((l, i) => ({ timestampMs: T0 + 10 * HOUR + i, values: { id: l.id, y: l.label } })), { columns: { id: 'CATEGORICAL', y: 'NUMERICAL' } });
    await producer.close();
    await waitFor('late labels stored', async () => (await storedValues(labelsOf(CASES[0]!))) === late.length * 2, 120_000);
    reports['binary-after'] = await post(`/api/v1/monitors/bin-${run}/report`, {});
    reports['multiclass'] = await post(`/api/v1/monitors/multi-${run}/report`, {});
    reports['regression'] = await post(`/api/v1/monitors/reg-${run}/report`, {});
    reference = await (python.then(() =>
      runReference([
        ...referenceGroups('binary-before', CASES[0]!, false),
        ...referenceGroups('binary-after', CASES[0]!, true),
        ...referenceGroups('multiclass', CASES[1]!, false),
        ...referenceGroups('regression', CASES[2]!, false),
      ]),
    ));
  }, 600_000);

  afterAll(async () => {
    await svc?.close();
    console.log(`scikit-learn ${reference?.sklearn}, Fairlearn ${reference?.fairlearn}: ${stats.numbers} numbers compared, largest relative difference ${stats.maxRel.toExponential(2)}`);
  });

  const close = (what: string, ours: unknown, theirs: unknown) => {
    if (theirs === null || theirs === undefined) {
      expect(ours ?? null, `${what}: the reference leaves it undefined`).toBeNull();
      return;
    }
    expect(typeof ours, `${what}: ours is ${JSON.stringify(ours)}, reference ${JSON.stringify(theirs)}`).toBe('number');
    const d = relDiff(ours as number, theirs as number);
    stats.numbers++;
    stats.maxRel = Math.max(stats.maxRel, d);
    expect(d, `${what}: ours ${ours}, reference ${theirs}`).toBeLessThanOrEqual(1e-9);
  };

  for (const name of ['binary-before', 'binary-after', 'multiclass', 'regression']) {
    it(`${name}: every window and segment`, () => {
      const report = reports[name];
      const keys = Object.keys(reference.results).filter((k) => k.startsWith(`${name}|`));
      expect(keys.length).toBeGreaterThan(6);
      // Every reference group is in the report, and the report has no labelled group the reference lacks.
      const ourGroups = report.windows.flatMap((w: any) => w.segments.filter((s: any) => s.labelled > 0).map((s: any) => `${name}|${w.start_ms}|${s.segment ?? '*'}`));
      expect(ourGroups.sort()).toEqual([...keys].sort());
      for (const key of keys) {
        const [, w, seg] = key.split('|');
        const window = report.windows.find((x: any) => String(x.start_ms) === w);
        const segment = window.segments.find((s: any) => (s.segment ?? '*') === seg);
        const ref = reference.results[key];
        for (const [metric, value] of Object.entries(ref)) {
          if (['classes', 'confusion_matrix', 'per_class', 'fairness'].includes(metric)) continue;
          close(`${key} ${metric}`, segment.metrics[metric], value);
        }
        if (name === 'regression') continue;
        expect(segment.confusion_matrix.classes, key).toEqual(ref.classes);
        expect(segment.confusion_matrix.matrix, key).toEqual(ref.confusion_matrix);
        ref.per_class.forEach((pc: any, i: number) => {
          const mine = segment.confusion_matrix.per_class[i];
          expect(mine.support, key).toBe(pc.support);
          for (const m of ['precision', 'recall', 'f1']) close(`${key} ${pc.class} ${m}`, mine[m], pc[m]);
        });
        const fair = segment.fairness.find((f: any) => f.feature === 'grp');
        for (const [metric, value] of Object.entries(ref.fairness.grp)) {
          if (metric === 'groups') continue;
          close(`${key} fairness ${metric}`, fair[metric], value);
          close(`${key} fairness metric ${metric}`, segment.metrics[`fairness.grp.${metric}`], value);
        }
        if (name === 'multiclass') continue;
        const groups = ref.fairness.grp.groups as Record<string, Record<string, number>>;
        expect(fair.groups.map((g: any) => g.group).sort(), key).toEqual(Object.keys(groups).sort());
        for (const g of fair.groups) {
          const theirs = groups[g.group]!;
          expect(g.count, key).toBe(theirs.count);
          for (const m of ['accuracy', 'selection_rate', 'tpr', 'fpr']) close(`${key} group ${g.group} ${m}`, g[m], theirs[m]);
          expect(g.small).toBe(theirs.count! < 30);
        }
      }
    });
  }

  it('covers the hard cases: a one-class group, undefined ROC AUC, an absent class, late labels that change windows', () => {
    const results = reference.results;
    expect(Object.entries(results).some(([k, v]) => k.startsWith('binary-before|') && v.roc_auc === null)).toBe(true);
    expect(Object.entries(results).some(([k, v]) => k.startsWith('multiclass|') && v.classes.length === 2)).toBe(true);
    expect(Object.values(results).some((v: any) => v.fairness?.grp?.groups?.x && v.fairness.grp.groups.x.tpr === 0)).toBe(true);
    const labelled = (name: string) => reports[name].windows.map((w: any) => w.segments[0].labelled);
    expect(labelled('binary-after').reduce((a: number, b: number) => a + b, 0)).toBeGreaterThan(labelled('binary-before').reduce((a: number, b: number) => a + b, 0));
  });
});
