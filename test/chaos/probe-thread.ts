// Cheap requests during the query burst, measured from a thread of their own: the burst client's event loop is
// busy reading megabytes of answers, and timing the probes there would add its delays to the service's.
// workerData: { probes: { name, url, headers }[], pauseMs }. Runs until it receives 'stop', then posts
// { [name]: { latencies: number[], failed: number } }.
import { parentPort, workerData } from 'node:worker_threads';

interface Probe {
  name: string;
  url: string;
  headers: Record<string, string>;
}

const { probes, pauseMs } = workerData as { probes: Probe[]; pauseMs: number };
let stopping = false;
parentPort!.on('message', (m) => {
  if (m === 'stop') stopping = true;
});

async function loop(p: Probe): Promise<{ latencies: number[]; failed: number }> {
  const latencies: number[] = [];
  let failed = 0;
  while (!stopping) {
    const t = performance.now();
    try {
      const res = await fetch(p.url, { headers: p.headers, signal: AbortSignal.timeout(30_000) });
      await res.arrayBuffer();
      if (res.status !== 200) failed++;
    } catch {
      failed++;
    }
    latencies.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, pauseMs));
  }
  return { latencies, failed };
}

const results = await Promise.all(probes.map(loop));
parentPort!.postMessage(Object.fromEntries(probes.map((p, i) => [p.name, results[i]])));
