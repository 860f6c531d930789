// Failpoints for crash testing, unset in production:
//   RUNSTREAM_FAILPOINTS="after-insert:0.2" makes the process SIGKILL itself right after an insert is durable and
//   before its offsets are committed, with probability 0.2;
//   RUNSTREAM_FAILPOINTS="pause-after-member-check:1" with RUNSTREAM_FAILPOINT_PAUSE_MS=15000 freezes the process
//   once (the whole event loop, so no heartbeats either), right after its own membership check passed: a zombie.

export type FailpointName = 'after-insert' | 'before-insert' | 'pause-after-member-check';

function parse(raw: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const part of (raw ?? '').split(',')) {
    const [name, p] = part.split(':');
    if (name && p !== undefined && Number.isFinite(Number(p))) out.set(name.trim(), Number(p));
  }
  return out;
}

const active = parse(process.env.RUNSTREAM_FAILPOINTS);
const pauseMs = Number(process.env.RUNSTREAM_FAILPOINT_PAUSE_MS ?? 0);
const fired = new Set<string>();

export function failpoint(name: FailpointName): void {
  const p = active.get(name);
  if (p === undefined || Math.random() >= p) return;
  if (name === 'pause-after-member-check') {
    if (fired.has(name) || !(pauseMs > 0)) return;
    fired.add(name);
    process.stderr.write(`failpoint ${name}: freezing process ${process.pid} for ${pauseMs} ms\n`);
    // A synchronous wait blocks the event loop as a stop-the-world pause or a stopped VM would.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pauseMs);
    process.stderr.write(`failpoint ${name}: process ${process.pid} resumes\n`);
    return;
  }
  process.stderr.write(`failpoint ${name}: killing process ${process.pid}\n`);
  process.kill(process.pid, 'SIGKILL');
}
