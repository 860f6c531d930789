import { expect, it } from 'vitest';
import { Progress } from './progress.ts';

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, sink: { isTTY, columns: 200, write: (s: string) => void out.push(s) } };
}

it('redraws one line in place on a terminal: runs done / total and points per second', () => {
  let now = 1_000;
  const { out, sink: s } = sink(true);
  const p = new Progress({ sink: s, intervalMs: 0, now: () => now });
  p.start(4);
  p.runDone();
  p.sent(20_000);
  now += 2_000;
  p.render();
  p.note('note: something');
  p.stop();
  expect(out[1]).toBe('\r\x1b[Kimporting [#######.....................] 1/4 runs  20,000 points sent  0 already present  10,000 points/s  2.0 s');
  expect(out[2]).toBe('\r\x1b[K'); // a note clears the bar first…
  expect(out[3]).toBe('note: something\n');
  expect(out.at(-1)).toBe('\n'); // …and the last bar stays on screen
});

it('prints plain lines when stderr is not a terminal', () => {
  let now = 0;
  const { out, sink: s } = sink(false);
  const p = new Progress({ sink: s, intervalMs: 0, now: () => now });
  p.start(2, 'dry run');
  p.runDone();
  p.runDone();
  p.skipped(5);
  now = 500;
  p.stop();
  p.stop();
  expect(out).toEqual(['dry run: 0/2 runs  0 points sent  0 already present  0 points/s  0.0 s\n', 'dry run: 2/2 runs  0 points sent  5 already present  0 points/s  0.5 s\n']);
});
