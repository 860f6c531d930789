// Failpoints for crash testing: RUNSTREAM_FAILPOINTS="after-insert:0.2" makes the process SIGKILL itself right
// after an insert is durable and before its offsets are committed, with probability 0.2. Unset in production.

export type FailpointName = 'after-insert' | 'before-insert';

function parse(raw: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const part of (raw ?? '').split(',')) {
    const [name, p] = part.split(':');
    if (name && p !== undefined && Number.isFinite(Number(p))) out.set(name.trim(), Number(p));
  }
  return out;
}

const active = parse(process.env.RUNSTREAM_FAILPOINTS);

export function failpoint(name: FailpointName): void {
  const p = active.get(name);
  if (p === undefined || Math.random() >= p) return;
  process.stderr.write(`failpoint ${name}: killing process ${process.pid}\n`);
  process.kill(process.pid, 'SIGKILL');
}
