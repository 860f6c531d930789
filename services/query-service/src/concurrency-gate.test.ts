import { expect, it } from 'vitest';
import { ConcurrencyGate, LagController, type Admission } from './concurrency-gate.ts';

function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

function release(a: Admission): void {
  if (!a.ok) throw new Error(`expected admission, got ${a.reason}`);
  a.release();
}

const settled = async <T>(p: Promise<T>): Promise<'pending' | T> => Promise.race([p, new Promise<'pending'>((r) => setTimeout(() => r('pending'), 5))]);

it('admits up to maxActive, queues FIFO per caller, turns the rest away when the queue is full', async () => {
  const gate = new ConcurrencyGate({ maxActive: 2, callerShare: 1, maxQueued: 1, waitBudgetMs: 60_000, queueTimeoutMs: 60_000 });
  const a = await gate.acquire('x');
  const b = await gate.acquire('x');
  expect(a.ok && b.ok).toBe(true);
  const queued = gate.acquire('x');
  expect(await gate.acquire('x')).toMatchObject({ ok: false, reason: 'queue_full' });
  expect(gate.inUse).toEqual({ active: 2, queued: 1 });
  release(a);
  const c = await queued;
  expect(c.ok).toBe(true);
  expect(gate.inUse).toEqual({ active: 2, queued: 0 });
  release(b);
  release(c);
  release(c); // a second release is a no-op
  expect(gate.inUse).toEqual({ active: 0, queued: 0 });
});

it('keeps slots beyond one caller’s share free for other callers', async () => {
  const gate = new ConcurrencyGate({ maxActive: 4, callerShare: 0.5, maxQueued: 100, waitBudgetMs: 60_000, queueTimeoutMs: 60_000 });
  expect(gate.callerCap).toBe(2);
  await gate.acquire('burst');
  await gate.acquire('burst');
  const third = gate.acquire('burst');
  expect(await settled(third)).toBe('pending'); // at its share although two slots are free
  expect((await gate.acquire('other')).ok).toBe(true); // another caller goes straight in
  expect(gate.inUse).toEqual({ active: 3, queued: 1 });
});

it('hands freed slots to waiting callers in turn, not in arrival order', async () => {
  const gate = new ConcurrencyGate({ maxActive: 1, callerShare: 1, maxQueued: 100, waitBudgetMs: 60_000, queueTimeoutMs: 60_000 });
  let holder = await gate.acquire('a');
  const order: string[] = [];
  const waits = [
    ...['a', 'a', 'a'].map((c, i) => gate.acquire(c).then((x) => (order.push(`${c}${i}`), x))),
    gate.acquire('b').then((x) => (order.push('b0'), x)),
  ];
  for (let i = 0; i < waits.length; i++) {
    release(holder);
    holder = await Promise.race(waits.filter((_, j) => !order.includes(['a0', 'a1', 'a2', 'b0'][j]!)));
  }
  expect(order.slice(0, 2)).toEqual(['a0', 'b0']);
});

it('refuses at once with Retry-After when the expected wait exceeds the budget', async () => {
  const c = clock();
  const gate = new ConcurrencyGate({ maxActive: 2, callerShare: 1, maxQueued: 100, waitBudgetMs: 1_000, queueTimeoutMs: 5_000, initialServiceMs: 100, now: c.now });
  // Teach it that a request holds a slot for 800 ms.
  for (let i = 0; i < 30; i++) {
    const a = await gate.acquire('x');
    c.advance(800);
    release(a);
  }
  expect(gate.serviceEstimateMs).toBeGreaterThan(790);
  await gate.acquire('x');
  await gate.acquire('x');
  // Queued requests wait (k+1)·800/2 ms: 400, 800, then 1,200 > budget.
  const q1 = gate.acquire('x');
  const q2 = gate.acquire('x');
  const refused = await gate.acquire('x');
  expect(refused).toEqual({ ok: false, reason: 'expected_wait', retryAfterSec: 2 });
  expect(await settled(q1)).toBe('pending');
  expect(await settled(q2)).toBe('pending');
  expect(gate.inUse).toEqual({ active: 2, queued: 2 });
});

