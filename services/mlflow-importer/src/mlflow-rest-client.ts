// A small client of MLflow's tracking REST API (/api/2.0/mlflow/…): just what the importer reads. Every list is
// paged; transient failures (network errors, 429, 5xx) are retried with exponential backoff; everything else is an
// MlflowRestError naming the call, the HTTP status and MLflow's error code and message.
import type { RunRow } from '@runstream/clickhouse';

export interface KeyValue {
  key: string;
  value: string;
}

export interface SourceExperiment {
  experimentId: string;
  name: string;
  artifactLocation: string;
  lifecycleStage: string;
  creationTimeMs: number;
  lastUpdateTimeMs: number;
  tags: KeyValue[];
}

/** A source run's info has the shape of a stored Runstream run. */
export type SourceRunInfo = RunRow;

export interface SourceRun {
  info: SourceRunInfo;
  params: KeyValue[];
  tags: KeyValue[];
  /** Keys of the run's metrics (from the latest values in the search result); the history is read per key. */
  metricKeys: string[];
}

/**
 * One point of a metric history as MLflow returned it. `value` is null when it is neither a JSON number nor one of
 * the strings "NaN", "Infinity", "-Infinity"; step and timestamp may be unsafe integers (JSON numbers beyond 2^53).
 */
export interface SourcePoint {
  key: string;
  value: number | null;
  rawValue?: unknown;
  step: number;
  timestampMs: number;
}

export class MlflowRestError extends Error {
  readonly status: number | undefined;
  readonly errorCode: string | undefined;
  constructor(message: string, opts: { status?: number; errorCode?: string } = {}) {
    super(message);
    this.name = 'MlflowRestError';
    this.status = opts.status;
    this.errorCode = opts.errorCode;
  }
}

export interface MlflowRestClientOptions {
  /** Tracking server base URL, e.g. http://127.0.0.1:5000 (a trailing slash is ignored). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>` (MLflow's MLFLOW_TRACKING_TOKEN). */
  token?: string | undefined;
  /** Basic auth (MLflow's basic-auth app: MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD); the token wins. */
  username?: string | undefined;
  password?: string | undefined;
  /** Attempts after the first one for transient failures. */
  retries?: number;
  /** First backoff delay; doubles per attempt (with jitter), capped at maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Per request. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (info: { call: string; attempt: number; delayMs: number; reason: string }) => void;
}

/** Page sizes: MLflow caps get-history pages at 25,000 and search pages at 50,000. */
export const HISTORY_PAGE_SIZE = 25_000;
export const SEARCH_PAGE_SIZE = 1_000;

type Json = Record<string, unknown>;

export class MlflowRestClient {
  readonly baseUrl: string;
  private readonly authorization: string | undefined;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly onRetry: MlflowRestClientOptions['onRetry'];
  /** Requests made and retried, for the summary. */
  readonly stats = { requests: 0, retries: 0 };

