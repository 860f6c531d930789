// What /health checks: what the service will actually do, not that the servers answer a ping. A ClickHouse that
// answers pings but refuses this service's user its database (users set up for another database), or a Kafka without
// the topics the tracking writer produces to, would otherwise report healthy while every request fails.
import { queryRows, sql, type ClickHouse } from '@runstream/clickhouse';
import type { Admin } from '@runstream/kafka';
import type { HealthChecks } from './routes/health-routes.ts';
import { probeNodes, type ClusterNodes } from './node-probes.ts';

/** The query user reads a table of the configured database (the same access every data request needs). */
export async function checkClickHouseReads(ch: ClickHouse): Promise<void> {
  try {
    await queryRows(ch, sql`SELECT 1 FROM metric_points_v2 LIMIT 1`);
  } catch (err) {
    throw new Error(`the query user cannot read database ${ch.database}: ${firstLine((err as Error).message)}`);
  }
}

/** The broker answers and every topic the service produces to exists. */
export async function checkKafkaTopics(admin: Admin, topics: string[]): Promise<void> {
  const missing = await admin.missingTopics(topics);
  if (missing.length > 0) {
    throw new Error(`Kafka topic${missing.length > 1 ? 's' : ''} ${missing.join(', ')} missing: start the ingest worker (it creates its topics) or check KAFKA_TOPIC_PREFIX`);
  }
}

export function serviceHealthChecks(ch: ClickHouse, admin: Admin, topics: string[], nodes?: ClusterNodes): HealthChecks {
  return { clickhouse: () => checkClickHouseReads(ch), kafka: () => checkKafkaTopics(admin, topics), ...(nodes ? { nodes: () => probeNodes(nodes) } : {}) };
}

// ClickHouse appends a stack trace and version to its messages; the first line says what is wrong.
function firstLine(message: string): string {
  return message.split('\n')[0]!.trim();
}
