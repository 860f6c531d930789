import { expect, it } from 'vitest';
import { parseAge } from './purge-job.ts';

it("parses mlflow gc's --older-than format", () => {
  expect(parseAge('30d')).toBe(30 * 86_400_000);
  expect(parseAge('2d8h5m20s')).toBe(((2 * 24 + 8) * 60 + 5) * 60_000 + 20_000);
  expect(parseAge('1.5h')).toBe(90 * 60_000);
  expect(parseAge('2m4s')).toBe(124_000);
  expect(parseAge('0s')).toBe(0);
});

it('refuses what mlflow gc refuses, with its message', () => {
  for (const bad of ['', '30', '30x', 'd', '1h2d', '-1d', '1..2d']) expect(() => parseAge(bad), bad).toThrow(/Could not parse any time information/);
});
