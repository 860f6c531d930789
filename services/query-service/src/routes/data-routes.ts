// Data metrics API: dataset rows in (through Kafka, read-your-writes), datasets listed, the data quality view of a
// selection, and drift views — one report, or one per time window. Request and response shapes are documented in
// services/query-service/README.md ("Data metrics").
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { listDatasets, toJsonDouble, type ClickHouse, type RowSelection } from '@runstream/clickhouse';
import { datasetNameProblem, datasetRowsProblem, MAX_VALUES_PER_BATCH, type DatasetColumnSpec, type DatasetRowsBatch, type DatasetValue } from '@runstream/codec';
import { DRIFT_METHODS, type DriftMethod } from '@runstream/drift';
import type { TrackingWriter } from '@runstream/tracking';
import { ApiError, errorResponses as errors, jsonDoubleSchema as jsonDouble } from '../api-errors.ts';
import { driftReport, type ColumnDrift, type DriftReport, type Histogram, type MethodChoice } from '../data/drift-report.ts';
import { qualityReport, type ValueShare } from '../data/quality-report.ts';
import { decodePageToken, encodePageToken } from '../page-token.ts';
import { RESERVED_DATASET_PREFIX } from '../monitoring/monitor-store.ts';

type PreHandler = (req: FastifyRequest, reply: any) => Promise<unknown>;

const nullableDouble = { anyOf: [{ type: 'number' }, { type: 'string', enum: ['NaN', 'Infinity', '-Infinity'] }, { type: 'null' }] } as const;
const timeMs = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
const datasetName = { type: 'string', minLength: 1, maxLength: 200 } as const;
const columnName = { type: 'string', minLength: 1, maxLength: 250 } as const;
const valueSchema = { anyOf: [{ type: 'number' }, { type: 'string' }] } as const;

const selectionProps = {
  version: { type: 'string', maxLength: 100 },
  from_ms: timeMs,
  to_ms: timeMs,
  segment: { type: 'string', maxLength: 200 },
} as const;
const selection = { type: 'object', additionalProperties: false, required: ['dataset'], properties: { dataset: datasetName, ...selectionProps } } as const;
const columnsList = { type: 'array', items: columnName, maxItems: 1000 } as const;
const methodsSchema = {
  type: 'object',
  maxProperties: 1000,
  description: 'Per column: the method (default: Evidently\'s choice) and its threshold (default: the method\'s).',
  additionalProperties: {
    type: 'object',
    additionalProperties: false,
    properties: { method: { type: 'string', enum: DRIFT_METHODS }, threshold: { type: 'number', minimum: 0, maximum: 1e6 } },
  },
} as const;
const driftShare = { type: 'number', minimum: 0, maximum: 1, default: 0.5 } as const;

const histogram = {
  type: 'object',
  properties: {
    edges: { type: 'array', items: { type: 'number' } },
    values: { type: 'array', items: valueSchema },
    counts: { type: 'array', items: { type: 'integer' } },
    shares: { type: 'array', items: { type: 'number' } },
  },
} as const;
const columnDriftSchema = {
  type: 'object',
  properties: {
    column: { type: 'string' },
    type: { type: 'string', enum: ['numerical', 'categorical'] },
    method: { type: ['string', 'null'] },
    score: nullableDouble,
    threshold: { type: ['number', 'null'] },
    drifted: { type: 'boolean' },
    reference_rows: { type: 'integer' },
    current_rows: { type: 'integer' },
    reference_histogram: { anyOf: [histogram, { type: 'null' }] },
    current_histogram: { anyOf: [histogram, { type: 'null' }] },
    note: { type: 'string' },
  },
} as const;
const driftReportSchema = {
  type: 'object',
  properties: {
    columns: { type: 'array', items: columnDriftSchema },
    number_of_columns: { type: 'integer' },
    number_of_drifted_columns: { type: 'integer' },
    share_of_drifted_columns: { type: 'number' },
    dataset_drift: { type: 'boolean' },
    drift_share: { type: 'number' },
  },
} as const;
const valueShare = { type: 'object', properties: { value: valueSchema, count: { type: 'integer' }, share: { type: 'number' } } } as const;

interface SelectionBody {
  dataset: string;
  version?: string;
  from_ms?: number;
  to_ms?: number;
  segment?: string;
}

