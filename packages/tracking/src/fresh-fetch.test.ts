import { describe, expect, it } from 'vitest';
import { FreshFetch } from './fresh-fetch.ts';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('FreshFetch', () => {
  it('callers arriving during a fetch share the next one, which starts after the running one ends', async () => {
    const calls: ReturnType<typeof deferred<number>>[] = [];
    const f = new FreshFetch(() => {
      const d = deferred<number>();
      calls.push(d);
      return d.promise;
    });
    const first = f.get();
    const second = f.get();
    const third = f.get();
    expect(calls).toHaveLength(1);
    calls[0]!.resolve(1);
    expect(await first).toBe(1);
    await new Promise((r) => setTimeout(r, 0));
    // The answer the first caller got may predate the others' calls: they must not get it.
    expect(calls).toHaveLength(2);
    calls[1]!.resolve(2);
    expect(await second).toBe(2);
    expect(await third).toBe(2);
  });

  it('a failed fetch fails its callers only; the next call fetches again', async () => {
    let n = 0;
    const f = new FreshFetch(async () => {
      if (++n === 1) throw new Error('broker away');
      return n;
    });
    await expect(f.get()).rejects.toThrow('broker away');
    expect(await f.get()).toBe(2);
  });

  it('queued callers still get an answer when the running fetch fails', async () => {
    const calls: ReturnType<typeof deferred<number>>[] = [];
    const f = new FreshFetch(() => {
      const d = deferred<number>();
      calls.push(d);
      return d.promise;
    });
    const first = f.get();
    const second = f.get();
    calls[0]!.reject(new Error('x'));
    await expect(first).rejects.toThrow('x');
    await new Promise((r) => setTimeout(r, 0));
    calls[1]!.resolve(7);
    expect(await second).toBe(7);
  });
});
