// Coalesces concurrent calls of an expensive read whose answer must be taken *after* the caller asked (a Kafka high
// watermark: an older answer could miss a write acknowledged just before the caller began). Callers that arrive
// while a fetch runs share the next one, so a burst of N readers costs two fetches, not N.
export class FreshFetch<T> {
  private running: Promise<T> | undefined;
  private queued: Promise<T> | undefined;
  private readonly fetch: () => Promise<T>;

  constructor(fetch: () => Promise<T>) {
    this.fetch = fetch;
  }

  get(): Promise<T> {
    if (!this.running) return this.start();
    this.queued ??= this.running.then(
      () => this.startQueued(),
      () => this.startQueued(),
    );
    return this.queued;
  }

  private startQueued(): Promise<T> {
    this.queued = undefined;
    return this.start();
  }

  private start(): Promise<T> {
    const p = this.fetch();
    this.running = p;
    const clear = () => {
      if (this.running === p) this.running = undefined;
    };
    p.then(clear, clear);
    return p;
  }
}
