// The producer SDK: log metric points for runs and model versions; batching, bounded memory, flush/close.
import { encodeMetricBatch, entityIdProblem, pointProblem, timestampPlausibilityProblem, type EntityKind, type MetricPoint } from '@runstream/codec';
import { MissingTopicError, type OutgoingMessage } from '@runstream/kafka';
import type { MetricsProducerOptions } from './producer-config.ts';

export type EntityRef = { run: string } | { modelVersion: { name: string; version: string | number } };

export interface PointOptions {
  step?: number;
  /** Milliseconds since the epoch; default now. */
  timestampMs?: number;
}

export class BufferFullError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BufferFullError';
  }
}

export class InvalidMetricError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidMetricError';
  }
}

export class ProducerClosedError extends Error {
  constructor() {
    super('the metrics producer is closed');
    this.name = 'ProducerClosedError';
  }
}

interface PendingMessage {
  kind: EntityKind;
  id: string;
  points: MetricPoint[];
  firstAt: number;
}

/** An encoded Kafka message waiting to be sent, with the number of points it carries. */
interface ReadyMessage {
  message: OutgoingMessage;
  points: number;
}

function resolveEntity(ref: EntityRef): { kind: EntityKind; id: string } {
  const { kind, id } = 'run' in ref ? { kind: 'RUN' as const, id: ref.run } : { kind: 'MODEL_VERSION' as const, id: `${ref.modelVersion.name}/${ref.modelVersion.version}` };
  const problem = entityIdProblem(id);
  if (problem) throw new InvalidMetricError(problem);
  return { kind, id };
}

export class MetricsProducer {
  private readonly opts: Required<Omit<MetricsProducerOptions, 'producerId'>> & { producerId: string | null };
  private readonly pending = new Map<string, PendingMessage>();
  private ready: ReadyMessage[] = [];
  private buffered = 0;
  private sending: Promise<void> | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private spreadCounter = 0;
  private waiters: { need: number; resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];
  private sendError: Error | undefined;
  private closed = false;

  constructor(options: MetricsProducerOptions) {
    this.opts = {
      maxPointsPerMessage: 2000,
      lingerMs: 50,
      maxBufferedPoints: 500_000,
      whenFull: 'block',
      maxBlockMs: 60_000,
      partitionSpread: 1,
      maxMessagesPerRequest: 500,
      maxRequestBytes: 900_000,
      now: Date.now,
      ...options,
      producerId: options.producerId ?? null,
    };
    if (this.opts.maxPointsPerMessage > this.opts.maxBufferedPoints) throw new Error('maxPointsPerMessage must not exceed maxBufferedPoints');
  }

  /** Points currently held in memory (queued or in flight). */
  get bufferedPoints(): number {
    return this.buffered;
  }

  logMetric(entity: EntityRef, key: string, value: number, opts: PointOptions = {}): Promise<void> {
    return this.logPoints(entity, [{ key, value, ...opts }]);
  }

  logMetrics(entity: EntityRef, values: Record<string, number>, opts: PointOptions = {}): Promise<void> {
    return this.logPoints(entity, Object.entries(values).map(([key, value]) => ({ key, value, ...opts })));
  }

  /**
   * Queues points. Resolves once they are queued (not yet sent: use flush() for that); waits while the buffer is
   * full, or rejects with BufferFullError. Invalid points reject the whole call with InvalidMetricError.
   */
  async logPoints(entity: EntityRef, points: ({ key: string; value: number } & PointOptions)[]): Promise<void> {
    if (this.closed) throw new ProducerClosedError();
    if (this.sendError) throw this.sendError;
    const { kind, id } = resolveEntity(entity);
    const now = this.opts.now();
    const full: MetricPoint[] = points.map((p) => {
      const point = { key: p.key, value: p.value, step: p.step ?? 0, timestampMs: p.timestampMs ?? now };
      // The worker's rules, plus the SDK's own: a timestamp far off this process's clock is a unit mistake.
      const problem = pointProblem(point, now) ?? timestampPlausibilityProblem(point, now);
      if (problem) throw new InvalidMetricError(problem);
      return point;
    });
    if (full.length === 0) return;
    await this.reserve(full.length);
    const mapKey = `${kind}\u0000${id}`;
    for (const point of full) {
      let msg = this.pending.get(mapKey);
      if (!msg) {
        msg = { kind, id, points: [], firstAt: now };
        this.pending.set(mapKey, msg);
      }
      msg.points.push(point);
      if (msg.points.length >= this.opts.maxPointsPerMessage) {
        this.pending.delete(mapKey);
        this.markReady(msg);
      }
    }
    if (this.ready.length > 0) this.kick();
    else this.armLinger();
  }

  /** Sends everything queued; resolves once Kafka acknowledged it all. */
  async flush(): Promise<void> {
    if (this.sendError) throw this.sendError;
    for (const msg of this.pending.values()) this.markReady(msg);
    this.pending.clear();
    while (this.ready.length > 0 || this.sending) {
      this.kick();
      await this.sending;
      if (this.sendError) throw this.sendError;
    }
  }