  constructor(opts: MlflowRestClientOptions) {
    let parsed: URL;
    try {
      parsed = new URL(opts.baseUrl);
    } catch {
      throw new MlflowRestError(`not a URL: ${JSON.stringify(opts.baseUrl)}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new MlflowRestError(`the MLflow tracking URI must be http(s), got ${JSON.stringify(opts.baseUrl)}`);
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.authorization = opts.token
      ? `Bearer ${opts.token}`
      : opts.username
        ? `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`
        : undefined;
    this.retries = opts.retries ?? 5;
    this.backoffMs = opts.backoffMs ?? 250;
    this.maxBackoffMs = opts.maxBackoffMs ?? 10_000;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.fetchFn = opts.fetch ?? fetch;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.onRetry = opts.onRetry;
  }

  /** Every experiment, active and deleted (view_type ALL), in the server's order. */
  async searchExperiments(): Promise<SourceExperiment[]> {
    const out: SourceExperiment[] = [];
    let pageToken: string | undefined;
    do {
      const body: Json = { max_results: SEARCH_PAGE_SIZE, view_type: 'ALL', ...(pageToken ? { page_token: pageToken } : {}) };
      const res = await this.call('POST', 'experiments/search', body);
      for (const e of arrayOf(res.experiments, 'experiments/search', 'experiments')) out.push(parseExperiment(e));
      pageToken = nextToken(res, pageToken, 'experiments/search');
    } while (pageToken);
    return out;
  }

  /** Every run of one experiment, active and deleted (run_view_type ALL). */
  async searchRuns(experimentId: string): Promise<SourceRun[]> {
    const out: SourceRun[] = [];
    let pageToken: string | undefined;
    do {
      const body: Json = { experiment_ids: [experimentId], run_view_type: 'ALL', max_results: SEARCH_PAGE_SIZE, ...(pageToken ? { page_token: pageToken } : {}) };
      const res = await this.call('POST', 'runs/search', body);
      for (const r of arrayOf(res.runs, 'runs/search', 'runs')) out.push(parseRun(r));
      pageToken = nextToken(res, pageToken, 'runs/search');
    } while (pageToken);
    return out;
  }

  /** The full history of one metric of one run, every page. */
  async metricHistory(runId: string, key: string, pageSize = HISTORY_PAGE_SIZE): Promise<SourcePoint[]> {
    const out: SourcePoint[] = [];
    let pageToken: string | undefined;
    do {
      const query = new URLSearchParams({ run_id: runId, metric_key: key, max_results: String(pageSize) });
      if (pageToken) query.set('page_token', pageToken);
      const res = await this.call('GET', `metrics/get-history?${query}`);
      for (const m of arrayOf(res.metrics, 'metrics/get-history', 'metrics')) out.push(parsePoint(m, key));
      pageToken = nextToken(res, pageToken, 'metrics/get-history');
    } while (pageToken);
    return out;
  }

  /** One API call with retries; resolves to the JSON body of a 2xx answer. */
  async call(method: 'GET' | 'POST', path: string, body?: Json): Promise<Json> {
    const url = `${this.baseUrl}/api/2.0/mlflow/${path}`;
    const what = `${method} ${path.split('?')[0]}`;
    for (let attempt = 0; ; attempt++) {
      let transient: string;
      this.stats.requests++;
      try {
        const res = await this.fetchFn(url, {
          method,
          headers: {
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...(this.authorization ? { authorization: this.authorization } : {}),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        const text = await res.text();
        if (res.ok) return parseBody(text, what);
        const err = errorOf(res.status, text, what, this.baseUrl);
        if (res.status !== 429 && res.status < 500) throw err;
        transient = err.message;
      } catch (err) {
        if (err instanceof MlflowRestError) throw err;
        transient = describeNetworkError(err);
      }
      if (attempt >= this.retries) {
        throw new MlflowRestError(`${what} at ${this.baseUrl} failed after ${attempt + 1} attempts: ${transient}`);
      }
      const base = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** attempt);
      const delayMs = Math.round(base / 2 + Math.random() * (base / 2));
      this.stats.retries++;
      this.onRetry?.({ call: what, attempt: attempt + 1, delayMs, reason: transient });
      await this.sleep(delayMs);
    }
  }
}

// ---- parsing ------------------------------------------------------------------------------------------------------

function parseBody(text: string, what: string): Json {
  if (text.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new MlflowRestError(`${what}: the answer is not JSON: ${JSON.stringify(text.slice(0, 200))}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new MlflowRestError(`${what}: expected a JSON object, got ${JSON.stringify(text.slice(0, 200))}`);
  return v as Json;
}

function errorOf(status: number, text: string, what: string, baseUrl: string): MlflowRestError {
  let code: string | undefined;
  let message = text.trim().slice(0, 500);
  try {
    const j = JSON.parse(text) as Json;
    if (typeof j.error_code === 'string') code = j.error_code;
    if (typeof j.message === 'string') message = j.message;
  } catch {
    // not JSON (a proxy's HTML page, …): keep the start of the text
  }
  const hint =
    status === 401 || status === 403
      ? ' (pass a token with --token or MLFLOW_TRACKING_TOKEN)'
      : status === 404 && !code
        ? ' (is this the URL of an MLflow tracking server?)'
        : '';
  return new MlflowRestError(`${what} at ${baseUrl} answered HTTP ${status}${code ? ` ${code}` : ''}: ${message || '(empty body)'}${hint}`, {
    status,
    ...(code ? { errorCode: code } : {}),
  });
}

function describeNetworkError(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'request timed out';
  const cause = e?.cause?.code ?? e?.cause?.message;
  return cause ? `${e.message} (${cause})` : String(e?.message ?? err);
}

function nextToken(res: Json, previous: string | undefined, what: string): string | undefined {
  const t = res.next_page_token;
  if (t === undefined || t === null || t === '') return undefined;
  if (typeof t !== 'string') throw new MlflowRestError(`${what}: next_page_token is not a string`);
  if (t === previous) throw new MlflowRestError(`${what}: the server returned the same page token twice; stopping instead of looping`);
  return t;
}

function arrayOf(v: unknown, what: string, field: string): Json[] {
  if (v === undefined || v === null) return []; // MLflow omits empty repeated fields
  if (!Array.isArray(v)) throw new MlflowRestError(`${what}: '${field}' is not an array`);
  return v as Json[];
}

/** int64 fields: MLflow sends JSON numbers, protobuf's JSON mapping strings; both are accepted. */
export function int64Of(v: unknown): number | null {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  return null;
}

/** A double as MLflow's JSON carries it: a number, or "NaN" / "Infinity" / "-Infinity" (protobuf's JSON mapping). */
export function doubleOf(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (v === 'NaN' || v === 'nan') return NaN;
  if (v === 'Infinity' || v === 'inf') return Infinity;
  if (v === '-Infinity' || v === '-inf') return -Infinity;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

function str(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
}

function keyValues(v: unknown): KeyValue[] {
  return arrayOf(v, 'runs/search', 'params/tags').map((kv) => ({ key: str(kv.key), value: str(kv.value) }));
}

export function parseExperiment(e: Json): SourceExperiment {
  const id = str(e.experiment_id);
  if (!id) throw new MlflowRestError('experiments/search: an experiment has no experiment_id');
  return {
    experimentId: id,
    name: str(e.name),
    artifactLocation: str(e.artifact_location),
    lifecycleStage: str(e.lifecycle_stage) || 'active',
    creationTimeMs: int64Of(e.creation_time) ?? 0,
    lastUpdateTimeMs: int64Of(e.last_update_time) ?? int64Of(e.creation_time) ?? 0,
    tags: keyValues(e.tags),
  };
}

export function parseRun(r: Json): SourceRun {
  const info = (r.info ?? {}) as Json;
  const data = (r.data ?? {}) as Json;
  const runId = str(info.run_id) || str(info.run_uuid);
  if (!runId) throw new MlflowRestError('runs/search: a run has no run_id');
  const tags = keyValues(data.tags);
  const metricKeys = [...new Set(arrayOf(data.metrics, 'runs/search', 'metrics').map((m) => str(m.key)))].sort();
  const endTime = int64Of(info.end_time);
  return {
    info: {
      runId,
      experimentId: str(info.experiment_id),
      runName: str(info.run_name) || (tags.find((t) => t.key === 'mlflow.runName')?.value ?? ''),
      userId: str(info.user_id),
      status: str(info.status) || 'RUNNING',
      startTimeMs: int64Of(info.start_time) ?? 0,
      endTimeMs: endTime,
      artifactUri: str(info.artifact_uri),
      lifecycleStage: str(info.lifecycle_stage) || 'active',
    },
    params: keyValues(data.params),
    tags,
    metricKeys,
  };
}

export function parsePoint(m: Json, key: string): SourcePoint {
  const value = doubleOf(m.value);
  return {
    key: typeof m.key === 'string' && m.key ? m.key : key,
    value,
    ...(value === null ? { rawValue: m.value } : {}),
    step: int64Of(m.step ?? 0) ?? NaN,
    timestampMs: int64Of(m.timestamp) ?? NaN,
  };
}
