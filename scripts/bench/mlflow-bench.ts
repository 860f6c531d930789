// `npm run bench:mlflow`: what a training script feels with the real MLflow Python client, side by side against
//   - Runstream: the real ingest worker and query service (child processes) on the local Kafka + ClickHouse,
//     database runstream_bench, topics and consumer group of their own;
//   - a real `mlflow server` (SQLite, one worker) started here;
//   - a stub that answers every request at once: the client's own limit, which no server can beat.
// One server at a time, the same client script (mlflow_client_bench.py) against each, then one table with the
// targets of the write path: synchronous latency ≥ 5× lower than MLflow's, async and log_batch points/s ≥ 80 % of
// the client's own limit. `-- --runstream-at <commit>` runs Runstream as of that commit (before/after in one machine
// state; the client, the stub and the MLflow server stay the same). Not a test: numbers are noisy on a shared machine, so the load average is printed too.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@runstream/config';
import { ensurePythonPackages, PYTHON } from '../../test/support/python-deps.ts';
import { applyMigrations, REPO_ROOT, startLocalStack } from '../local-stack.ts';
import { startChild, stopAll, stopChild } from './child-processes.ts';
import { startMlflowServer } from './mlflow-server.ts';
import { startMlflowStub } from './mlflow-stub-server.ts';
import { checkoutAt, type Checkout } from './runstream-checkout.ts';
import { startRunstream } from './runstream-services.ts';

const MLFLOW = 'mlflow==3.17.2';
const atIndex = process.argv.indexOf('--runstream-at');
const RUNSTREAM_AT = atIndex >= 0 ? process.argv[atIndex + 1] : undefined;
if (atIndex >= 0 && !RUNSTREAM_AT) throw new Error('--runstream-at needs a commit');
const SYNC_CALLS = Number(process.env.BENCH_SYNC_CALLS ?? 300);
const ASYNC_CALLS = Number(process.env.BENCH_ASYNC_CALLS ?? 1000);
const BATCHES = Number(process.env.BENCH_BATCHES ?? 20);
/** A timed loop stops early past this (and says so); a visibility poll gives up after it. */
const PHASE_BUDGET_S = Number(process.env.BENCH_PHASE_BUDGET_S ?? 120);
/** The whole client script against one server, warm-ups and flushes included. */
const CLIENT_BUDGET_S = Number(process.env.BENCH_CLIENT_BUDGET_S ?? 900);

type Target = 'runstream' | 'mlflow' | 'stub';
interface Phases {
  sync?: { calls: number; p50_ms: number; p99_ms: number };
  async?: { points: number; points_per_s: number };
  batch?: { points: number; points_per_s: number };
  visible: Record<string, { ms: number | null; points: number; timeout_s?: number }>;
  http?: { statuses: Record<string, number>; retries: Record<string, number> };
  error?: string;
  startupMs?: number;
  /** 1-minute load average when the client started and when it ended: other work on the machine shows here. */
  load?: [number, number];
}

const progress = (msg: string) => process.stderr.write(`[bench:mlflow] ${msg}\n`);
const log = createLogger({ name: 'bench', level: 'warn' });
process.env.CLICKHOUSE_DATABASE ??= 'runstream_bench';
const loadAtStart = loadavg();
const experiment = `mlflow-bench-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}`;

/** Runs the client script against `uri`; collects its JSON lines (what it finished even if it fails later). */
async function runClient(target: Target, uri: string, checkReads: boolean): Promise<Phases> {
  const script = join(REPO_ROOT, 'scripts/bench/mlflow_client_bench.py');
  const args = [script, '--uri', uri, '--label', target, '--experiment', experiment, '--sync-calls', String(SYNC_CALLS), '--async-calls', String(ASYNC_CALLS), '--batches', String(BATCHES), '--phase-budget-s', String(PHASE_BUDGET_S)];
  if (checkReads) args.push('--check-reads');
  const env = {
    ...process.env,
    PYTHONUNBUFFERED: '1',
    GIT_PYTHON_REFRESH: 'quiet',
    // A few retries, not MLflow's 7 with backoff (minutes): a failing server should fail the run, not hide in the
    // latency. The script counts every retry and non-2xx answer and the table prints them.
    MLFLOW_HTTP_REQUEST_MAX_RETRIES: process.env.MLFLOW_HTTP_REQUEST_MAX_RETRIES ?? '2',
    MLFLOW_HTTP_REQUEST_TIMEOUT: process.env.MLFLOW_HTTP_REQUEST_TIMEOUT ?? '30',
  };
  const child = startChild(`client→${target}`, PYTHON, args, { env, echoStderr: true });
  const phases: Phases = { visible: {} };
  let buffered = '';
  child.process.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      const { phase, ...values } = JSON.parse(line) as { phase: string } & Record<string, unknown>;
      if (phase === 'visible') phases.visible[values.after as string] = values as Phases['visible'][string];
      else (phases as unknown as Record<string, unknown>)[phase] = values;
    }
  });
  const timer = setTimeout(() => {
    phases.error = `stopped after the ${CLIENT_BUDGET_S} s budget`;
    void stopChild(child, 2000);
  }, CLIENT_BUDGET_S * 1000);
  const code = await child.exited;
  clearTimeout(timer);
  if (code !== 0 && !phases.error) phases.error = `client exited with code ${code}: ${lastLines(child.outputTail(), 3)}`;
  return phases;
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join(' | ').slice(0, 600);
}

