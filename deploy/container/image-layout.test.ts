// The image without Docker: lays out each stage of deploy/container/Dockerfile in a temporary directory as Docker
// would (the build context filtered by .dockerignore, COPY, RUN, ENV, WORKDIR), with the real production-only
// `npm ci` from the registry, then starts every target's CMD. Each entry point must load its whole module graph from
// what the image holds and stop at configuration validation (an environment made invalid on purpose), and the
// health check script must tell a live endpoint from a dead one.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
// The image runs Node 24, as the project's own `node` dev dependency is (the `node` on PATH may be older).
const NODE = existsSync(join(REPO, 'node_modules/.bin/node')) ? join(REPO, 'node_modules/.bin/node') : process.execPath;

interface Stage {
  name: string;
  root: string;
  workdir: string;
  env: Record<string, string>;
  cmd?: string[];
  healthcheck?: string;
}

/** .dockerignore patterns as regular expressions over context-relative paths (`**`, `*`, `?`). */
function dockerIgnore(): RegExp[] {
  return readFileSync(join(REPO, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((p) => {
      if (p.startsWith('!')) throw new Error('negated .dockerignore patterns are not modelled here');
      const re = p
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*\//g, '\u0000')
        .replace(/\*\*/g, '.*')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')
        .replace(/\u0000/g, '(?:.*/)?');
      return new RegExp(`^${re}$`);
    });
}

/** The build context: the repository's files (tracked and untracked, not git-ignored) less .dockerignore. */
function buildContext(into: string): void {
  const ignore = dockerIgnore();
  const ignored = (path: string) => {
    const parts = path.split('/');
    return parts.some((_, i) => ignore.some((re) => re.test(parts.slice(0, i + 1).join('/'))));
  };
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: REPO, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of files.filter((f) => !ignored(f) && existsSync(join(REPO, f)))) {
    mkdirSync(dirname(join(into, file)), { recursive: true });
    cpSync(join(REPO, file), join(into, file));
  }
}

/** Docker's COPY: a directory source copies its contents; a file goes into a directory destination ending in `/`. */
function copy(from: string, to: string, destIsDir: boolean): void {
  if (!existsSync(from)) throw new Error(`COPY source ${from} does not exist`);
  if (statSync(from).isDirectory()) cpSync(from, to, { recursive: true, verbatimSymlinks: true });
  else {
    const target = destIsDir ? join(to, from.split('/').at(-1)!) : to;
    mkdirSync(dirname(target), { recursive: true });
    cpSync(from, target);
  }
}

/** Joined instruction lines of the Dockerfile (backslash continuations folded, comments dropped). */
function instructions(text: string): string[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

function layOut(work: string, context: string): Map<string, Stage> {
  const stages = new Map<string, Stage>();
  const args: Record<string, string> = {};
  let stage: Stage | undefined;
  const inStage = (path: string) => (path.startsWith('/') ? join(stage!.root, path) : join(stage!.root, stage!.workdir, path));
  for (const line of instructions(readFileSync(join(REPO, 'deploy/container/Dockerfile'), 'utf8'))) {
    const [op, ...rest] = line.split(/\s+/);
    const arg = line.slice(op!.length).trim();
    switch (op) {
      case 'ARG': {
        const [k, v] = arg.split('=');
        args[k!] = v ?? '';
        break;
      }
      case 'FROM': {
        const [image, , name] = rest;
        const base = stages.get(image!);
        stage = { name: name!, root: join(work, name!), workdir: base?.workdir ?? '/', env: { ...(base?.env ?? {}) } };
        if (base) cpSync(base.root, stage.root, { recursive: true, verbatimSymlinks: true });
        else {
          expect(image!.replace(/\$\{(\w+)\}/g, (_, k: string) => args[k]!)).toMatch(/^node:24[-.]/);
          mkdirSync(stage.root, { recursive: true });
        }
        stages.set(stage.name, stage);
        break;
      }
      case 'WORKDIR':
        stage!.workdir = arg;
        mkdirSync(inStage(arg), { recursive: true });
        break;
      case 'ENV':
        for (const m of arg.matchAll(/(\w+)=(\S+)/g)) stage!.env[m[1]!] = m[2]!;
        break;
      case 'COPY': {
        const from = /^--from=(\S+)\s+/.exec(arg);
        const parts = (from ? arg.slice(from[0].length) : arg).split(/\s+/);
        const dest = parts.pop()!;
        const destIsDir = dest.endsWith('/') || dest === '.' || dest === './';
        for (const src of parts) {
          const source = from ? join(stages.get(from[1]!)!.root, src) : join(context, src);
          copy(source, inStage(dest), destIsDir);
        }
        break;
      }
      case 'RUN': {
        // Absolute paths of the image are paths under this stage's root here; build cache mounts do not matter.
        const script = arg.replace(/--mount=\S+\s+/g, '').replace(/(^|[\s=])\/(?=[a-z])/g, `$1${stage!.root}/`);
        const r = spawnSync('bash', ['-ec', script], { cwd: inStage('.'), encoding: 'utf8', env: { ...process.env, ...stage!.env } });
        if (r.status !== 0) throw new Error(`RUN ${arg} failed (${r.status}): ${r.stderr.slice(-2000)}`);
        break;
      }
      case 'CMD':
        stage!.cmd = JSON.parse(arg) as string[];
        break;
      case 'HEALTHCHECK':
        stage!.healthcheck = arg;
        break;
      case 'USER':
      case 'EXPOSE':
      case 'VOLUME':
        break;
      default:
        throw new Error(`Dockerfile instruction ${op} is not modelled by this test`);
    }
  }
  return stages;
}

describe('container image layout (deploy/container/Dockerfile without Docker)', () => {
  let work: string;
  let stages: Map<string, Stage>;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'runstream-image-'));
    const context = join(work, 'context');
    buildContext(context);
    stages = layOut(join(work, 'stages'), context);
  }, 300_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Runs a target's CMD with its ENV plus `env`; returns exit code and output. */
  function run(target: string, env: Record<string, string>): { status: number | null; out: string } {
    const stage = stages.get(target)!;
    const [bin, ...argv] = stage.cmd!;
    expect(bin).toBe('node');
    const r = spawnSync(NODE, argv, {
      cwd: join(stage.root, stage.workdir),
      encoding: 'utf8',
      timeout: 60_000,
      env: { PATH: process.env.PATH!, ...stage.env, ...env },
    });
    return { status: r.status, out: r.stdout + r.stderr };
  }

  it('runs on Node 24', () => {
    expect(execFileSync(NODE, ['--version'], { encoding: 'utf8' })).toMatch(/^v24\./);
  });

  it('holds production dependencies only, and no tests, local data or secrets', () => {
    const app = join(stages.get('runtime')!.root, 'app');
    expect(existsSync(join(app, 'node_modules/@clickhouse/client'))).toBe(true);
    expect(existsSync(join(app, 'node_modules/kafkajs'))).toBe(true);
    for (const dev of ['vitest', 'typescript', 'playwright-core', '@types/node']) expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
    const files = execFileSync('find', [app, '-path', `${app}/node_modules`, '-prune', '-o', '-type', 'f', '-print'], { encoding: 'utf8' }).split('\n');
    expect(files.filter((f) => f.endsWith('.test.ts'))).toEqual([]);
    expect(files.filter((f) => /\/(\.data|test|secrets)\//.test(f))).toEqual([]);
    expect(files.some((f) => /packages\/clickhouse\/migrations\/0001_.*\.sql$/.test(f))).toBe(true);
    expect(files.some((f) => /schemas\/metric-batch\.v1\.avsc$/.test(f))).toBe(true);
  });

  it('ingest-worker: the whole module graph loads and configuration is validated', () => {
    const r = run('ingest-worker', { INGEST_BATCH_MAX_ROWS: 'many' });
    expect(r.out).not.toMatch(/ERR_MODULE_NOT_FOUND|ENOENT|Cannot find/);
    expect(r.out).toMatch(/INGEST_BATCH_MAX_ROWS: must be an integer/);
    expect(r.status).toBe(2);
  });

  it('query-service: loads, and refuses to listen beyond loopback without tokens', () => {
    const r = run('query-service', {});
    expect(r.out).not.toMatch(/ERR_MODULE_NOT_FOUND|ENOENT|Cannot find/);
    expect(r.out).toMatch(/refusing to listen on 0\.0\.0\.0 without API tokens/);
    expect(r.status).toBe(2);
  });

  it('migrate: loads, and stops at a bad setting before touching a server', () => {
    const r = run('migrate', { CLICKHOUSE_DATABASE: 'not-an-identifier' });
    expect(r.out).not.toMatch(/ERR_MODULE_NOT_FOUND|ENOENT|Cannot find/);
    expect(r.out).toMatch(/CLICKHOUSE_DATABASE must be a plain identifier/);
    expect(r.status).toBe(1);
  });

  it('the health check script passes a live endpoint and fails a dead one', async () => {
    const worker = stages.get('ingest-worker')!;
    const script = /CMD node (\S+)/.exec(worker.healthcheck!)![1]!;
    const check = (url: string) =>
      new Promise<number | null>((resolve) => {
        spawn(NODE, [script, url], { cwd: join(worker.root, worker.workdir), stdio: 'ignore' }).on('exit', (code) => resolve(code));
      });
    const server = createServer((req, res) => res.writeHead(req.url === '/metrics' ? 200 : 503).end('x'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      expect(await check(`http://127.0.0.1:${port}/metrics`)).toBe(0);
      expect(await check(`http://127.0.0.1:${port}/health`)).toBe(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await check(`http://127.0.0.1:${port}/metrics`)).toBe(1);
  });
});