it('a caller at its share is judged by its own queue, so another caller still queues within budget', async () => {
  const c = clock();
  const gate = new ConcurrencyGate({ maxActive: 4, callerShare: 0.5, maxQueued: 100, waitBudgetMs: 1_000, queueTimeoutMs: 5_000, initialServiceMs: 1_000, now: c.now });
  await gate.acquire('burst');
  await gate.acquire('burst');
  // burst's own slots: its next request waits ~1,000/2 ms, the one after ~1,000 ms, then over budget.
  void gate.acquire('burst');
  void gate.acquire('burst');
  expect(await gate.acquire('burst')).toMatchObject({ ok: false, reason: 'expected_wait' });
  expect((await gate.acquire('other')).ok).toBe(true);
});

it('gives up on a queued request after the queue timeout', async () => {
  const gate = new ConcurrencyGate({ maxActive: 1, callerShare: 1, maxQueued: 5, waitBudgetMs: 60_000, queueTimeoutMs: 20 });
  await gate.acquire('x');
  expect(await gate.acquire('x')).toMatchObject({ ok: false, reason: 'queue_timeout' });
  expect(gate.inUse).toEqual({ active: 1, queued: 0 });
});

it('a lower limit takes effect for new requests and keeps one slot free for other callers', async () => {
  const gate = new ConcurrencyGate({ maxActive: 8, callerShare: 0.75, maxQueued: 100, waitBudgetMs: 60_000, queueTimeoutMs: 60_000 });
  expect(gate.callerCap).toBe(6);
  gate.setLimit(2);
  expect(gate.callerCap).toBe(1);
  const first = await gate.acquire('burst');
  const second = gate.acquire('burst');
  expect(await settled(second)).toBe('pending');
  const other = await gate.acquire('other');
  expect(other.ok).toBe(true);
  expect(await settled(gate.acquire('third'))).toBe('pending'); // limit reached
  gate.setLimit(4); // raising it admits the waiting requests
  expect((await second).ok).toBe(true);
  expect(gate.inUse).toEqual({ active: 4, queued: 0 });
  release(first);
  gate.setLimit(0);
  expect(gate.currentLimit).toBe(1);
});

it('lag controller: shrinks by a quarter while the event loop lags past the target, grows by one when well under', () => {
  const c = new LagController({ min: 2, max: 16, targetLagMs: 50 });
  expect([c.update(200), c.update(200), c.update(200), c.update(200), c.update(200)]).toEqual([12, 9, 6, 4, 3]);
  expect(c.update(200)).toBe(2);
  expect(c.update(200)).toBe(2); // never below min
  expect(c.update(40)).toBe(2); // between half the target and the target: hold
  expect([c.update(5), c.update(5)]).toEqual([3, 4]);
  for (let i = 0; i < 30; i++) c.update(0);
  expect(c.update(0)).toBe(16); // never above max
  expect(c.update(500, false)).toBe(16); // lag without requests waiting for slots: fewer slots would not help
});

it('reports pressure when a request had to queue or was refused', async () => {
  const gate = new ConcurrencyGate({ maxActive: 1, callerShare: 1, maxQueued: 0, waitBudgetMs: 60_000, queueTimeoutMs: 60_000 });
  const a = await gate.acquire('x');
  expect(gate.takePressure()).toBe(false);
  expect((await gate.acquire('x')).ok).toBe(false); // queue full
  expect(gate.takePressure()).toBe(true);
  expect(gate.takePressure()).toBe(false);
  release(a);
});

it('takes a queued request out of the queue when its client goes away', async () => {
  const gate = new ConcurrencyGate({ maxActive: 1, callerShare: 1, maxQueued: 5, waitBudgetMs: 60_000, queueTimeoutMs: 60_000 });
  const holder = await gate.acquire('x');
  const abort = new AbortController();
  const queued = gate.acquire('x', abort.signal);
  const next = gate.acquire('x');
  expect(gate.inUse).toEqual({ active: 1, queued: 2 });
  abort.abort();
  expect(await queued).toMatchObject({ ok: false, reason: 'aborted' });
  expect(gate.inUse).toEqual({ active: 1, queued: 1 });
  release(holder);
  expect((await next).ok).toBe(true); // the slot went to the request still waiting
  expect(gate.inUse).toEqual({ active: 1, queued: 0 });
});
