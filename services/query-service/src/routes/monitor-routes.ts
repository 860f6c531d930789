// Model monitoring API: monitors (definitions), their reports per time window and segment, evaluation (window
// metrics into the model version's history, alert rules) and alert states. Shapes: services/query-service/README.md
// ("Model monitoring").
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ClickHouse } from '@runstream/clickhouse';
import type { TrackingWriter } from '@runstream/tracking';
import { ApiError, errorResponses as errors } from '../api-errors.ts';
import { monitorProblem, monitorSchema, type Monitor } from '../monitoring/monitor-definition.ts';
import { monitorReport, type MonitorReport, type SegmentReport } from '../monitoring/monitor-report.ts';
import { DocumentTooLargeError, MONITORS_DATASET, readDocuments, writeDocument } from '../monitoring/monitor-store.ts';
import type { MonitorEvaluator } from '../monitoring/monitor-evaluator.ts';
import { alertStateSchema, alertStatesJson, alertStatesToJson } from '../monitoring/alert-rules.ts';

type PreHandler = (req: FastifyRequest, reply: any) => Promise<unknown>;

const timeMs = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
const nullableNumber = { type: ['number', 'null'] } as const;
const nameParams = { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 200 } } } as const;

const groupSchema = {
  type: 'object',
  properties: {
    group: { type: 'string' },
    count: { type: 'integer' },
    accuracy: { type: 'number' },
    selection_rate: { type: 'number' },
    tpr: { type: 'number' },
    fpr: { type: 'number' },
    small: { type: 'boolean' },
  },
} as const;
const fairnessSchema = {
  type: 'object',
  properties: {
    feature: { type: 'string' },
    groups: { type: 'array', items: groupSchema },
    demographic_parity_difference: { type: 'number' },
    demographic_parity_ratio: nullableNumber,
    equalized_odds_difference: { type: 'number' },
    equalized_odds_ratio: nullableNumber,
    equal_opportunity_difference: { type: 'number' },
    equal_opportunity_ratio: nullableNumber,
    accuracy_difference: { type: 'number' },
    warnings: { type: 'array', items: { type: 'string' } },
  },
} as const;
const segmentSchema = {
  type: 'object',
  properties: {
    segment: { type: ['string', 'null'], description: 'null: all segments together' },
    rows: { type: 'integer' },
    labelled: { type: 'integer' },
    predicted: { type: 'integer' },
    metrics: { type: 'object', additionalProperties: nullableNumber },
    confusion_matrix: {
      anyOf: [
        { type: 'null' },
        {
          type: 'object',
          properties: {
            classes: { type: 'array', items: { type: 'string' } },
            matrix: { type: 'array', items: { type: 'array', items: { type: 'integer' } } },
            per_class: {
              type: 'array',
              items: { type: 'object', properties: { class: { type: 'string' }, precision: { type: 'number' }, recall: { type: 'number' }, f1: { type: 'number' }, support: { type: 'integer' } } },
            },
          },
        },
      ],
    },
    fairness: { type: 'array', items: fairnessSchema },
  },
} as const;
export const reportSchema = {
  type: 'object',
  properties: {
    monitor: { type: 'string' },
    window_ms: { type: 'integer' },
    windows: {
      type: 'array',
      items: { type: 'object', properties: { start_ms: { type: 'integer' }, end_ms: { type: 'integer' }, segments: { type: 'array', items: segmentSchema } } },
    },
  },
} as const;

function segmentJson(s: SegmentReport) {
  return {
    segment: s.segment,
    rows: s.rows,
    labelled: s.labelled,
    predicted: s.predicted,
    metrics: s.metrics,
    confusion_matrix: s.confusion && { classes: s.confusion.classes, matrix: s.confusion.matrix, per_class: s.confusion.perClass },
    fairness: s.fairness.map((f) => ({
      feature: f.feature,
      groups: f.groups.map((g) => ({ group: g.group, count: g.count, accuracy: g.accuracy, selection_rate: g.selectionRate, tpr: g.tpr, fpr: g.fpr, small: g.small })),
      demographic_parity_difference: f.demographicParityDifference,
      demographic_parity_ratio: f.demographicParityRatio,
      equalized_odds_difference: f.equalizedOddsDifference,
      equalized_odds_ratio: f.equalizedOddsRatio,
      equal_opportunity_difference: f.equalOpportunityDifference,
      equal_opportunity_ratio: f.equalOpportunityRatio,
      accuracy_difference: f.accuracyDifference,
      warnings: f.warnings,
    })),
  };
}

export function reportJson(r: MonitorReport) {
  return { monitor: r.monitor, window_ms: r.windowMs, windows: r.windows.map((w) => ({ start_ms: w.startMs, end_ms: w.endMs, segments: w.segments.map(segmentJson) })) };
}

export async function loadMonitors(ch: ClickHouse, name?: string): Promise<Monitor[]> {
  return (await readDocuments(ch, MONITORS_DATASET, name)).map((d) => JSON.parse(d.json) as Monitor);
}

