// Admission control for data requests. Pure (clock injected), unit-tested.
//
// - At most `maxActive` requests run at once (fewer while the event loop lags, see LagController); one caller (an
//   API token, or a client address when the API is open) holds at most `callerShare` of them and never all, so
//   the remaining slots stay free for everyone else: a client bursting expensive queries cannot starve another
//   client's small read.
// - Requests that find no slot wait in a queue per caller; a freed slot goes to the callers in turn (round-robin),
//   not to whoever queued most.
// - Each queued request gets an expected wait from its position and the measured service time (EWMA of how long a
//   slot is held). When that exceeds `waitBudgetMs` it is turned away at once with a Retry-After of about that wait,
//   instead of piling latency onto everyone: early shedding rather than a queue whose latency only grows. A request
//   that still waits longer than `queueTimeoutMs` (the estimate was optimistic) is turned away then.

export interface GateOptions {
  maxActive: number;
  /** Fraction (0, 1] of the slots one caller may hold at once; at least one, and below 1 never all of them. */
  callerShare: number;
  /** Requests waiting across all callers. */
  maxQueued: number;
  /** Expected wait beyond which a request is refused at once. */
  waitBudgetMs: number;
  /** Hard bound on the time a request waits in the queue. */
  queueTimeoutMs: number;
  /** Event-loop delay the service aims to stay under by lowering the limit (LagController); unset: fixed limit. */
  targetLagMs?: number;
  /** Service-time estimate before anything was measured. */
  initialServiceMs?: number;
  now?: () => number;
}

/**
 * Defaults: up to 16 slots, fewer while the event loop lags more than 50 ms; one caller at most three quarters of
 * them (and never all); a request refused when it would wait more than 1 s, never queued longer than 3 s
 * (ClickHouse still stops each query after QUERY_TIMEOUT_MS).
 */
export const DEFAULT_GATE: GateOptions = { maxActive: 16, callerShare: 0.75, maxQueued: 256, waitBudgetMs: 1_000, queueTimeoutMs: 3_000, targetLagMs: 50 };

export type ShedReason = 'expected_wait' | 'queue_full' | 'queue_timeout' | 'aborted';

export type Admission = { ok: true; release: () => void } | { ok: false; reason: ShedReason; retryAfterSec: number };

interface Waiter {
  caller: string;
  resolve: (a: Admission) => void;
  timer: NodeJS.Timeout;
}

const EWMA_ALPHA = 0.2;

export class ConcurrencyGate {
  private active = 0;
  private queued = 0;
  private readonly activeBy = new Map<string, number>();
  /** Waiting requests per caller; the Map's order is the round-robin order (a served caller moves to the end). */
  private readonly queues = new Map<string, Waiter[]>();
  private serviceMs: number;
  /** Slots currently allowed: maxActive, or fewer while the process is overloaded (setLimit). */
  private limit: number;
  /** A request had to queue or was refused since the last takePressure(). */
  private pressure = false;
  private readonly opts: Required<Omit<GateOptions, 'now' | 'initialServiceMs' | 'targetLagMs'>>;
  private readonly now: () => number;

  constructor(opts: GateOptions) {
    this.opts = { maxActive: opts.maxActive, callerShare: opts.callerShare, maxQueued: opts.maxQueued, waitBudgetMs: opts.waitBudgetMs, queueTimeoutMs: opts.queueTimeoutMs };
    this.now = opts.now ?? Date.now;
    this.serviceMs = opts.initialServiceMs ?? 200;
    this.limit = opts.maxActive;
  }

  /** Slots one caller may hold under the current limit (at least one). */
  get callerCap(): number {
    if (this.opts.callerShare >= 1 || this.limit <= 1) return this.limit;
    // At least one slot stays free for other callers.
    return Math.max(1, Math.min(this.limit - 1, Math.floor(this.limit * this.opts.callerShare)));
  }

  get currentLimit(): number {
    return this.limit;
  }

  /** Whether requests had to wait or were refused since the last call (and resets it). */
  takePressure(): boolean {
    const p = this.pressure || this.queued > 0;
    this.pressure = false;
    return p;
  }

  /** Changes the number of slots (1..maxActive); requests already running keep theirs. */
  setLimit(n: number): void {
    this.limit = Math.max(1, Math.min(this.opts.maxActive, Math.round(n)));
    this.dispatch();
  }

  get inUse(): { active: number; queued: number } {
    return { active: this.active, queued: this.queued };
  }

  /** Current estimate of how long a request holds a slot (ms). */
  get serviceEstimateMs(): number {
    return this.serviceMs;
  }