async function measure(target: Target, start: () => Promise<{ url: string; startupMs: number; stop(): Promise<void> }>): Promise<Phases> {
  progress(`${target}: starting…`);
  let server;
  try {
    server = await start();
  } catch (err) {
    return { visible: {}, error: `did not start: ${(err as Error).message.slice(0, 600)}` };
  }
  progress(`${target}: up in ${(server.startupMs / 1000).toFixed(1)} s at ${server.url}; running the MLflow client…`);
  try {
    const before = loadavg()[0]!;
    const phases = await runClient(target, server.url, target !== 'stub');
    return { ...phases, startupMs: server.startupMs, load: [before, loadavg()[0]!] };
  } finally {
    await server.stop();
  }
}

// ---- run ----------------------------------------------------------------------------------------------------
const results = {} as Record<Target, Phases>;
let stubRequests = new Map<string, number>();
let checkout: Checkout | undefined;
try {
  startLocalStack(log);
  await applyMigrations(log);
  progress(`checking ${MLFLOW}…`);
  await ensurePythonPackages([{ spec: MLFLOW, module: 'mlflow' }]);
  results.stub = await measure('stub', async () => {
    const stub = await startMlflowStub();
    stubRequests = stub.requests;
    return { url: stub.url, startupMs: 0, stop: stub.close };
  });
  results.mlflow = await measure('mlflow', startMlflowServer);
  if (RUNSTREAM_AT) checkout = checkoutAt(RUNSTREAM_AT);
  results.runstream = await measure('runstream', () => startRunstream(checkout?.root));
} finally {
  await stopAll();
  checkout?.remove();
}

// ---- report ---------------------------------------------------------------------------------------------------
const TARGETS: Target[] = ['runstream', 'mlflow', 'stub'];
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number | undefined) => (n === undefined ? '—' : n < 10 ? `${n.toFixed(1)} ms` : `${fmt(n)} ms`);
const rate = (p: { points: number; points_per_s: number } | undefined, full: number) =>
  p === undefined ? '—' : `${fmt(p.points_per_s)} points/s${p.points < full ? ` (${fmt(p.points)} of ${fmt(full)}: budget)` : ''}`;
const failedCell = (t: Target) => (results[t].error ? 'failed' : '—');

function lowerBy(target: Target, pick: (p: Phases) => number | undefined): string {
  const ours = pick(results.runstream);
  const theirs = pick(results.mlflow);
  if (ours === undefined || theirs === undefined) return '≥ 5× lower than MLflow: not measured';
  const ratio = theirs / ours;
  return `≥ 5× lower than MLflow (≤ ${ms(theirs / 5)}): ${ratio >= 5 ? 'pass' : 'FAIL'} (${ratio >= 1 ? `${ratio.toFixed(1)}× lower` : `${(1 / ratio).toFixed(1)}× higher`})`;
}

function shareOfLimit(pick: (p: Phases) => number | undefined): string {
  const ours = pick(results.runstream);
  const limit = pick(results.stub);
  if (ours === undefined || limit === undefined) return '≥ 80 % of the client limit: not measured';
  const share = ours / limit;
  return `≥ 80 % of the client limit (≥ ${fmt(limit * 0.8)}): ${share >= 0.8 ? 'pass' : 'FAIL'} (${Math.round(share * 100)} %)`;
}

function visibleCell(t: Target, after: string): string {
  if (t === 'stub') return 'n/a';
  const v = results[t].visible[after];
  if (!v) return failedCell(t);
  return v.ms === null ? `not after ${v.timeout_s} s (${fmt(v.points)} points seen)` : ms(v.ms);
}