async function monitorNamed(ch: ClickHouse, name: string): Promise<Monitor> {
  const [m] = await loadMonitors(ch, name);
  if (!m) throw new ApiError(404, 'NOT_FOUND', `no monitor named ${JSON.stringify(name)}`);
  return m;
}

export function registerMonitorRoutes(
  app: FastifyInstance,
  deps: { ch: ClickHouse; preHandler: PreHandler; writes?: { writer: TrackingWriter; preHandler: PreHandler; evaluator: MonitorEvaluator } },
): void {
  const { ch, preHandler } = deps;
  const rangeBody = { type: 'object', additionalProperties: false, properties: { from_ms: timeMs, to_ms: timeMs } } as const;

  app.get('/api/v1/monitors', { preHandler, schema: { summary: 'Monitors', tags: ['monitoring'], response: { 200: { type: 'object', properties: { monitors: { type: 'array', items: monitorSchema } } }, ...errors } } }, async () => ({
    monitors: await loadMonitors(ch),
  }));

  app.get<{ Params: { name: string } }>(
    '/api/v1/monitors/:name',
    { preHandler, schema: { summary: 'One monitor', tags: ['monitoring'], params: nameParams, response: { 200: monitorSchema, ...errors } } },
    async (req) => monitorNamed(ch, req.params.name),
  );

  app.post<{ Params: { name: string }; Body: { from_ms?: number; to_ms?: number } }>(
    '/api/v1/monitors/:name/report',
    {
      preHandler,
      schema: {
        summary: "A monitor's performance and fairness per time window and segment",
        description: 'Windows are those of the predictions\' times; labels that arrived since the last read are included.',
        tags: ['monitoring'],
        params: nameParams,
        body: rangeBody,
        response: { 200: reportSchema, ...errors },
      },
    },
    async (req) => {
      const m = await monitorNamed(ch, req.params.name);
      const b = req.body ?? {};
      if (b.from_ms !== undefined && b.to_ms !== undefined && b.from_ms > b.to_ms) throw new ApiError(400, 'INVALID_ARGUMENT', 'from_ms must not be after to_ms');
      return reportJson(await monitorReport(ch, m, { ...(b.from_ms !== undefined ? { fromMs: b.from_ms } : {}), ...(b.to_ms !== undefined ? { toMs: b.to_ms } : {}) }));
    },
  );

  app.get<{ Params: { name: string } }>(
    '/api/v1/monitors/:name/alerts',
    {
      preHandler,
      schema: { summary: "A monitor's alert states and their history", tags: ['monitoring'], params: nameParams, response: { 200: { type: 'object', properties: { alerts: { type: 'array', items: alertStateSchema } } }, ...errors } },
    },
    async (req) => {
      const m = await monitorNamed(ch, req.params.name);
      return { alerts: await alertStatesJson(ch, m) };
    },
  );

  const writes = deps.writes;
  if (!writes) return;
  app.post<{ Body: Monitor }>(
    '/api/v1/monitors',
    {
      preHandler: writes.preHandler,
      schema: { summary: 'Create or replace a monitor', tags: ['monitoring'], body: monitorSchema, response: { 200: monitorSchema, ...errors } },
    },
    async (req) => {
      const m = req.body;
      const problem = monitorProblem(m);
      if (problem) throw new ApiError(400, 'INVALID_ARGUMENT', problem);
      try {
        await writeDocument(writes.writer, MONITORS_DATASET, m.name, JSON.stringify(m));
      } catch (err) {
        if (err instanceof DocumentTooLargeError) throw new ApiError(400, 'INVALID_ARGUMENT', err.message);
        throw err;
      }
      return m;
    },
  );

  app.delete<{ Params: { name: string } }>(
    '/api/v1/monitors/:name',
    { preHandler: writes.preHandler, schema: { summary: 'Delete a monitor', tags: ['monitoring'], params: nameParams, response: { 200: { type: 'object', properties: {} }, ...errors } } },
    async (req) => {
      await monitorNamed(ch, req.params.name);
      await writeDocument(writes.writer, MONITORS_DATASET, req.params.name, null);
      return {};
    },
  );

  app.post<{ Params: { name: string } }>(
    '/api/v1/monitors/:name/evaluate',
    {
      preHandler: writes.preHandler,
      schema: {
        summary: 'Evaluate a monitor now: window metrics into the model version, alert rules',
        description: 'The service also evaluates every monitor on its own every MONITOR_EVALUATE_INTERVAL_MS.',
        tags: ['monitoring'],
        params: nameParams,
        response: {
          200: { type: 'object', properties: { windows: { type: 'integer' }, points_written: { type: 'integer' }, alerts: { type: 'array', items: alertStateSchema } } },
          ...errors,
        },
      },
    },
    async (req) => {
      const m = await monitorNamed(ch, req.params.name);
      const result = await writes.evaluator.evaluate(m);
      return { windows: result.windows, points_written: result.pointsWritten, alerts: alertStatesToJson(m, result.events) };
    },
  );
}
