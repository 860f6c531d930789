import { expect, it } from 'vitest';
import { ConcurrencyGate } from './concurrency-gate.ts';

it('admits up to maxActive, queues FIFO up to maxQueued, turns the rest away', async () => {
  const gate = new ConcurrencyGate({ maxActive: 2, maxQueued: 1, queueTimeoutMs: 1000 });
  expect(await gate.acquire()).toBe(true);
  expect(await gate.acquire()).toBe(true);
  const queued = gate.acquire();
  expect(await gate.acquire()).toBe(false); // queue full
  expect(gate.inUse).toEqual({ active: 2, queued: 1 });
  gate.release();
  expect(await queued).toBe(true);
  expect(gate.inUse).toEqual({ active: 2, queued: 0 });
  gate.release();
  gate.release();
  expect(gate.inUse).toEqual({ active: 0, queued: 0 });
});

it('gives up on a queued caller after the queue timeout', async () => {
  const gate = new ConcurrencyGate({ maxActive: 1, maxQueued: 5, queueTimeoutMs: 20 });
  await gate.acquire();
  expect(await gate.acquire()).toBe(false);
  expect(gate.inUse).toEqual({ active: 1, queued: 0 });
});
