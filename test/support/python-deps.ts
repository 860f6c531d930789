// Installs the Python packages a test needs (e.g. chdb-core for test/sql-portability.test.ts) when they are missing,
// so a fresh CI machine needs nothing but python3 with pip. Checked once per process; pip's own cache is left alone.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const PYTHON = process.env.PYTHON ?? 'python3';

/** The module a distribution is imported as, where it differs from the distribution name. */
const MODULE_OF: Record<string, string> = { 'chdb-core': 'chdb' };

export interface PythonPackage {
  /** pip requirement, e.g. `chdb-core==26.9.0`. */
  spec: string;
  /** Module to import to check the package works; defaults to the distribution name with '-' as '_'. */
  module?: string;
}

const pending = new Map<string, Promise<void>>();

function parse(p: string | PythonPackage): { spec: string; name: string; version: string | undefined; module: string } {
  const spec = typeof p === 'string' ? p : p.spec;
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:==\s*([A-Za-z0-9.+!-]+))?$/.exec(spec.trim());
  if (!m) throw new Error(`unsupported pip requirement ${JSON.stringify(spec)}: use name or name==version`);
  const name = m[1]!;
  const module = (typeof p === 'string' ? undefined : p.module) ?? MODULE_OF[name.toLowerCase()] ?? name.replace(/-/g, '_');
  return { spec: spec.trim(), name, version: m[2], module };
}

/** True when the module imports and (for name==version) the installed distribution has exactly that version. */
async function installed(pkg: ReturnType<typeof parse>): Promise<boolean> {
  const check = [
    'import importlib, importlib.metadata, sys',
    `importlib.import_module(${JSON.stringify(pkg.module)})`,
    `want = ${JSON.stringify(pkg.version ?? '')}`,
    `sys.exit(0 if not want or importlib.metadata.version(${JSON.stringify(pkg.name)}) == want else 3)`,
  ].join('\n');
  try {
    await run(PYTHON, ['-c', check]);
    return true;
  } catch {
    return false;
  }
}

async function ensureOne(pkg: ReturnType<typeof parse>): Promise<void> {
  if (await installed(pkg)) return;
  try {
    // pip warns when run as root; that is fine here.
    await run(PYTHON, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', pkg.spec], { maxBuffer: 16 << 20 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${PYTHON} -m pip install ${pkg.spec} failed: ${e.stderr?.trim() || e.message}`);
  }
  if (!(await installed(pkg))) throw new Error(`installed ${pkg.spec} but \`import ${pkg.module}\` still fails (or the version differs)`);
}

/** Installs whichever of `packages` are missing with `python3 -m pip install --quiet`; at most once per package per process. */
export async function ensurePythonPackages(packages: readonly (string | PythonPackage)[]): Promise<void> {
  await Promise.all(
    packages.map((p) => {
      const pkg = parse(p);
      let job = pending.get(pkg.spec);
      if (!job) {
        job = ensureOne(pkg);
        // A failure is not remembered: a later call may retry (e.g. after the network came back).
        job.catch(() => pending.delete(pkg.spec));
        pending.set(pkg.spec, job);
      }
      return job;
    }),
  );
}

/** The schemathesis release the API fuzzers run (test/api-fuzz.test.ts, the chaos suite). */
export const SCHEMATHESIS: PythonPackage = { spec: 'schemathesis==4.32.5', module: 'schemathesis' };
/** How to run Python with a private set of packages: the interpreter and the environment to run it with. */
export interface PythonEnv {
  python: string;
  env: NodeJS.ProcessEnv;
}

/**
 * A Python environment of its own under .data/python/<name> with exactly these pinned packages — for tools whose pins
 * clash with what other tests need in the shared interpreter (Evidently 0.7 needs pandas < 3). A virtual environment
 * that sees the system site-packages when `venv` is available; otherwise (Debian without python3-venv) the packages
 * are installed with `pip --target` and put first on PYTHONPATH. Created once; re-created when the pins change.
 */
export async function ensurePythonEnv(name: string, specs: readonly string[]): Promise<PythonEnv> {
  const dir = join(new URL('../../.data/python/', import.meta.url).pathname, name);
  const venvPython = join(dir, 'bin', 'python');
  const target = join(dir, 'site');
  const marker = join(dir, 'runstream-pins.txt');
  const pins = [...specs].sort().join('\n');
  const result = (): PythonEnv =>
    existsSync(venvPython) ? { python: venvPython, env: { ...process.env } } : { python: PYTHON, env: { ...process.env, PYTHONPATH: [target, process.env.PYTHONPATH].filter(Boolean).join(':') } };
  if (existsSync(marker) && readFileSync(marker, 'utf8') === pins) return result();
  mkdirSync(dir, { recursive: true });
  const pip = ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check'];
  try {
    if (!existsSync(venvPython)) {
      const made = await run(PYTHON, ['-m', 'venv', '--system-site-packages', dir]).then(() => true, () => false);
      if (!made) rmSync(join(dir, 'bin'), { recursive: true, force: true });
    }
    if (existsSync(venvPython)) await run(venvPython, [...pip, ...specs], { maxBuffer: 16 << 20 });
    else await run(PYTHON, [...pip, '--upgrade', '--target', target, ...specs], { maxBuffer: 16 << 20 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`pip install ${specs.join(' ')} into ${dir} failed: ${e.stderr?.trim() || e.message}`);
  }
  writeFileSync(marker, pins);
  return result();
}
