// Fuzzing the decoders with random and mutated bytes: every message must come out as stored units or as a dead
// letter with a reason — never an exception, never silently dropped.
import { expect, it } from 'vitest';
import { encodeMetricBatch, encodeTrackingEvent } from '@runstream/codec';
import type { IncomingBatch } from '@runstream/kafka';
import { decodeBatch } from './batch-decoder.ts';
import { decodeTrackingBatch } from './tracking-decoder.ts';

// A small deterministic PRNG so a failure reproduces.
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NOW = Date.UTC(2026, 10, 27);
const validMetric = encodeMetricBatch({
  entityKind: 'RUN',
  entityId: 'fuzz-run',
  points: Array.from({ length: 20 }, (_, i) => ({ key: `k${i % 3}`, value: i / 7, step: i, timestampMs: NOW })),
  producer: 'fuzz',
});
const validEvent = encodeTrackingEvent({
  eventId: 'e1', eventType: 'RUN_TAG_SET', timestampMs: NOW, actor: '', experimentId: '', runId: 'r1', key: 'k', value: 'v',
  experiment: null, run: null, dataset: null, registeredModel: null, modelVersion: null, loggedModel: null,
});

function mutate(base: Buffer, r: () => number): Buffer {
  const b = Buffer.from(base);
  const kind = Math.floor(r() * 5);
  if (kind === 0) return b.subarray(0, Math.floor(r() * b.length)); // truncate
  if (kind === 1) return Buffer.concat([b, Buffer.from(Array.from({ length: 1 + Math.floor(r() * 8) }, () => Math.floor(r() * 256)))]); // pad
  const flips = 1 + Math.floor(r() * 6);
  for (let i = 0; i < flips; i++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256); // corrupt bytes (header too)
  if (kind === 3) b[10 + Math.floor(r() * 4)] = 0xff; // huge varints (array lengths, string sizes)
  return b;
}

function messages(r: () => number, base: Buffer, n: number) {
  return Array.from({ length: n }, (_, offset) => {
    const choice = r();
    const value = choice < 0.1 ? Buffer.from(Array.from({ length: Math.floor(r() * 64) }, () => Math.floor(r() * 256))) : choice < 0.2 ? base : mutate(base, r);
    return { offset, key: null, value, headers: {}, timestampMs: NOW };
  });
}

it('metric batch decoder: 20,000 random and mutated messages, each stored or dead-lettered', () => {
  const r = rng(42);
  const batch: IncomingBatch = { topic: 't', partition: 0, messages: messages(r, validMetric, 20_000) };
  const out = decodeBatch(batch, { storedUpTo: -1, nowMs: NOW });
  expect(out.units.length + out.deadLetters.length).toBe(20_000);
  expect(out.deadLetters.length).toBeGreaterThan(15_000);
  const reasons = new Set(out.deadLetters.map((d) => d.reason));
  expect(reasons.has('malformed') && reasons.has('unknown_schema')).toBe(true);
  for (const reason of reasons) expect(['malformed', 'unknown_schema', 'invalid_point', 'invalid_entity', 'empty_batch', 'too_many_points']).toContain(reason);
  for (const u of out.units) for (const p of u.points) expect(Number.isSafeInteger(p.step) && p.step >= 0).toBe(true);
});

it('tracking event decoder: 20,000 random and mutated messages, each stored or dead-lettered', () => {
  const r = rng(7);
  const batch: IncomingBatch = { topic: 't', partition: 0, messages: messages(r, validEvent, 20_000) };
  const out = decodeTrackingBatch(batch, { storedUpTo: -1 });
  expect(out.units.length + out.deadLetters.length).toBe(20_000);
  expect(out.deadLetters.length).toBeGreaterThan(15_000);
  for (const d of out.deadLetters) expect(d.detail.length).toBeGreaterThan(0);
});