function toSelection(s: SelectionBody, what: string): RowSelection {
  const problem = datasetNameProblem(s.dataset);
  if (problem) throw new ApiError(400, 'INVALID_ARGUMENT', `${what}: ${problem}`);
  if (s.from_ms !== undefined && s.to_ms !== undefined && s.from_ms > s.to_ms) throw new ApiError(400, 'INVALID_ARGUMENT', `${what}: from_ms must not be after to_ms`);
  return {
    dataset: s.dataset,
    ...(s.version !== undefined ? { version: s.version } : {}),
    ...(s.from_ms !== undefined ? { fromMs: s.from_ms } : {}),
    ...(s.to_ms !== undefined ? { toMs: s.to_ms } : {}),
    ...(s.segment !== undefined ? { segment: s.segment } : {}),
  };
}

const jsonValue = (v: string | number) => (typeof v === 'number' ? toJsonDouble(v) : v);
const jsonShares = (xs: ValueShare[]) => xs.map((x) => ({ value: jsonValue(x.value), count: x.count, share: x.share }));
const jsonHistogram = (h: Histogram | null) => (h === null ? null : 'edges' in h ? h : { ...h, values: h.values.map(jsonValue) });

function columnDriftJson(c: ColumnDrift) {
  return {
    column: c.column,
    type: c.type,
    method: c.method,
    score: c.score === null ? null : toJsonDouble(c.score),
    threshold: c.threshold,
    drifted: c.drifted,
    reference_rows: c.referenceRows,
    current_rows: c.currentRows,
    reference_histogram: jsonHistogram(c.referenceHistogram),
    current_histogram: jsonHistogram(c.currentHistogram),
    ...(c.note ? { note: c.note } : {}),
  };
}

function driftReportJson(r: DriftReport) {
  return {
    columns: r.columns.map(columnDriftJson),
    number_of_columns: r.columns.filter((c) => c.score !== null).length,
    number_of_drifted_columns: r.driftedColumns,
    share_of_drifted_columns: r.driftShare,
    dataset_drift: r.datasetDrift,
    drift_share: r.driftShareThreshold,
  };
}

interface DriftBody {
  reference: SelectionBody;
  current: SelectionBody;
  columns?: string[];
  methods?: Record<string, MethodChoice & { method?: DriftMethod }>;
  drift_share: number;
}

const MAX_WINDOWS = 200;
const MAX_ROWS_PER_REQUEST = 10_000;

