// The Python SDK (packages/python-sdk) installed with pip into .data/python/python-sdk, with what its suite drives.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../scripts/local-stack.ts';
import { ensurePythonEnv, PYTHON, type PythonEnv } from './python-deps.ts';

const run = promisify(execFile);

export const PYTHON_SDK_DIR = join(REPO_ROOT, 'packages', 'python-sdk');
// The SDK's own pins (pyproject.toml) plus pytest, MLflow and scikit-learn for the seed's flow, and transformers
// (without torch: its CallbackHandler drives the callback as Trainer does) and mypy (the package is typed).
export const PYTHON_SDK_PINS = ['confluent-kafka==2.16.2', 'fastavro==1.13.1', 'pytest==9.2.0', 'mlflow==3.17.2', 'scikit-learn==1.9.1', 'transformers==5.25.0', 'mypy==2.4.1'];

/** The environment, with the package (re)installed from this checkout each time, so tests never run an older copy. */
export async function ensurePythonSdk(): Promise<PythonEnv> {
  const py = await ensurePythonEnv('python-sdk', PYTHON_SDK_PINS);
  const pip = ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '--force-reinstall'];
  // Without venv, ensurePythonEnv installs with --target onto PYTHONPATH: the package goes there too.
  const target = py.python === PYTHON ? py.env.PYTHONPATH?.split(':')[0] : undefined;
  await run(py.python, [...pip, ...(target ? ['--target', target] : []), PYTHON_SDK_DIR], { env: py.env, maxBuffer: 16 << 20, timeout: 300_000 });
  return py;
}
