// The verdict of a stream-under-fault scenario in a vitest test: every point stored once, the exact sum, every
// malformed message dead-lettered, and no scenario-specific failure. The whole report goes into the failure message.
import { expect } from 'vitest';
import type { ScenarioResult } from './chaos-kit.ts';
import { details } from './report.ts';

export function expectExact(r: ScenarioResult): void {
  const report = details(r);
  expect({ lost: r.lost, duplicated: r.duplicated, exactSum: r.storedSum === r.expectedSum, sdkError: r.sdkError, error: r.error, failures: r.failures }, report).toEqual({
    lost: 0,
    duplicated: 0,
    exactSum: true,
    sdkError: undefined,
    error: undefined,
    failures: [],
  });
  expect(r.stored, report).toBe(r.sent);
  expect(r.deadLettered, report).toBe(r.deadLetterExpected);
}