export function registerDataRoutes(app: FastifyInstance, deps: { ch: ClickHouse; preHandler: PreHandler; writes?: { writer: TrackingWriter; preHandler: PreHandler } }): void {
  const { ch, preHandler } = deps;

  app.get<{ Querystring: { max_results: number; page_token?: string } }>(
    '/api/v1/datasets',
    {
      preHandler,
      schema: {
        summary: 'Datasets with row counts, versions, columns and time range',
        tags: ['data'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { max_results: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, page_token: { type: 'string', minLength: 1, maxLength: 2000 } },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              datasets: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    dataset: { type: 'string' },
                    rows: { type: 'integer' },
                    versions: { type: 'array', items: { type: 'string' } },
                    columns: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, type: { type: 'string' }, values: { type: 'integer' } } } },
                    first_timestamp_ms: { type: 'integer' },
                    last_timestamp_ms: { type: 'integer' },
                  },
                },
              },
              next_page_token: { type: 'string' },
            },
          },
          ...errors,
        },
      },
    },
    async (req) => {
      const after = req.query.page_token === undefined ? undefined : decodePageToken(req.query.page_token, (v): v is string => typeof v === 'string');
      // The service's own records (monitors, alert events) are not datasets of the user's.
      const rows = (await listDatasets(ch, req.query.max_results + 1, after)).filter((d) => !d.dataset.startsWith(RESERVED_DATASET_PREFIX));
      const page = rows.slice(0, req.query.max_results);
      return {
        datasets: page.map((d) => ({ dataset: d.dataset, rows: d.rows, versions: d.versions, columns: d.columns, first_timestamp_ms: d.firstTimestampMs, last_timestamp_ms: d.lastTimestampMs })),
        ...(rows.length > page.length ? { next_page_token: encodePageToken(page[page.length - 1]!.dataset) } : {}),
      };
    },
  );

  app.post<{ Params: { dataset: string }; Body: { version?: string; from_ms?: number; to_ms?: number; segment?: string; columns?: string[]; label_column?: string; reference?: SelectionBody; top_values: number } }>(
    '/api/v1/datasets/:dataset/quality',
    {
      preHandler,
      schema: {
        summary: 'Data quality of a dataset, a version or a time window, per column',
        tags: ['data'],
        params: { type: 'object', required: ['dataset'], properties: { dataset: datasetName } },
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { ...selectionProps, columns: columnsList, label_column: columnName, reference: selection, top_values: { type: 'integer', minimum: 1, maximum: 100, default: 10 } },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              dataset: { type: 'string' },
              rows: { type: 'integer' },
              columns: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    column: { type: 'string' },
                    type: { type: 'string' },
                    rows: { type: 'integer' },
                    missing: { type: 'integer' },
                    missing_share: { type: 'number' },
                    distinct: { type: 'integer' },
                    min: nullableDouble,
                    max: nullableDouble,
                    mean: nullableDouble,
                    std: nullableDouble,
                    quantiles: { anyOf: [{ type: 'object', properties: { p25: jsonDouble, p50: jsonDouble, p75: jsonDouble } }, { type: 'null' }] },
                    most_common: { type: 'array', items: valueShare },
                    new_categories: { type: 'array', items: { type: 'string' } },
                    vanished_categories: { type: 'array', items: { type: 'string' } },
                  },
                },
              },
              class_balance: { type: 'object', properties: { column: { type: 'string' }, classes: { type: 'array', items: valueShare } } },
            },
          },
          ...errors,
        },
      },
    },
    async (req) => {
      const b = req.body ?? { top_values: 10 };
      const sel = toSelection({ ...b, dataset: req.params.dataset }, 'selection');
      const report = await qualityReport(ch, {
        selection: sel,
        ...(b.columns ? { columns: b.columns } : {}),
        ...(b.label_column !== undefined ? { labelColumn: b.label_column } : {}),
        ...(b.reference ? { reference: toSelection(b.reference, 'reference') } : {}),
        topValues: b.top_values,
      });
      const num = (v: number | null) => (v === null ? null : toJsonDouble(v));
      return {
        dataset: sel.dataset,
        rows: report.rows,
        columns: report.columns.map((c) => ({
          column: c.column,
          type: c.type,
          rows: c.rows,
          missing: c.missing,
          missing_share: c.missingShare,
          distinct: c.distinct,
          min: num(c.min),
          max: num(c.max),
          mean: num(c.mean),
          std: num(c.std),
          quantiles: c.quantiles && { p25: toJsonDouble(c.quantiles.p25), p50: toJsonDouble(c.quantiles.p50), p75: toJsonDouble(c.quantiles.p75) },
          most_common: jsonShares(c.mostCommon),
          ...(c.newCategories ? { new_categories: c.newCategories, vanished_categories: c.vanishedCategories } : {}),
        })),
        ...(report.classBalance ? { class_balance: { column: report.classBalance.column, classes: jsonShares(report.classBalance.classes) } } : {}),
      };
    },
  );

  const driftBodyProps = { reference: selection, current: selection, columns: columnsList, methods: methodsSchema, drift_share: driftShare } as const;
  const driftRequest = (b: DriftBody, current: RowSelection) => ({
    reference: toSelection(b.reference, 'reference'),
    current,
    ...(b.columns && b.columns.length > 0 ? { columns: b.columns } : {}),
    ...(b.methods ? { methods: b.methods } : {}),
    driftShare: b.drift_share,
  });

  app.post<{ Body: DriftBody }>(
    '/api/v1/drift',
    {
      preHandler,
      schema: {
        summary: 'Drift of current data against reference data, per column and for the dataset',
        tags: ['data'],
        body: { type: 'object', additionalProperties: false, required: ['reference', 'current'], properties: driftBodyProps },
        response: { 200: driftReportSchema, ...errors },
      },
    },
    async (req) => driftReportJson(await driftReport(ch, driftRequest(req.body, toSelection(req.body.current, 'current')))),
  );

  app.post<{ Body: DriftBody & { window_ms: number } }>(
    '/api/v1/drift/over-time',
    {
      preHandler,
      schema: {
        summary: 'The drift report for each time window of the current selection',
        tags: ['data'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['reference', 'current', 'window_ms'],
          properties: {
            ...driftBodyProps,
            current: { ...selection, required: ['dataset', 'from_ms', 'to_ms'] },
            window_ms: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: { windows: { type: 'array', items: { type: 'object', properties: { from_ms: { type: 'integer' }, to_ms: { type: 'integer' }, report: driftReportSchema } } } },
          },
          ...errors,
        },
      },
    },
    async (req) => {
      const cur = toSelection(req.body.current, 'current');
      const from = cur.fromMs!;
      const to = cur.toMs!;
      const count = Math.ceil((to - from) / req.body.window_ms);
      if (count > MAX_WINDOWS) throw new ApiError(400, 'INVALID_ARGUMENT', `${count} windows; at most ${MAX_WINDOWS} per request`);
      const windows = [];
      for (let start = from; start < to; start += req.body.window_ms) {
        const end = Math.min(to, start + req.body.window_ms);
        const report = await driftReport(ch, driftRequest(req.body, { ...cur, fromMs: start, toMs: end }));
        windows.push({ from_ms: start, to_ms: end, report: driftReportJson(report) });
      }
      return { windows };
    },
  );

  const writes = deps.writes;
  if (!writes) return;
  app.post<{ Params: { dataset: string }; Body: { version?: string; columns?: Record<string, 'numerical' | 'categorical'>; rows: { timestamp_ms?: number; segment?: string; values: Record<string, DatasetValue> }[] } }>(
    '/api/v1/datasets/:dataset/rows',
    {
      preHandler: writes.preHandler,
      schema: {
        summary: 'Append rows to a dataset; returns once they are readable',
        description:
          'Values are numbers (numerical), strings (categorical) or null (missing). In a numerical column the strings "NaN", "Infinity" and "-Infinity" stand for those values. Column types come from `columns`, else from the first non-null value.',
        tags: ['data'],
        params: { type: 'object', required: ['dataset'], properties: { dataset: datasetName } },
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['rows'],
          properties: {
            version: { type: 'string', maxLength: 100 },
            columns: { type: 'object', maxProperties: 1000, additionalProperties: { type: 'string', enum: ['numerical', 'categorical'] } },
            rows: {
              type: 'array',
              minItems: 1,
              maxItems: MAX_ROWS_PER_REQUEST,
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['values'],
                properties: {
                  timestamp_ms: timeMs,
                  segment: { type: 'string', maxLength: 200 },
                  // Checked in the handler: the validator coerces types (null would become 0 under anyOf) and warns on type lists.
                  values: { type: 'object', maxProperties: 1000, additionalProperties: { description: 'a number, a string (at most 1000 characters) or null' } },
                },
              },
            },
          },
        },
        response: { 200: { type: 'object', properties: { dataset: { type: 'string' }, rows: { type: 'integer' } } }, ...errors },
      },
    },
    async (req) => {
      const b = req.body;
      if (req.params.dataset.startsWith(RESERVED_DATASET_PREFIX)) throw new ApiError(400, 'INVALID_ARGUMENT', `dataset names starting with "${RESERVED_DATASET_PREFIX}" are reserved for the service's own records`);
      const batch = toBatch(req.params.dataset, b);
      const problem = datasetRowsProblem(batch, Date.now());
      if (problem) throw new ApiError(400, 'INVALID_ARGUMENT', problem);
      await writes.writer.emitDatasetRows(batch);
      return { dataset: batch.dataset, rows: batch.rows.length };
    },
  );
}

