// One critical section at a time per key, in this process: a check-then-append (a param that must not change, an
// experiment name that must be unique, the next model version number) must not interleave with another of the same
// key. Different keys never wait for each other. Across processes, Kafka orders the appends (see README, "Writes").
export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(fn, fn);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with a section running or queued (for tests: the map must not grow without bound). */
  get size(): number {
    return this.tails.size;
  }
}
