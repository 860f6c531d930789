// Prometheus metrics of the ingest worker, served on /metrics (INGEST_METRICS_PORT).
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from '@runstream/config';

export class WorkerMetrics {
  readonly registry = new Registry();
  readonly messages = new Counter({ name: 'runstream_ingest_messages_total', help: 'Kafka messages consumed', labelNames: ['topic'], registers: [this.registry] });
  readonly rowsStored = new Counter({ name: 'runstream_ingest_rows_stored_total', help: 'Rows (metric points, tracking events) stored in ClickHouse', labelNames: ['topic'], registers: [this.registry] });
  readonly skipped = new Counter({ name: 'runstream_ingest_skipped_messages_total', help: 'Messages skipped because they were already stored (replays after a crash or rebalance)', labelNames: ['topic'], registers: [this.registry] });
  readonly deadLetters = new Counter({ name: 'runstream_ingest_dead_letters_total', help: 'Messages sent to the dead-letter topic', labelNames: ['topic', 'reason'], registers: [this.registry] });
  readonly batchRows = new Histogram({
    name: 'runstream_ingest_batch_rows',
    help: 'Rows per ClickHouse insert',
    labelNames: ['topic'],
    buckets: [1, 10, 100, 1_000, 10_000, 50_000, 100_000, 200_000, 500_000, 1_000_000],
    registers: [this.registry],
  });
  readonly insertSeconds = new Histogram({
    name: 'runstream_ingest_insert_seconds',
    help: 'Time to store one batch, retries included',
    labelNames: ['topic'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly insertRetries = new Counter({ name: 'runstream_ingest_insert_retries_total', help: 'Insert attempts that failed and were retried', labelNames: ['topic'], registers: [this.registry] });
  readonly backpressureSeconds = new Counter({
    name: 'runstream_ingest_backpressure_seconds_total',
    help: 'Time consumption waited for batches to become durable before fetching more',
    labelNames: ['topic'],
    registers: [this.registry],
  });
  readonly lag = new Gauge({ name: 'runstream_ingest_consumer_lag', help: 'Messages not yet committed, per partition', labelNames: ['topic', 'partition'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'runstream_ingest_process_' });
  }

  /** Serves /metrics; a port that is taken is logged, not fatal (ingestion matters more than its metrics). */
  serve(host: string, port: number, log: Logger): Server {
    const server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(body),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    });
    server.on('error', (err) => log.warn({ err: err.message, port }, 'metrics endpoint not available'));
    server.listen(port, host, () => {
      const addr = server.address();
      log.info({ url: `http://${host}:${typeof addr === 'object' && addr ? addr.port : port}/metrics` }, 'metrics endpoint listening');
    });
    server.unref();
    return server;
  }
}
