// Fuzzing the decoders with random and mutated bytes: every message must come out as stored units or as a dead
// letter with a reason — never an exception, never silently dropped. The inputs (fuzz-inputs.ts) also go through
// Kafka to a real worker in the chaos suite (test/chaos/fuzz-scenarios.ts).
import { expect, it, vi } from 'vitest';

// Tens of thousands of messages through the decoders: seconds of CPU on a loaded 2-core machine. A limit, not a
// speed check.
vi.setConfig({ testTimeout: 60_000 });
import type { IncomingBatch } from '@runstream/kafka';
import { decodeBatch } from './batch-decoder.ts';
import { decodeTrackingBatch } from './tracking-decoder.ts';
import { fuzzValues, validMetricMessage, validTrackingMessage } from './fuzz-inputs.ts';

const NOW = Date.UTC(2026, 10, 27);

function messages(seed: number, base: Buffer, n: number) {
  return fuzzValues(seed, base, n).map((value, offset) => ({ offset, key: null, value, headers: {}, timestampMs: NOW }));
}

it('metric batch decoder: 20,000 random and mutated messages, each stored or dead-lettered', () => {
  const batch: IncomingBatch = { topic: 't', partition: 0, messages: messages(42, validMetricMessage('fuzz-run', NOW), 20_000) };
  const out = decodeBatch(batch, { storedUpTo: -1, nowMs: NOW });
  expect(out.units.length + out.deadLetters.length).toBe(20_000);
  expect(out.deadLetters.length).toBeGreaterThan(15_000);
  const reasons = new Set(out.deadLetters.map((d) => d.reason));
  expect(reasons.has('malformed') && reasons.has('unknown_schema')).toBe(true);
  for (const reason of reasons) expect(['malformed', 'unknown_schema', 'invalid_point', 'invalid_entity', 'empty_batch', 'too_many_points']).toContain(reason);
  for (const u of out.units) for (const p of u.points) expect(Number.isSafeInteger(p.step) && Number.isSafeInteger(p.timestampMs) && p.timestampMs >= 0).toBe(true);
});

it('tracking event decoder: 20,000 random and mutated messages, each stored or dead-lettered', () => {
  const batch: IncomingBatch = { topic: 't', partition: 0, messages: messages(7, validTrackingMessage('r1', NOW), 20_000) };
  const out = decodeTrackingBatch(batch, { storedUpTo: -1 });
  expect(out.units.length + out.deadLetters.length).toBe(20_000);
  expect(out.deadLetters.length).toBeGreaterThan(15_000);
  for (const d of out.deadLetters) expect(d.detail.length).toBeGreaterThan(0);
});