const SPECIAL_NUMBERS = new Map<string, number>([['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity]]);

function toBatch(dataset: string, b: { version?: string; columns?: Record<string, 'numerical' | 'categorical'>; rows: { timestamp_ms?: number; segment?: string; values: Record<string, DatasetValue> }[] }): DatasetRowsBatch {
  const types = new Map<string, 'numerical' | 'categorical' | undefined>(Object.entries(b.columns ?? {}));
  for (const r of b.rows) {
    for (const [name, v] of Object.entries(r.values)) {
      if (types.get(name) === undefined) types.set(name, v === null || (typeof v !== 'number' && typeof v !== 'string') ? undefined : typeof v === 'number' ? 'numerical' : 'categorical');
    }
  }
  const columns: DatasetColumnSpec[] = [...types.entries()].map(([name, t]) => ({ name, type: t === 'numerical' ? 'NUMERICAL' : 'CATEGORICAL' }));
  if (columns.length === 0) throw new ApiError(400, 'INVALID_ARGUMENT', 'rows carry no columns');
  if (columns.length * b.rows.length > MAX_VALUES_PER_BATCH) throw new ApiError(400, 'INVALID_ARGUMENT', `at most ${MAX_VALUES_PER_BATCH} values per request`);
  const now = Date.now();
  return {
    dataset,
    version: b.version ?? '',
    columns,
    producer: null,
    rows: b.rows.map((r) => ({
      timestampMs: r.timestamp_ms ?? now,
      segment: r.segment ?? null,
      values: columns.map((c) => {
        const v: unknown = r.values[c.name];
        if (v === undefined || v === null) return null;
        if (typeof v !== 'number' && typeof v !== 'string') throw new ApiError(400, 'INVALID_ARGUMENT', `column ${JSON.stringify(c.name.slice(0, 80))}: a value is a number, a string or null`);
        if (c.type === 'NUMERICAL' && typeof v === 'string' && SPECIAL_NUMBERS.has(v)) return SPECIAL_NUMBERS.get(v)!;
        return v;
      }),
    })),
  };
}
