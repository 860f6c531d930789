// A real `mlflow server` for a benchmark: SQLite in a temporary directory of its own, one worker, a free loopback
// port — the setup a team runs before it outgrows it. Stopped (and its directory removed) by `stop`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PYTHON } from '../../test/support/python-deps.ts';
import { freePort, startChild, stopChild, waitHttpOk } from './child-processes.ts';

export interface MlflowServer {
  url: string;
  startupMs: number;
  stop(): Promise<void>;
}

export async function startMlflowServer(): Promise<MlflowServer> {
  const dir = mkdtempSync(join(tmpdir(), 'runstream-mlflow-bench-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = ['-m', 'mlflow', 'server', '--backend-store-uri', `sqlite:///${join(dir, 'mlflow.db')}`, '--default-artifact-root', join(dir, 'artifacts'), '--host', '127.0.0.1', '--port', String(port), '--workers', '1'];
  // No background job runner: it would compete with the requests being timed.
  const child = startChild('mlflow server', PYTHON, args, { cwd: dir, env: { ...process.env, MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false', GIT_PYTHON_REFRESH: 'quiet' } });
  const stop = async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // The first start creates the SQLite schema (all migrations): tens of seconds on a busy machine.
    const startupMs = await waitHttpOk(child, `${url}/health`, 180_000);
    return { url, startupMs, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
