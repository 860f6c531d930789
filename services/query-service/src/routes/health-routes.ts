// GET /health: can the service do its work — its ClickHouse user read its database, its Kafka topics exist
// (health-checks.ts)? 503 with the reason in checks.<name>.error otherwise.
import type { FastifyInstance } from 'fastify';
import type { NodeStatus } from '../node-probes.ts';

export interface HealthChecks {
  /** Resolves when the service's ClickHouse user can read its database; rejects with the reason. */
  clickhouse: () => Promise<void>;
  /** Resolves when the broker answers and the topics the service produces to exist. */
  kafka: () => Promise<void>;
  /** On a cluster: every node and whether it is up (node-probes.ts). */
  nodes?: () => Promise<NodeStatus[]>;
}

const nodeSchema = {
  type: 'object',
  properties: { kind: { type: 'string' }, name: { type: 'string' }, up: { type: 'boolean' }, error: { type: 'string' } },
  required: ['kind', 'name', 'up'],
} as const;

const checkSchema = {
  type: 'object',
  properties: { ok: { type: 'boolean' }, latencyMs: { type: 'number' }, error: { type: 'string' } },
  required: ['ok', 'latencyMs'],
} as const;

const healthSchema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok', 'degraded'] },
    checks: { type: 'object', properties: { clickhouse: checkSchema, kafka: checkSchema }, required: ['clickhouse', 'kafka'] },
    nodes: { type: 'array', items: nodeSchema },
    down: { type: 'array', items: { type: 'string' } },
  },
  required: ['status', 'checks'],
} as const;

async function timed(check: () => Promise<void>, timeoutMs: number) {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    return { ok: false, latencyMs: Math.round(performance.now() - started), error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

export function registerHealthRoutes(app: FastifyInstance, checks: HealthChecks): void {
  app.get('/health', { schema: { summary: 'Service health with Kafka and ClickHouse checks', tags: ['health'], response: { 200: healthSchema, 503: healthSchema } } }, async (_req, reply) => {
    const [clickhouse, kafka, nodes] = await Promise.all([timed(checks.clickhouse, 2_000), timed(checks.kafka, 2_000), checks.nodes?.()]);
    const ok = clickhouse.ok && kafka.ok;
    const down = (nodes ?? []).filter((n) => !n.up).map((n) => `${n.kind} ${n.name}`);
    // A node down on a cluster degrades the service without stopping it: replication and failover keep it answering.
    const status = ok && down.length === 0 ? 'ok' : 'degraded';
    return reply.code(ok ? 200 : 503).send({ status, checks: { clickhouse, kafka }, ...(nodes ? { nodes, down } : {}) });
  });
}
