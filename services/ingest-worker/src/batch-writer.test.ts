import { describe, expect, it } from 'vitest';
import { createLogger } from '@runstream/config';
import { BatchWriter, WriterFailedError, flushDelayMs } from './batch-writer.ts';

const log = createLogger({ name: 'test', level: 'silent' });

// Units are arrays of numbers: a unit's rows are its elements; a write records the rows it stored.
type Opts = ConstructorParameters<typeof BatchWriter<number[]>>[0];
function writer(opts: Partial<Opts> & { writes: number[][] }) {
  return new BatchWriter<number[]>({
    rowsOf: (u) => u.length,
    maxRows: 10,
    lingerMs: 20,
    stallBudgetMs: 10_000,
    attemptTimeoutMs: 100,
    isTransient: (e) => (e as Error).message === 'transient',
    log,
    sleep: async () => undefined,
    write: async (units) => {
      opts.writes.push(units.flat());
    },
    ...opts,
  });
}

describe('BatchWriter', () => {
  it('flushes by size without waiting for the linger time', async () => {
    const writes: number[][] = [];
    const w = writer({ writes, lingerMs: 60_000 });
    await w.add([[1, 2, 3, 4, 5, 6], [7, 8, 9, 10]]);
    expect(writes).toEqual([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]);
  });

  it('flushes a small batch after the linger time', async () => {
    const writes: number[][] = [];
    const w = writer({ writes, lingerMs: 30 });
    const started = Date.now();
    await w.add([[1]]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(writes).toEqual([[1]]);
  });

  it('stores units at once when their source is caught up, whatever the linger time', async () => {
    const writes: number[][] = [];
    const w = writer({ writes, lingerMs: 60_000 });
    const started = Date.now();
    await w.add([[1]], { key: 'p0', behind: false });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(writes).toEqual([[1]]);
  });

  it('lingers while a source of the queued units is behind', async () => {
    const writes: number[][] = [];
    const w = writer({ writes, lingerMs: 30 });
    const started = Date.now();
    await Promise.all([w.add([[1]], { key: 'p0', behind: true }), w.add([[2]], { key: 'p1', behind: false })]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(writes).toEqual([[1, 2]]);
  });

  it('flushes at once when the source that was behind catches up', async () => {
    const writes: number[][] = [];
    const w = writer({ writes, lingerMs: 60_000 });
    const behind = w.add([[1]], { key: 'p0', behind: true });
    await new Promise((r) => setTimeout(r, 5));
    expect(writes).toEqual([]);
    await Promise.all([behind, w.add([[2]], { key: 'p0', behind: false })]);
    expect(writes).toEqual([[1, 2]]);
  });

  it('puts caught-up units added in the same turn (one fetch, several partitions) into one insert', async () => {
    const writes: number[][] = [];
    const w = writer({ writes, lingerMs: 60_000 });
    await Promise.all([w.add([[1]], { key: 'p0', behind: false }), w.add([[2]], { key: 'p1', behind: false }), w.add([[3]], { key: 'p2', behind: false })]);
    expect(writes).toEqual([[1, 2, 3]]);
  });

  it('after a flush, lingers again only if a source with queued units is behind', async () => {
    const writes: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const w = writer({
      writes,
      lingerMs: 60_000,
      write: async (units) => {
        writes.push(units.flat());
        if (writes.length === 1) await gate;
      },
    });
    const first = w.add([[1]], { key: 'p0', behind: false });
    await new Promise((r) => setTimeout(r, 5));
    // Arrives while the first insert runs; its partition is caught up, so it goes right after, without lingering.
    const second = w.add([[2]], { key: 'p1', behind: false });
    release();
    await Promise.all([first, second]);
    expect(writes).toEqual([[1], [2]]);
  });

  it('never splits a unit across inserts, and keeps order', async () => {
    const writes: number[][] = [];
    const w = writer({ writes, maxRows: 5, lingerMs: 0 });
    await Promise.all([w.add([[1, 2, 3], [4, 5, 6]]), w.add([[7, 8, 9, 10, 11, 12, 13]])]);
    expect(writes.flat()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(writes).toEqual([[1, 2, 3], [4, 5, 6], [7, 8, 9, 10, 11, 12, 13]]);
  });

  it('groups units that arrive while a flush is running into the next insert', async () => {
    const writes: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const w = writer({
      writes,
      maxRows: 2,
      lingerMs: 0,
      write: async (units) => {
        writes.push(units.flat());
        if (writes.length === 1) await gate;
      },
    });
    const first = w.add([[1, 2]]);
    await new Promise((r) => setTimeout(r, 5));
    const later = [w.add([[3]]), w.add([[4]])];
    release();
    await Promise.all([first, ...later]);
    expect(writes).toEqual([[1, 2], [3, 4]]);
  });

  it('retries transient failures, telling write() which attempt it is', async () => {
    const attempts: number[] = [];
    const w = writer({
      writes: [],
      write: async (_units, _rows, attempt) => {
        attempts.push(attempt);
        if (attempt < 3) throw new Error('transient');
      },
    });
    await w.add([[1]]);
    await w.flush();
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('gives up on permanent errors and rejects everything queued', async () => {
    const w = writer({ writes: [], write: async () => Promise.reject(new Error('no such table')) });
    const a = w.add([[1]]);
    const b = w.add([[2]]);
    await expect(a).rejects.toBeInstanceOf(WriterFailedError);
    await expect(b).rejects.toBeInstanceOf(WriterFailedError);
    await expect(w.add([[3]])).rejects.toBeInstanceOf(WriterFailedError);
  });

  it('gives up when retrying would exceed the stall budget', async () => {
    let calls = 0;
    const w = writer({
      writes: [],
      stallBudgetMs: 1_000,
      attemptTimeoutMs: 900,
      write: async () => {
        calls++;
        throw new Error('transient');
      },
    });
    await expect(w.add([[1]])).rejects.toThrow(/still failing/);
    expect(calls).toBe(1);
  });

  it('flush() drains everything queued immediately', async () => {
    const writes: number[][] = [];
    const w = writer({ writes, lingerMs: 60_000 });
    const pending = w.add([[1], [2]]);
    await w.flush();
    await pending;
    expect(writes).toEqual([[1, 2]]);
    expect(w.bufferedRows).toBe(0);
  });
});

describe('flushDelayMs', () => {
  const base = { now: 1_000, oldestEnqueuedAt: 990, queuedRows: 10, maxRows: 100, lingerMs: 250, moreWaiting: false, lastFlushStartedAt: -Infinity, caughtUpGapMs: 50 };

  it('a caught-up unit after a quiet spell goes at once', () => {
    expect(flushDelayMs(base)).toBe(0);
  });
  it('a steady trickle waits until the gap since the last insert has passed', () => {
    expect(flushDelayMs({ ...base, lastFlushStartedAt: 980 })).toBe(30);
    expect(flushDelayMs({ ...base, lastFlushStartedAt: 940 })).toBe(0);
  });
  it('never longer than the linger', () => {
    expect(flushDelayMs({ ...base, oldestEnqueuedAt: 760, lastFlushStartedAt: 999, caughtUpGapMs: 5_000 })).toBe(10);
  });
  it('while more data is waiting, the oldest unit lingers to fill the batch', () => {
    expect(flushDelayMs({ ...base, moreWaiting: true })).toBe(240);
    expect(flushDelayMs({ ...base, moreWaiting: true, oldestEnqueuedAt: 700 })).toBe(0);
  });
  it('a full batch goes at once', () => {
    expect(flushDelayMs({ ...base, moreWaiting: true, queuedRows: 100 })).toBe(0);
  });
});