function httpCell(t: Target): string {
  const h = results[t].http;
  if (!h) return failedCell(t);
  const total = Object.values(h.statuses).reduce((a, b) => a + b, 0);
  const bad = Object.entries(h.statuses).filter(([s]) => !s.startsWith('2'));
  const retried = Object.entries(h.retries);
  return `${fmt(total)}${bad.length ? `, non-2xx ${bad.map(([s, n]) => `${s}×${n}`).join(' ')}` : ''}${retried.length ? `, retried ${retried.map(([s, n]) => `${s}×${n}`).join(' ')}` : ''}`;
}

const syncCalls = (t: Target) => {
  const s = results[t].sync;
  return s && s.calls < SYNC_CALLS ? ` (${s.calls} calls: budget)` : '';
};
const rows: [string, (t: Target) => string, string][] = [
  [`\`log_metric\` synchronous, p50 per call (${SYNC_CALLS} calls)`, (t) => (results[t].sync ? ms(results[t].sync!.p50_ms) + syncCalls(t) : failedCell(t)), lowerBy('runstream', (p) => p.sync?.p50_ms)],
  ['`log_metric` synchronous, p99 per call', (t) => (results[t].sync ? ms(results[t].sync!.p99_ms) : failedCell(t)), lowerBy('runstream', (p) => p.sync?.p99_ms)],
  [`\`log_metric(synchronous=False)\` × ${fmt(ASYNC_CALLS)} + \`flush_async_logging()\``, (t) => (results[t].async ? rate(results[t].async, ASYNC_CALLS) : failedCell(t)), shareOfLimit((p) => p.async?.points_per_s)],
  [`\`log_batch\` of 1000 metrics × ${BATCHES}`, (t) => (results[t].batch ? rate(results[t].batch, BATCHES * 1000) : failedCell(t)), shareOfLimit((p) => p.batch?.points_per_s)],
  ['`get_metric_history` has the last point, after the last sync write', (t) => visibleCell(t, 'sync'), '—'],
  ['… after `flush_async_logging()` returned', (t) => visibleCell(t, 'async'), '—'],
  ['… after the last `log_batch` returned', (t) => visibleCell(t, 'batch'), '—'],
  ['HTTP requests the client made (non-2xx, retries)', httpCell, 'no non-2xx, no retries'],
  ['load average (1 min) as the client started → ended', (t) => (results[t].load ? results[t].load!.map((l) => l.toFixed(1)).join(' → ') : '—'), `${cpus().length} cores`],
];

function gitState(): string {
  try {
    const head = execFileSync('git', ['-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', REPO_ROOT, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim();
    return dirty ? `${head} + uncommitted changes in ${dirty.split('\n').length} tracked files` : head;
  } catch {
    return 'unknown';
  }
}

const header = ['', 'Runstream', 'mlflow server (SQLite, 1 worker)', 'client limit (stub)', 'target'];
const table = [header, header.map(() => '---'), ...rows.map(([label, cell, target]) => [label, ...TARGETS.map(cell), target])];
const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
console.log(`
MLflow client (${MLFLOW}, Python) → three tracking servers, one at a time, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC
code: ${checkout ? `Runstream as of ${checkout.commit} (--runstream-at), this script at ${gitState()}` : gitState()}; ${cpus().length} cores, load average ${load(loadAtStart)} at start, ${load(loadavg())} at end
Runstream: ingest worker + query service (Node ${process.versions.node}), Kafka + ClickHouse of deploy/local, database ${process.env.CLICKHOUSE_DATABASE}${results.runstream.startupMs !== undefined ? `, up in ${(results.runstream.startupMs / 1000).toFixed(1)} s` : ''}
mlflow server: ${MLFLOW.split('==')[1]}, SQLite in a temporary directory, --workers 1${results.mlflow.startupMs !== undefined ? `, up in ${(results.mlflow.startupMs / 1000).toFixed(1)} s` : ''}

${table.map((r) => `| ${r.join(' | ')} |`).join('\n')}
`);
for (const t of TARGETS) if (results[t].error) console.log(`${t}: ${results[t].error}`);
const stubTotal = [...stubRequests.values()].reduce((a, b) => a + b, 0);
console.log(`stub answered ${fmt(stubTotal)} requests: ${[...stubRequests].map(([p, n]) => `${p.replace('/api/2.0/mlflow/', '')} ×${n}`).join(', ')}`);
process.exitCode = TARGETS.some((t) => results[t].error) ? 1 : 0;
