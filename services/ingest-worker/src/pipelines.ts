// The topics the worker ingests.
import { encodeDatasetRowsUnits, encodeMetricPointUnits, feedOf, readMetricTablesHeld, encodeTrackingEvents, insertDatasetRowsBlock, insertMetricPoints, insertTrackingEventsBlock, type ClickHouse, type DatasetRowsUnit, type MetricPointUnit, type TrackingEventUnit } from '@runstream/clickhouse';
import type { Topics } from '@runstream/kafka';
import { decodeBatch } from './batch-decoder.ts';
import { decodeDatasetRowsBatch } from './dataset-rows-decoder.ts';
import { decodeTrackingBatch } from './tracking-decoder.ts';
import type { TopicPipeline } from './topic-pipeline.ts';

export function metricsPipeline(ch: ClickHouse, topics: Topics, opts: { batchMaxRows: number; batchLingerMs: number; caughtUpGapMs: number }): TopicPipeline<MetricPointUnit> {
  return {
    name: 'metrics',
    topic: topics.metrics,
    decode: (batch, o) => decodeBatch(batch, o),
    rowsOf: (u) => u.points.length,
    sourceOf: (u) => ({ partition: u.srcPartition, offset: u.srcOffset }),
    encode: (units, ingestedAt, feedOf) => encodeMetricPointUnits(units, ingestedAt, feedOf),
    send: (block, queryId) => insertMetricPoints(ch, block, queryId),
    tablesMissing: async (units) => {
      const held = await readMetricTablesHeld(ch, topics.metrics, units);
      return (u) => feedOf(held, u.srcPartition, u.srcOffset);
    },
    ...opts,
  };
}

// Tracking writes are few and reads and run writes wait for them (read-your-writes): flush almost at once, with no
// gap between caught-up inserts.
export function trackingPipeline(ch: ClickHouse, topics: Topics): TopicPipeline<TrackingEventUnit> {
  return {
    name: 'tracking',
    topic: topics.tracking,
    decode: (batch, o) => decodeTrackingBatch(batch, o),
    rowsOf: () => 1,
    sourceOf: (u) => ({ partition: u.srcPartition, offset: u.srcOffset }),
    encode: (units, ingestedAt) => encodeTrackingEvents(units, ingestedAt),
    send: (block, queryId) => insertTrackingEventsBlock(ch, block, queryId),
    batchMaxRows: 10_000,
    batchLingerMs: 5,
  };
}

// A unit's size is its stored values (rows × columns), so batch bounds hold in ClickHouse rows.
export function datasetsPipeline(ch: ClickHouse, topics: Topics, opts: { batchMaxRows: number; batchLingerMs: number; caughtUpGapMs: number }): TopicPipeline<DatasetRowsUnit> {
  return {
    name: 'datasets',
    topic: topics.datasets,
    decode: (batch, o) => decodeDatasetRowsBatch(batch, o),
    rowsOf: (u) => u.batch.rows.length * u.batch.columns.length,
    sourceOf: (u) => ({ partition: u.srcPartition, offset: u.srcOffset }),
    encode: (units, ingestedAt) => encodeDatasetRowsUnits(units, ingestedAt),
    send: (block, queryId) => insertDatasetRowsBlock(ch, block, queryId),
    ...opts,
  };
}