  /**
   * Expected wait (ms) of a request `caller` would queue now: the larger of (a) the requests ahead of it under
   * round-robin over `maxActive` slots and (b) its own queue drained through its `callerCap` slots.
   */
  expectedWaitMs(caller: string): number {
    const own = this.queues.get(caller)?.length ?? 0;
    let ahead = 0;
    for (const q of this.queues.values()) ahead += Math.min(q.length, own + 1);
    const global = this.active >= this.limit ? ((ahead + 1) * this.serviceMs) / this.limit : 0;
    const ownActive = this.activeBy.get(caller) ?? 0;
    const perCaller = ownActive >= this.callerCap ? ((own + 1) * this.serviceMs) / this.callerCap : 0;
    return Math.max(global, perCaller);
  }

  /**
   * Resolves with a release function when the caller may proceed, or with why it is turned away. `signal` (the
   * client went away) takes a queued request out of the queue.
   */
  acquire(caller: string, signal?: AbortSignal): Promise<Admission> {
    const ownActive = this.activeBy.get(caller) ?? 0;
    const ownQueue = this.queues.get(caller);
    if (this.active < this.limit && ownActive < this.callerCap && !ownQueue?.length) {
      return Promise.resolve(this.admit(caller));
    }
    this.pressure = true;
    const wait = this.expectedWaitMs(caller);
    if (wait > this.opts.waitBudgetMs) return Promise.resolve(this.refuse('expected_wait', wait));
    if (this.queued >= this.opts.maxQueued) return Promise.resolve(this.refuse('queue_full', wait));
    if (signal?.aborted) return Promise.resolve(this.refuse('aborted', 0));
    return new Promise((resolve) => {
      const leave = (reason: ShedReason) => {
        const q = this.queues.get(caller);
        const i = q ? q.indexOf(waiter) : -1;
        if (i < 0) return;
        q!.splice(i, 1);
        if (q!.length === 0) this.queues.delete(caller);
        this.queued--;
        clearTimeout(waiter.timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(this.refuse(reason, this.expectedWaitMs(caller)));
      };
      const onAbort = () => leave('aborted');
      const waiter: Waiter = {
        caller,
        resolve: (a) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(a);
        },
        timer: setTimeout(() => leave('queue_timeout'), this.opts.queueTimeoutMs),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (ownQueue) ownQueue.push(waiter);
      else this.queues.set(caller, [waiter]);
      this.queued++;
    });
  }

  private refuse(reason: ShedReason, waitMs: number): Admission {
    return { ok: false, reason, retryAfterSec: Math.min(60, Math.max(1, Math.ceil(waitMs / 1000))) };
  }

  private admit(caller: string): Admission {
    this.active++;
    this.activeBy.set(caller, (this.activeBy.get(caller) ?? 0) + 1);
    const started = this.now();
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.serviceMs += EWMA_ALPHA * (Math.max(0, this.now() - started) - this.serviceMs);
        this.active--;
        const left = this.activeBy.get(caller)! - 1;
        if (left > 0) this.activeBy.set(caller, left);
        else this.activeBy.delete(caller);
        this.dispatch();
      },
    };
  }

  /** Hands free slots to waiting callers in turn, skipping those at their share. */
  private dispatch(): void {
    while (this.active < this.limit) {
      let next: Waiter | undefined;
      for (const [caller, q] of this.queues) {
        if ((this.activeBy.get(caller) ?? 0) >= this.callerCap) continue;
        next = q.shift()!;
        this.queues.delete(caller);
        if (q.length > 0) this.queues.set(caller, q); // to the end of the round
        break;
      }
      if (!next) return;
      this.queued--;
      clearTimeout(next.timer);
      next.resolve(this.admit(next.caller));
    }
  }
}

/**
 * Adapts the gate's limit to the process's own load, AIMD like TCP's congestion window: the query service does
 * real CPU work per point (parsing ClickHouse's answer, building the JSON), so on a busy machine a dozen
 * 25k-point histories at once saturate the event loop and every request — /health included — waits behind
 * them. When the event loop's delay over the last interval exceeds the target while requests are waiting for
 * slots (admission is what limits the work), the limit shrinks by a quarter; when the delay is well under the
 * target, it grows by one slot. A delay without waiting requests (a GC pause, one slow request) changes nothing:
 * fewer slots would not help. Pure: fed with measurements.
 */
export class LagController {
  private limit: number;
  private readonly min: number;
  private readonly max: number;
  private readonly targetMs: number;

  constructor(opts: { min: number; max: number; targetLagMs: number }) {
    this.min = opts.min;
    this.max = opts.max;
    this.targetMs = opts.targetLagMs;
    this.limit = opts.max;
  }

  /** The new limit after an interval whose worst event-loop delay was `lagMs`, with or without requests waiting. */
  update(lagMs: number, waiting = true): number {
    if (lagMs > this.targetMs) {
      if (waiting) this.limit = Math.max(this.min, Math.floor(this.limit * 0.75));
    } else if (lagMs < this.targetMs / 2) {
      this.limit = Math.min(this.max, this.limit + 1);
    }
    return this.limit;
  }
}
