// On a cluster, /health names every node the pipeline depends on and says which are down: each Kafka broker, each
// ZooKeeper server, each ClickHouse server, each ingest worker. A node down is not the service down (replication
// and failover keep requests working), so these make the status "degraded", not the answer 503.
import { connect } from 'node:net';

export interface NodeStatus {
  kind: 'kafka' | 'zookeeper' | 'clickhouse' | 'worker';
  name: string;
  up: boolean;
  error?: string;
}

export interface ClusterNodes {
  kafkaBrokers: string[];
  zookeeper: string[];
  clickhouse: string[];
  workers: string[];
}

function hostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
}

/** Opens a TCP connection, optionally sends `send` and resolves with what the peer answers before closing. */
function tcpExchange(address: string, timeoutMs: number, send?: string): Promise<string> {
  const { host, port } = hostPort(address);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => {
      if (send === undefined) {
        clearTimeout(timer);
        socket.end();
        resolve('');
      } else socket.write(send);
    });
    socket.on('data', (d) => (answer += d.toString('utf8')));
    socket.on('end', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

async function httpOk(url: string, timeoutMs: number): Promise<void> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
}

async function probe(kind: NodeStatus['kind'], name: string, check: () => Promise<void>): Promise<NodeStatus> {
  try {
    await check();
    return { kind, name, up: true };
  } catch (err) {
    return { kind, name, up: false, error: (err as Error).message };
  }
}

export function probeNodes(nodes: ClusterNodes, timeoutMs = 1_000): Promise<NodeStatus[]> {
  return Promise.all([
    ...nodes.kafkaBrokers.map((b) => probe('kafka', b, async () => void (await tcpExchange(b, timeoutMs)))),
    ...nodes.zookeeper.map((z) =>
      probe('zookeeper', z, async () => {
        const answer = await tcpExchange(z, timeoutMs, 'ruok');
        if (answer !== 'imok') throw new Error(`answered ${JSON.stringify(answer)} to ruok`);
      }),
    ),
    ...nodes.clickhouse.map((u) => probe('clickhouse', u, () => httpOk(new URL('/ping', u).toString(), timeoutMs))),
    ...nodes.workers.map((u) => probe('worker', u, () => httpOk(new URL('/metrics', u).toString(), timeoutMs))),
  ]);
}
