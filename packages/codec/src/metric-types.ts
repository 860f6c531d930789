export type EntityKind = 'RUN' | 'MODEL_VERSION';

export interface MetricPoint {
  key: string;
  /** Any double: NaN and +/-Infinity are legal metric values. */
  value: number;
  step: number;
  timestampMs: number;
}

export interface MetricBatch {
  entityKind: EntityKind;
  entityId: string;
  points: MetricPoint[];
  producer?: string | null;
}
