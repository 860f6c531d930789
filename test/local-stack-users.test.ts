// `npm start` on a local ClickHouse left running for another database (e.g. by `npm run bench:drift`): starting
// again for the configured database re-renders the users and the server reloads them, instead of answering every
// request with "Access denied". On a private ClickHouse (own data directory and ports), never the shared one.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO_ROOT, checkRoleAccess } from '../scripts/local-stack.ts';
import { freePort, reservedPort } from './chaos/private-stack.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'runstream-users-'));
let env: NodeJS.ProcessEnv;

async function port(): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (!reservedPort(p)) return p;
  }
}

function clickhouseSh(command: string, database: string) {
  const r = spawnSync('bash', [`${REPO_ROOT}/deploy/local/clickhouse.sh`, command], { env: { ...env, CLICKHOUSE_DATABASE: database }, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stderr: r.stderr };
}

async function asQueryUser(database: string): Promise<string> {
  const url = new URL(env.CLICKHOUSE_URL!);
  url.search = new URLSearchParams({ user: 'runstream_query', password: 'query_local', database, query: 'SELECT 1' }).toString();
  return (await (await fetch(url)).text()).trim();
}

beforeAll(async () => {
  // Only what deploy/local/env.sh needs, none of the shared stack's settings.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(KAFKA_|CLICKHOUSE_|RUNSTREAM_)/.test(k)));
  const [http, tcp] = [await port(), await port()];
  env = { ...clean, RUNSTREAM_DATA_DIR: dataDir, CLICKHOUSE_HTTP_PORT: String(http), CLICKHOUSE_TCP_PORT: String(tcp), CLICKHOUSE_URL: `http://127.0.0.1:${http}` };
  const started = clickhouseSh('start', 'elsewhere_a');
  expect(started.status, started.stderr).toBe(0);
}, 180_000);

afterAll(() => {
  clickhouseSh('stop', 'elsewhere_a');
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

it('starting again for another database makes the running server let the users use it, keeping the first', async () => {
  expect(await asQueryUser('elsewhere_b')).toMatch(/Access denied to database elsewhere_b/);
  await expect(checkRoleAccess({ ...env, CLICKHOUSE_DATABASE: 'elsewhere_b' })).rejects.toThrow(/does not let this configuration use database elsewhere_b.*query user runstream_query: .*Access denied/);

  const again = clickhouseSh('start', 'elsewhere_b');
  expect(again.status, again.stderr).toBe(0);
  expect(again.stderr).toMatch(/users re-rendered for database elsewhere_b/);
  expect(await asQueryUser('elsewhere_b')).toBe('1');
  expect(await asQueryUser('elsewhere_a')).toBe('1');
  // The project's own databases stay allowed whatever the stack was started for (this one does not exist here).
  expect(await asQueryUser('runstream')).not.toMatch(/Access denied/);
}, 120_000);
