// Produce → queryable latency: points sent one at a time through the SDK (flushed, so acknowledged by Kafka), timed
// until ClickHouse returns them. Polls a single (entity, key, step) — the table's sort key — so a poll costs little.
import { queryRows, sql, type ClickHouse } from '@runstream/clickhouse';
import type { MetricsProducer } from '@runstream/sdk';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function visibleSteps(ch: ClickHouse, run: string, from: number): Promise<number[]> {
  const rows = await queryRows<{ step: string }>(ch, sql`SELECT step FROM metric_points_v2 WHERE entity_kind = 'run' AND entity_id = ${run} AND key = 'probe' AND step >= ${from}`);
  return rows.map((r) => Number(r.step));
}

/** One point at a time on an otherwise idle pipeline: send, then poll (no pause between polls) until it is readable. */
export async function idleFreshness(ch: ClickHouse, sdk: MetricsProducer, run: string, samples: number, gapMs = 30): Promise<number[]> {
  const latencies: number[] = [];
  for (let step = 0; step < samples; step++) {
    const sent = performance.now();
    await sdk.logMetric({ run }, 'probe', step, { step });
    await sdk.flush();
    while (!(await visibleSteps(ch, run, step)).includes(step)) {
      if (performance.now() - sent > 30_000) throw new Error(`probe ${step} of ${run} not readable after 30 s`);
    }
    latencies.push(performance.now() - sent);
    await sleep(gapMs);
  }
  return latencies.sort((a, b) => a - b);
}

/**
 * Probes while something else loads the pipeline: one point every `everyMs`, each timed from its send until a poller
 * (every `pollMs`) sees it. Call stop() when the load ends; it resolves with the sorted latencies.
 */
export function probeDuringLoad(ch: ClickHouse, sdk: MetricsProducer, run: string, opts: { everyMs?: number; pollMs?: number } = {}): { stop: () => Promise<number[]> } {
  const everyMs = opts.everyMs ?? 100;
  const pollMs = opts.pollMs ?? 5;
  const sent = new Map<number, number>();
  const seen = new Map<number, number>();
  let running = true;
  const sender = (async () => {
    for (let step = 0; running; step++) {
      sent.set(step, performance.now());
      await sdk.logMetric({ run }, 'probe', step, { step });
      await sdk.flush();
      await sleep(everyMs);
    }
  })();
  const poller = (async () => {
    let lowest = 0;
    let stoppedAt = Infinity;
    while (running || (seen.size < sent.size && performance.now() - stoppedAt < 30_000)) {
      if (!running && stoppedAt === Infinity) stoppedAt = performance.now();
      const steps = await visibleSteps(ch, run, lowest);
      const now = performance.now();
      for (const s of steps) if (!seen.has(s)) seen.set(s, now);
      while (seen.has(lowest)) lowest++;
      await sleep(pollMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await sender;
      await poller;
      return [...seen].map(([step, at]) => at - sent.get(step)!).sort((a, b) => a - b);
    },
  };
}
