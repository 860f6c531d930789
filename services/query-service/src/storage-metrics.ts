// Prometheus gauges of what the data costs on disk, per table and per experiment (packages/clickhouse/src/
// storage-stats.ts). Read from ClickHouse at most once a minute however often Prometheus scrapes; a failed read
// keeps the last values (and logs) instead of failing the scrape.
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '@runstream/config';
import { experimentStorage, tableStorage, type ClickHouse, type ExperimentStorage, type TableStorage } from '@runstream/clickhouse';

export function installStorageMetrics(registry: Registry, ch: ClickHouse, log: Logger, opts: { maxAgeMs?: number; experiments?: number } = {}): void {
  const maxAgeMs = opts.maxAgeMs ?? 60_000;
  let last: { at: number; tables: TableStorage[]; experiments: ExperimentStorage[] } | undefined;
  let pending: Promise<void> | undefined;
  const refresh = async (): Promise<void> => {
    if (last && Date.now() - last.at < maxAgeMs) return;
    pending ??= (async () => {
      try {
        last = { at: Date.now(), tables: await tableStorage(ch), experiments: await experimentStorage(ch, opts.experiments ?? 50) };
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'storage metrics not refreshed');
      } finally {
        pending = undefined;
      }
    })();
    await pending;
  };
  const perTable = (name: string, help: string, value: (t: TableStorage) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['table'],
      registers: [registry],
      async collect() {
        await refresh();
        this.reset();
        for (const t of last?.tables ?? []) this.set({ table: t.table }, value(t));
      },
    });
  perTable('runstream_storage_rows', 'Rows per table (active parts)', (t) => t.rows);
  perTable('runstream_storage_bytes_on_disk', 'Compressed bytes on disk per table', (t) => t.bytesOnDisk);
  perTable('runstream_storage_bytes_uncompressed', 'Uncompressed bytes per table (divide by bytes on disk for the compression ratio)', (t) => t.bytesUncompressed);
  perTable('runstream_storage_parts', 'Active parts per table', (t) => t.parts);
  const perExperiment = (name: string, help: string, value: (e: ExperimentStorage) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['experiment_id'],
      registers: [registry],
      async collect() {
        await refresh();
        this.reset();
        for (const e of last?.experiments ?? []) this.set({ experiment_id: e.experimentId }, value(e));
      },
    });
  perExperiment('runstream_storage_experiment_points', 'Metric points per experiment (the largest experiments)', (e) => e.points);
  perExperiment('runstream_storage_experiment_bytes_estimated', "An experiment's share of the raw points' bytes on disk", (e) => e.estimatedPointBytes);
}
