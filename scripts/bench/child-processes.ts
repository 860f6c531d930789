// Child processes of a benchmark (servers, client scripts): each in its own process group so that whatever it forks
// goes with it, all stopped when the benchmark ends — normally, on an error, or on Ctrl-C.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createServer } from 'node:net';

export interface Child {
  name: string;
  process: ChildProcess;
  /** The last few kB of its output (stdout and stderr), for the error message when it fails. */
  outputTail(): string;
  exited: Promise<number | null>;
}

const children = new Set<Child>();

function signalGroup(child: Child, signal: NodeJS.Signals): void {
  const pid = child.process.pid;
  if (pid === undefined || child.process.exitCode !== null || child.process.signalCode !== null) return;
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

// Last resort: a synchronous exit (uncaught error, process.exit) still takes every group down.
process.on('exit', () => {
  for (const c of children) signalGroup(c, 'SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping the benchmark's processes\n`);
    void stopAll().finally(() => process.exit(130));
  });
}

/**
 * Starts `command` in its own process group. Its output is kept (tail); stderr is also shown with a prefix when
 * `echoStderr` is set. Callers may read `process.stdout` themselves.
 */
export function startChild(name: string, command: string, args: string[], options: Omit<SpawnOptions, 'stdio' | 'detached'> & { echoStderr?: boolean } = {}): Child {
  const proc = spawn(command, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const keep = (d: Buffer) => (tail = (tail + d.toString()).slice(-4000));
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', (d: Buffer) => {
    keep(d);
    if (options.echoStderr) process.stderr.write(d.toString().replace(/^(?=.)/gm, `  [${name}] `));
  });
  const exited = new Promise<number | null>((resolve) => proc.once('close', (code) => resolve(code)));
  const child: Child = { name, process: proc, outputTail: () => tail, exited };
  children.add(child);
  void exited.then(() => children.delete(child));
  return child;
}

/** SIGTERM to the group, SIGKILL after `graceMs`. */
export async function stopChild(child: Child, graceMs = 10_000): Promise<void> {
  signalGroup(child, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
  children.delete(child);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => stopChild(c)));
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers 2xx; fails at once if the child exits, or after `timeoutMs`. */
export async function waitHttpOk(child: Child, url: string, timeoutMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (child.process.exitCode !== null) throw new Error(`${child.name} exited with code ${child.process.exitCode}: ${child.outputTail()}`);
    if (await fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false)) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`${child.name} did not answer ${url} within ${timeoutMs / 1000} s: ${child.outputTail()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
