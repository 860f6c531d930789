// Bounded concurrency for data requests: at most `maxActive` run at once, up to `maxQueued` wait (FIFO) at most
// `queueTimeoutMs`; the rest get 503 + Retry-After at once. A burst of expensive queries then queues instead of
// piling onto ClickHouse and the event loop, and cheap requests behind it are still answered in order.

export class ConcurrencyGate {
  private active = 0;
  private readonly queue: { resolve: (ok: boolean) => void; timer: NodeJS.Timeout }[] = [];
  private readonly maxActive: number;
  private readonly maxQueued: number;
  private readonly queueTimeoutMs: number;

  constructor(opts: { maxActive: number; maxQueued: number; queueTimeoutMs: number }) {
    this.maxActive = opts.maxActive;
    this.maxQueued = opts.maxQueued;
    this.queueTimeoutMs = opts.queueTimeoutMs;
  }

  get inUse(): { active: number; queued: number } {
    return { active: this.active, queued: this.queue.length };
  }

  /** Resolves true when the caller may proceed (it must call release()), false when it should be turned away. */
  acquire(): Promise<boolean> {
    if (this.active < this.maxActive) {
      this.active++;
      return Promise.resolve(true);
    }
    if (this.queue.length >= this.maxQueued) return Promise.resolve(false);
    return new Promise((resolve) => {
      const entry = {
        resolve,
        timer: setTimeout(() => {
          const i = this.queue.indexOf(entry);
          if (i >= 0) this.queue.splice(i, 1);
          resolve(false);
        }, this.queueTimeoutMs),
      };
      this.queue.push(entry);
    });
  }

  release(): void {
    const next = this.queue.shift();
    if (next) {
      clearTimeout(next.timer);
      next.resolve(true); // the slot passes straight to the next caller
    } else {
      this.active--;
    }
  }
}
