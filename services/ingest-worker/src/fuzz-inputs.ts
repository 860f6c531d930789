// Hostile inputs for the decoders: random bytes, and valid messages truncated, padded or corrupted (header and
// huge varints included). Deterministic per seed, so a failure reproduces. Used by the in-process decoder fuzz
// tests and by the chaos suite, which sends the same kind of messages through Kafka to a real worker.
import { encodeMetricBatch, encodeTrackingEvent } from '@runstream/codec';

/** A small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A valid single-object-encoded metric batch of 20 points for `entityId`. */
export function validMetricMessage(entityId: string, nowMs: number): Buffer {
  return encodeMetricBatch({
    entityKind: 'RUN',
    entityId,
    points: Array.from({ length: 20 }, (_, i) => ({ key: `k${i % 3}`, value: i / 7, step: i, timestampMs: nowMs })),
    producer: 'fuzz',
  });
}

/** A valid single-object-encoded tracking event (a tag set on `runId`). */
export function validTrackingMessage(runId: string, nowMs: number): Buffer {
  return encodeTrackingEvent({
    eventId: `${runId}-e1`, eventType: 'RUN_TAG_SET', timestampMs: nowMs, actor: '', experimentId: '', runId, key: 'k', value: 'v',
    experiment: null, run: null, dataset: null, registeredModel: null, modelVersion: null, loggedModel: null,
  });
}

/** `base` truncated, padded with random bytes, or with 1–6 bytes overwritten (sometimes a varint made huge). */
export function mutate(base: Buffer, r: () => number): Buffer {
  const b = Buffer.from(base);
  const kind = Math.floor(r() * 5);
  if (kind === 0) return b.subarray(0, Math.floor(r() * b.length)); // truncate
  if (kind === 1) return Buffer.concat([b, Buffer.from(Array.from({ length: 1 + Math.floor(r() * 8) }, () => Math.floor(r() * 256)))]); // pad
  const flips = 1 + Math.floor(r() * 6);
  for (let i = 0; i < flips; i++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256); // corrupt bytes (header too)
  if (kind === 3) b[10 + Math.floor(r() * 4)] = 0xff; // huge varints (array lengths, string sizes)
  return b;
}

/** `n` message values: 10 % random bytes (0–63 of them), 10 % `base` unchanged, 80 % mutations of it. */
export function fuzzValues(seed: number, base: Buffer, n: number): Buffer[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const choice = r();
    return choice < 0.1 ? Buffer.from(Array.from({ length: Math.floor(r() * 64) }, () => Math.floor(r() * 256))) : choice < 0.2 ? base : mutate(base, r);
  });
}