  /** Flushes, then disconnects the transport. Further calls throw ProducerClosedError. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush();
    } finally {
      this.closed = true;
      if (this.lingerTimer) clearTimeout(this.lingerTimer);
      for (const w of this.waiters.splice(0)) {
        clearTimeout(w.timer);
        w.reject(new ProducerClosedError());
      }
      await this.opts.producer.disconnect();
    }
  }

  private reserve(n: number): Promise<void> {
    if (n > this.opts.maxBufferedPoints) return Promise.reject(new BufferFullError(`${n} points in one call exceed maxBufferedPoints (${this.opts.maxBufferedPoints})`));
    if (this.buffered + n <= this.opts.maxBufferedPoints && this.waiters.length === 0) {
      this.buffered += n;
      return Promise.resolve();
    }
    if (this.opts.whenFull === 'error') {
      return Promise.reject(new BufferFullError(`buffer full: ${this.buffered} points waiting for Kafka (maxBufferedPoints ${this.opts.maxBufferedPoints})`));
    }
    // Queued points must move for room to appear.
    this.flushPendingSoon();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(new BufferFullError(`buffer still full after ${this.opts.maxBlockMs} ms: Kafka is not accepting points fast enough`));
      }, this.opts.maxBlockMs);
      this.waiters.push({ need: n, resolve, reject, timer });
    });
  }

  private release(n: number): void {
    this.buffered -= n;
    // Waiters are served in order so a large call is not starved by small ones.
    let room = this.opts.maxBufferedPoints - this.buffered;
    while (this.waiters.length > 0 && this.waiters[0]!.need <= room) {
      const w = this.waiters.shift()!;
      clearTimeout(w.timer);
      room -= w.need;
      this.buffered += w.need; // reserved now, so later waiters see it
      w.resolve();
    }
  }

  private markReady(msg: PendingMessage): void {
    this.ready.push(...this.encode(msg));
  }

  private flushPendingSoon(): void {
    for (const msg of this.pending.values()) this.markReady(msg);
    this.pending.clear();
    this.kick();
  }

  private armLinger(): void {
    if (this.lingerTimer || this.pending.size === 0) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      const now = this.opts.now();
      for (const [k, msg] of this.pending) {
        if (now - msg.firstAt >= this.opts.lingerMs) {
          this.pending.delete(k);
          this.markReady(msg);
        }
      }
      this.kick();
      this.armLinger();
    }, this.opts.lingerMs);
    this.lingerTimer.unref?.();
  }

  private kick(): void {
    if (this.sending || this.ready.length === 0) return;
    // Failures are kept in sendError and surface from the next call, flush() or close().
    this.sending = this.sendLoop()
      .catch(() => undefined)
      .finally(() => {
        this.sending = undefined;
      });
  }

  // One request in flight (the idempotent producer requires it); everything ready rides in the next request.
  private async sendLoop(): Promise<void> {
    while (this.ready.length > 0) {
      const { messages, points } = this.nextRequest();
      try {
        await this.opts.producer.send(this.opts.topic, messages);
      } catch (err) {
        // The transport already retried; points it could not deliver are reported, never dropped silently. A
        // missing topic keeps its own error (it names the topic and the fix).
        this.sendError = err instanceof MissingTopicError ? err : new Error(`failed to deliver ${points} metric points to Kafka: ${(err as Error).message}`, { cause: err });
        const dropped = points + this.ready.reduce((n, r) => n + r.points, 0);
        this.ready = [];
        // Callers waiting for room would otherwise wait out maxBlockMs for a producer that can no longer send.
        for (const w of this.waiters.splice(0)) {
          clearTimeout(w.timer);
          w.reject(this.sendError);
        }
        this.release(dropped);
        throw this.sendError;
      }
      this.release(points);
    }
  }

  /** Takes ready messages for one request: at most maxMessagesPerRequest and maxRequestBytes (at least one). */
  private nextRequest(): { messages: OutgoingMessage[]; points: number } {
    const messages: OutgoingMessage[] = [];
    let bytes = 0;
    let points = 0;
    while (this.ready.length > 0 && messages.length < this.opts.maxMessagesPerRequest) {
      const next = this.ready[0]!;
      if (messages.length > 0 && bytes + next.message.value.length > this.opts.maxRequestBytes) break;
      this.ready.shift();
      messages.push(next.message);
      bytes += next.message.value.length;
      points += next.points;
    }
    return { messages, points };
  }

  /** Encodes a pending message, split in halves while it is larger than maxRequestBytes. */
  private encode(m: PendingMessage): ReadyMessage[] {
    const value = encodeMetricBatch({ entityKind: m.kind, entityId: m.id, points: m.points, producer: this.opts.producerId });
    if (value.length > this.opts.maxRequestBytes && m.points.length > 1) {
      const half = Math.ceil(m.points.length / 2);
      return [...this.encode({ ...m, points: m.points.slice(0, half) }), ...this.encode({ ...m, points: m.points.slice(half) })];
    }
    const spread = this.opts.partitionSpread;
    const shard = spread > 1 ? this.spreadCounter++ % spread : 0;
    return [{ message: { key: spread > 1 ? `${m.kind}:${m.id}#${shard}` : `${m.kind}:${m.id}`, value }, points: m.points.length }];
  }
}
