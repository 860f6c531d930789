// Prometheus metrics of the query service: requests by route and status, latency, shed by admission control, in-flight.
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ServiceMetrics {
  registry: Registry;
  /** Requests turned away by admission control, by reason. */
  shed: Counter<'reason'>;
  /** Data requests allowed at once right now (admission control's adaptive limit). */
  gateLimit: Gauge;
}

export function installServiceMetrics(app: FastifyInstance): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'runstream_api_process_' });
  const requests = new Counter({ name: 'runstream_api_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const latency = new Histogram({
    name: 'runstream_api_request_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const shed = new Counter({ name: 'runstream_api_shed_total', help: 'Data requests answered 503 by admission control, by reason', labelNames: ['reason'], registers: [registry] });
  const gateLimit = new Gauge({ name: 'runstream_api_concurrency_limit', help: 'Data requests allowed at once (lowered while the event loop lags)', registers: [registry] });
  const inFlight = new Gauge({ name: 'runstream_api_requests_in_flight', help: 'Requests being served', registers: [registry] });

  app.addHook('onRequest', async () => void inFlight.inc());
  app.addHook('onResponse', async (req, reply) => {
    inFlight.dec();
    // The route pattern, not the URL: ids in paths would explode the label set.
    const route = req.routeOptions.url ?? 'unmatched';
    requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    latency.observe({ method: req.method, route }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  return { registry, shed, gateLimit };
}
