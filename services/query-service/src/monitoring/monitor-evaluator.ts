// Evaluates monitors as data arrives: each window's results become metric points of the model version (so the
// version's history, trend, compare and BI views show them), and the alert rules run window by window. Runs on a
// timer in every query service that writes, and on request (POST /api/v1/monitors/{name}/evaluate).
//
// Points: key "<monitor>/<metric>" for all segments and "<monitor>/<segment>/<metric>" per segment, step = the
// window's index (start / window width), time = the window's start. A window is written again only when its numbers
// changed (late labels), so its newest point holds its newest numbers; after a restart each window is written once more.
import { keyProblem, type MetricPoint } from '@runstream/codec';
import { metricSummaries, type ClickHouse } from '@runstream/clickhouse';
import type { Logger } from '@runstream/config';
import type { TrackingWriter } from '@runstream/tracking';
import { Counter, Gauge, type Registry } from 'prom-client';
import { driftReport } from '../data/drift-report.ts';
import { alertEvents, transitions, thresholdOf, type AlertEvent, type WindowValue } from './alert-rules.ts';
import type { AlertRule, Monitor } from './monitor-definition.ts';
import { monitorReport, type MonitorReport } from './monitor-report.ts';
import { ALERTS_DATASET, MONITORS_DATASET, readDocuments, writeDocument } from './monitor-store.ts';
import { deliverWebhook, DEFAULT_WEBHOOK, type WebhookOptions } from './webhook-sender.ts';

const MAX_POINTS_PER_BATCH = 50_000;
/** drift_share rules compute a drift report per window: only the newest windows are looked at. */
const DRIFT_WINDOWS = 20;

/** A metric key from a monitor, a segment and a metric name; characters metric keys do not allow become '_'. */
export function monitorMetricKey(monitor: string, segment: string | null, metric: string): string {
  const clean = (s: string) => s.replace(/[^\w.\- ]/g, '_');
  return segment === null ? `${clean(monitor)}/${clean(metric)}` : `${clean(monitor)}/${clean(segment) || '_'}/${clean(metric)}`;
}

export interface EvaluateResult {
  windows: number;
  pointsWritten: number;
  /** Every event of the monitor's rules, the ones stored by this evaluation included (oldest first). */
  events: AlertEvent[];
}

export class MonitorEvaluator {
  private readonly written = new Map<string, Map<number, string>>();
  private readonly firing: Gauge<'monitor' | 'rule'>;
  private readonly changes: Counter<'monitor' | 'rule' | 'state'>;
  private readonly deliveries: Counter<'outcome'>;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly deps: { ch: ClickHouse; writer: TrackingWriter; log: Logger; registry: Registry; webhook?: WebhookOptions };

  constructor(deps: { ch: ClickHouse; writer: TrackingWriter; log: Logger; registry: Registry; webhook?: WebhookOptions }) {
    this.deps = deps;
    this.firing = new Gauge({ name: 'runstream_monitor_alert_firing', help: '1 while a monitor\'s alert rule fires', labelNames: ['monitor', 'rule'], registers: [deps.registry] });
    this.changes = new Counter({ name: 'runstream_monitor_alert_changes_total', help: 'Alert state changes stored', labelNames: ['monitor', 'rule', 'state'], registers: [deps.registry] });
    this.deliveries = new Counter({ name: 'runstream_monitor_webhook_deliveries_total', help: 'Alert webhook deliveries by outcome', labelNames: ['outcome'], registers: [deps.registry] });
  }

  async evaluate(m: Monitor): Promise<EvaluateResult> {
    const report = await monitorReport(this.deps.ch, m);
    const pointsWritten = await this.writePoints(m, report);
    const events = await this.evaluateAlerts(m, report);
    return { windows: report.windows.length, pointsWritten, events };
  }

  private async writePoints(m: Monitor, report: MonitorReport): Promise<number> {
    const seen = this.written.get(m.name) ?? new Map<number, string>();
    this.written.set(m.name, seen);
    const points: MetricPoint[] = [];
    const done: [number, string][] = [];
    for (const w of report.windows) {
      const fingerprint = JSON.stringify(w.segments.map((s) => [s.segment, s.labelled, s.metrics]));
      if (seen.get(w.startMs) === fingerprint) continue;
      done.push([w.startMs, fingerprint]);
      for (const s of w.segments) {
        for (const [metric, value] of Object.entries(s.metrics)) {
          if (value === null) continue;
          const key = monitorMetricKey(m.name, s.segment, metric);
          if (keyProblem(key)) continue;
          points.push({ key, value, step: Math.floor(w.startMs / m.window_ms), timestampMs: Math.max(0, w.startMs) });
        }
      }
    }
    for (let i = 0; i < points.length; i += MAX_POINTS_PER_BATCH) {
      await this.deps.writer.emitMetrics(`${m.model.name}/${m.model.version}`, points.slice(i, i + MAX_POINTS_PER_BATCH), `monitor:${m.name}`, 'MODEL_VERSION');
    }
    for (const [start, f] of done) seen.set(start, f);
    return points.length;
  }

