// Alert rules of a monitor, evaluated window by window: a rule fires when its value (a metric of the window, a
// fairness value, or the share of drifted columns) is above / below a fixed threshold or the baseline version's
// latest value ∓ tolerance, and resolves when it no longer is. Each change of state is an event stored through
// Kafka (monitor-store.ts, the reserved alerts dataset); the current state is the newest event of the rule.
import { queryRows, sql, type ClickHouse } from '@runstream/clickhouse';
import type { AlertRule, Monitor } from './monitor-definition.ts';
import { ALERTS_DATASET } from './monitor-store.ts';

export type AlertStateName = 'firing' | 'resolved';

export interface AlertEvent {
  monitor: string;
  rule: string;
  state: AlertStateName;
  /** The window whose value changed the state. */
  windowStartMs: number;
  value: number;
  threshold: number;
  atMs: number;
  /** The same change always has the same key: webhook receivers drop repeats by it. */
  idempotencyKey: string;
}

/** Whether a value breaks a rule's threshold. */
export function breaches(rule: Pick<AlertRule, 'op'>, value: number, threshold: number): boolean {
  return rule.op === 'above' ? value > threshold : value < threshold;
}

/** The threshold of a rule: fixed, or the baseline's value moved by the tolerance towards the good side. */
export function thresholdOf(rule: AlertRule, baselineValue: number | undefined): number | undefined {
  if (rule.threshold !== undefined) return rule.threshold;
  if (baselineValue === undefined || !Number.isFinite(baselineValue)) return undefined;
  const tolerance = rule.baseline?.tolerance ?? 0;
  return rule.op === 'below' ? baselineValue - tolerance : baselineValue + tolerance;
}

export interface WindowValue {
  windowStartMs: number;
  value: number | null;
  rows: number;
}

/**
 * The state changes a rule goes through over windows (oldest first) from its current state. Windows without a value
 * or with fewer than min_rows labelled rows leave the state as it is.
 */
export function transitions(monitor: string, rule: AlertRule, current: AlertStateName, windows: readonly WindowValue[], threshold: number | undefined, atMs: number): AlertEvent[] {
  const out: AlertEvent[] = [];
  if (threshold === undefined) return out;
  let state = current;
  for (const w of windows) {
    if (w.value === null || !Number.isFinite(w.value) || w.rows < rule.min_rows) continue;
    const next: AlertStateName = breaches(rule, w.value, threshold) ? 'firing' : 'resolved';
    if (next === state) continue;
    state = next;
    out.push({ monitor, rule: rule.name, state, windowStartMs: w.windowStartMs, value: w.value, threshold, atMs, idempotencyKey: `${monitor}/${rule.name}/${w.windowStartMs}/${state}` });
  }
  return out;
}

/** Every stored event of a monitor's rules, oldest first. */
export async function alertEvents(ch: ClickHouse, monitor: string): Promise<AlertEvent[]> {
  // One row per event (name = idempotency key); the JSON is in part_000… as in monitor-store.ts.
  const rows = await queryRows<{ parts: [string, string][] }>(
    ch,
    sql`SELECT arraySort(x -> x.1, groupArrayIf((column, cat_value), startsWith(column, 'part_'))) AS parts, any(src_partition) AS p, any(src_offset) AS o, any(row_index) AS i,
          anyIf(cat_value, column = 'name') AS event_name
        FROM dataset_rows_v2 WHERE dataset = ${ALERTS_DATASET}
        GROUP BY src_topic, src_partition, src_offset, row_index
        HAVING startsWith(event_name, ${`${monitor}/`})
        ORDER BY p, o, i`,
  );
  const seen = new Set<string>();
  const events: AlertEvent[] = [];
  for (const r of rows) {
    const e = JSON.parse(r.parts.map((p) => p[1]).join('')) as AlertEvent;
    // Two instances evaluating at once may both store a change: the first one counts.
    if (e.monitor !== monitor || seen.has(e.idempotencyKey)) continue;
    seen.add(e.idempotencyKey);
    events.push(e);
  }
  return events;
}

export interface AlertState {
  rule: string;
  state: AlertStateName;
  since: AlertEvent | null;
  history: AlertEvent[];
}

export function alertStates(m: Monitor, events: readonly AlertEvent[]): AlertState[] {
  return m.alerts.map((r) => {
    const history = events.filter((e) => e.rule === r.name);
    const last = history[history.length - 1] ?? null;
    return { rule: r.name, state: last?.state ?? 'resolved', since: last, history };
  });
}

const eventSchema = {
  type: 'object',
  properties: {
    state: { type: 'string', enum: ['firing', 'resolved'] },
    window_start_ms: { type: 'integer' },
    value: { type: 'number' },
    threshold: { type: 'number' },
    at_ms: { type: 'integer' },
    idempotency_key: { type: 'string' },
  },
} as const;

export const alertStateSchema = {
  type: 'object',
  properties: {
    rule: { type: 'string' },
    state: { type: 'string', enum: ['firing', 'resolved'] },
    since: { anyOf: [eventSchema, { type: 'null' }] },
    history: { type: 'array', items: eventSchema },
  },
} as const;

export const eventJson = (e: AlertEvent) => ({ state: e.state, window_start_ms: e.windowStartMs, value: e.value, threshold: e.threshold, at_ms: e.atMs, idempotency_key: e.idempotencyKey });

export function alertStatesToJson(m: Monitor, events: readonly AlertEvent[]) {
  return alertStates(m, events).map((s) => ({ rule: s.rule, state: s.state, since: s.since && eventJson(s.since), history: s.history.map(eventJson) }));
}

export async function alertStatesJson(ch: ClickHouse, m: Monitor) {
  return alertStatesToJson(m, await alertEvents(ch, m.name));
}
