// Response shapes of the API routes the pages call (see services/query-service/README.md).
import type { JsonDouble } from './json-double.ts';

export type XAxis = 'step' | 'time' | 'relative';

export interface SeriesRequest {
  runs?: string[];
  model_versions?: { name: string; version: number }[];
  keys: string[];
  x: XAxis;
  buckets: number;
  from?: number;
  to?: number;
  smoothing?: { method: 'ema'; weight: number } | { method: 'time_ema'; half_life_ms: number };
}

export interface SeriesColumns {
  run: string;
  key: string;
  points: number;
  resolution: 'raw' | 'bucketed';
  x_first: number[];
  x_last: number[];
  count: number[];
  min: JsonDouble[];
  max: JsonDouble[];
  mean: JsonDouble[];
  last: JsonDouble[];
  smoothed?: JsonDouble[];
}

export interface SeriesResponse { x: XAxis; buckets: number; series: SeriesColumns[] }

export interface MetricSummary { last: JsonDouble; min: JsonDouble; max: JsonDouble; best: JsonDouble; count: number; last_step: number; goal: 'min' | 'max' }

export interface CompareRun {
  run_id: string;
  run_name: string;
  experiment_id: string;
  status: string;
  start_time: number;
  end_time: number | null;
  duration_ms: number | null;
  params: Record<string, string>;
  tags: Record<string, string>;
  metrics: Record<string, MetricSummary>;
  rank?: number;
}

export interface CompareResponse { runs: CompareRun[]; param_keys: string[]; differing_params: string[]; metric_keys: string[] }

export interface SearchRun {
  run_id: string;
  run_name: string;
  experiment_id: string;
  status: string;
  start_time: number;
  end_time: number | null;
  params: Record<string, string>;
  tags: Record<string, string>;
  metrics: Record<string, JsonDouble>;
}

export interface SearchResponse { runs: SearchRun[]; total_count: number; next_page_token?: string }

export interface Experiment { experiment_id: string; name: string }

export interface ModelVersionInfo { name: string; version: string; run_id: string; creation_time_ms: number }
export interface RegisteredModel { name: string; description: string; versions: ModelVersionInfo[] }

export interface TrendVersion {
  version: number;
  created_at: number;
  run_id: string;
  value: JsonDouble;
  min: JsonDouble;
  max: JsonDouble;
  count: number;
  delta: JsonDouble;
  degraded: boolean;
}

export interface TrendResponse { model: string; key: string; goal: 'min' | 'max'; baseline_version: number; versions: TrendVersion[] }

export type ColumnType = 'numerical' | 'categorical';

export interface DatasetInfo {
  dataset: string;
  rows: number;
  versions: string[];
  columns: { name: string; type: ColumnType; values: number }[];
  first_timestamp_ms: number;
  last_timestamp_ms: number;
}

/** A selection of a dataset's rows: a version and/or a time window. */
export interface RowSelection { dataset: string; version?: string; from_ms?: number; to_ms?: number }

export interface ValueShare { value: string | JsonDouble; count: number; share: number }

export interface ColumnQuality {
  column: string;
  type: ColumnType;
  rows: number;
  missing: number;
  missing_share: number;
  distinct: number;
  min: JsonDouble | null;
  max: JsonDouble | null;
  mean: JsonDouble | null;
  std: JsonDouble | null;
  quantiles: { p25: JsonDouble; p50: JsonDouble; p75: JsonDouble } | null;
  most_common: ValueShare[];
  new_categories?: string[];
  vanished_categories?: string[];
}

export interface QualityResponse { dataset: string; rows: number; columns: ColumnQuality[]; class_balance?: { column: string; classes: ValueShare[] } }

export type Histogram = { edges: number[]; counts: number[]; shares: number[] } | { values: (string | JsonDouble)[]; counts: number[]; shares: number[] };

export interface ColumnDrift {
  column: string;
  type: ColumnType;
  method: string | null;
  score: JsonDouble | null;
  threshold: number | null;
  drifted: boolean;
  reference_rows: number;
  current_rows: number;
  reference_histogram: Histogram | null;
  current_histogram: Histogram | null;
  note?: string;
}

export interface DriftResponse {
  columns: ColumnDrift[];
  number_of_columns: number;
  number_of_drifted_columns: number;
  share_of_drifted_columns: number;
  dataset_drift: boolean;
  drift_share: number;
}

export interface DriftOverTimeResponse { windows: { from_ms: number; to_ms: number; report: DriftResponse }[] }

export interface RankBucketJson { bucket: number; first_step: number; last_step: number; min: JsonDouble; max: JsonDouble; mean: JsonDouble; points: number }
export interface RankBucketsResponse { key: string; ranks: { rank: number; buckets: RankBucketJson[] }[] }