  private async ruleWindows(m: Monitor, rule: AlertRule, report: MonitorReport, after: number | undefined): Promise<WindowValue[]> {
    const windows = report.windows.filter((w) => after === undefined || w.startMs > after);
    if (rule.metric === 'drift_share') {
      const drift = m.drift!;
      const out: WindowValue[] = [];
      for (const w of windows.slice(-DRIFT_WINDOWS)) {
        const r = await driftReport(this.deps.ch, {
          reference: { dataset: drift.reference.dataset, ...(drift.reference.version !== undefined ? { version: drift.reference.version } : {}) },
          current: { dataset: m.dataset, ...(m.dataset_version !== undefined ? { version: m.dataset_version } : {}), fromMs: w.startMs, toMs: w.endMs, ...(rule.segment !== undefined ? { segment: rule.segment } : {}) },
          ...(drift.columns ? { columns: drift.columns } : {}),
        });
        out.push({ windowStartMs: w.startMs, value: r.driftShare, rows: Number.MAX_SAFE_INTEGER });
      }
      return out;
    }
    return windows.map((w) => {
      const s = w.segments.find((x) => x.segment === (rule.segment ?? null));
      return { windowStartMs: w.startMs, value: s?.metrics[rule.metric] ?? null, rows: s?.labelled ?? 0 };
    });
  }

  private async evaluateAlerts(m: Monitor, report: MonitorReport): Promise<AlertEvent[]> {
    if (m.alerts.length === 0) return [];
    const { ch, writer, log } = this.deps;
    const stored = await alertEvents(ch, m.name);
    const baselineKeys = m.alerts.filter((r) => r.baseline).map((r) => ({ rule: r, id: `${m.model.name}/${r.baseline!.version}`, key: r.baseline!.key ?? monitorMetricKey(m.name, r.segment ?? null, r.metric) }));
    const baselines = baselineKeys.length ? await metricSummaries(ch, 'MODEL_VERSION', [...new Set(baselineKeys.map((b) => b.id))], [...new Set(baselineKeys.map((b) => b.key))]) : new Map();
    const created: AlertEvent[] = [];
    for (const rule of m.alerts) {
      const history = stored.filter((e) => e.rule === rule.name);
      const last = history[history.length - 1];
      const b = baselineKeys.find((x) => x.rule === rule);
      const baselineValue = b ? baselines.get(b.id)?.find((s: { key: string }) => s.key === b.key)?.lastValue : undefined;
      const threshold = thresholdOf(rule, baselineValue);
      const events = transitions(m.name, rule, last?.state ?? 'resolved', await this.ruleWindows(m, rule, report, last?.windowStartMs), threshold, Date.now());
      for (const e of events) {
        await writeDocument(writer, ALERTS_DATASET, e.idempotencyKey, JSON.stringify(e));
        this.changes.inc({ monitor: m.name, rule: rule.name, state: e.state });
        created.push(e);
        if (m.webhook) {
          const result = await deliverWebhook(m.webhook.url, e.idempotencyKey, { monitor: m.name, model: m.model, rule: rule.name, metric: rule.metric, segment: rule.segment ?? null, state: e.state, window_start_ms: e.windowStartMs, window_end_ms: e.windowStartMs + m.window_ms, value: e.value, threshold: e.threshold, idempotency_key: e.idempotencyKey }, this.deps.webhook ?? DEFAULT_WEBHOOK);
          this.deliveries.inc({ outcome: result.delivered ? 'delivered' : 'failed' });
          if (!result.delivered) log.warn({ monitor: m.name, rule: rule.name, attempts: result.attempts, status: result.status, error: result.error }, 'alert webhook not delivered');
        }
      }
      const state = events.length ? events[events.length - 1]!.state : (last?.state ?? 'resolved');
      this.firing.set({ monitor: m.name, rule: rule.name }, state === 'firing' ? 1 : 0);
    }
    // What was just stored is not readable yet (the ingest worker stores it): the caller gets it from here.
    return [...stored, ...created];
  }

  /** Evaluates every monitor now and then every `intervalMs` (one pass at a time). */
  start(intervalMs: number): void {
    const pass = async () => {
      for (const d of await readDocuments(this.deps.ch, MONITORS_DATASET)) {
        const m = JSON.parse(d.json) as Monitor;
        try {
          await this.evaluate(m);
        } catch (err) {
          this.deps.log.warn({ monitor: m.name, err: (err as Error).message }, 'monitor evaluation failed');
        }
      }
    };
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = pass()
        .catch((err) => this.deps.log.warn({ err: (err as Error).message }, 'monitor evaluation pass failed'))
        .finally(() => (this.running = undefined));
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
