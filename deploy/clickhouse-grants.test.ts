// Every grant the deploy files give a ClickHouse user — the compose users file, the ClickHouseInstallation and
// deploy/clickhouse/grants.sql — parses on current ClickHouse (chdb-core 26.9, the version the SQL portability test
// calls current, installed on demand). Parsing is all chdb can do here: it has no access control to grant with.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ensurePythonPackages, PYTHON } from '../test/support/python-deps.ts';
import { composeGrants, installationGrants, read } from './deploy-files.ts';

const CHDB_PACKAGE = 'chdb-core==26.9.0';

// Reads a JSON list of statements; prints, for each, null when ClickHouse's parser accepts it, else the error.
const PARSER = `
import json, sys, chdb
out = []
for stmt in json.load(sys.stdin):
    literal = "'" + stmt.replace("\\\\", "\\\\\\\\").replace("'", "\\\\'") + "'"
    try:
        chdb.query("SELECT formatQuery(" + literal + ")", "CSV")
        out.append(None)
    except Exception as e:
        out.append(str(e).split("\\n")[0][:300])
print(json.dumps(out))
`;

function parseErrors(statements: string[]): Promise<(string | null)[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-c', PARSER], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(stdout) as (string | null)[]) : reject(new Error(`chdb parser exited ${code}: ${stderr.slice(0, 2000)}`))));
    child.stdin.end(JSON.stringify(statements));
  });
}

/** Statements of a SQL file: `--` comments dropped, split on `;`. */
function statementsOf(sqlText: string): string[] {
  return sqlText
    .split('\n')
    .map((l) => l.replace(/--.*$/, ''))
    .join('\n')
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
}

describe('ClickHouse grants parse on current ClickHouse', () => {
  it('compose users, the ClickHouseInstallation and deploy/clickhouse/grants.sql', async () => {
    await ensurePythonPackages([CHDB_PACKAGE]);
    // Users files and the operator take GRANT without a grantee: the user it sits under.
    const roleGrants = [...composeGrants().values(), ...installationGrants().values()].flat().map((g) => `${g} TO runstream_check`);
    const sqlFile = statementsOf(read('deploy/clickhouse/grants.sql'));
    expect(roleGrants.length).toBeGreaterThan(10);
    expect(sqlFile.length).toBeGreaterThan(10);
    const statements = [...roleGrants, ...sqlFile, 'GRANT SELECTT ON runstream.* TO runstream_check'];
    const errors = await parseErrors(statements);
    expect(errors.at(-1), 'a misspelt privilege is rejected').toMatch(/Syntax error/);
    const problems = statements.slice(0, -1).flatMap((s, i) => (errors[i] ? [`${s}: ${errors[i]}`] : []));
    expect(problems).toEqual([]);
  }, 600_000);
});
