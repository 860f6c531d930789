// The files under deploy/ as data, for the tests that check them (deploy-manifests.test.ts, clickhouse-grants.test.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';

export const ROOT = new URL('../', import.meta.url);
export const read = (path: string) => readFileSync(new URL(path, ROOT), 'utf8');

// Parsed YAML: shapes are checked by the schemas, so the tests navigate it freely.
export type Obj = { [key: string]: any };

export const K8S_DIR = 'deploy/kubernetes/';
export const manifestFiles = readdirSync(new URL(K8S_DIR, ROOT)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
export const manifests: { file: string; doc: Obj }[] = manifestFiles.flatMap((file) =>
  parseAllDocuments(read(K8S_DIR + file), { merge: true }).map((d) => {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]!.message}`);
    return { file, doc: d.toJS() as Obj };
  }),
);
export const ofKind = (kind: string) => manifests.filter((m) => m.doc.kind === kind).map((m) => m.doc);
export const compose = parse(read('deploy/compose/compose.yaml'), { merge: true }) as Obj;

/** role user → its grant queries, from the compose users file. */
export function composeGrants(): Map<string, string[]> {
  const xml = read('deploy/compose/clickhouse/users.d/runstream-users.xml');
  const users = /<users>([\s\S]*)<\/users>/.exec(xml.replace(/<!--[\s\S]*?-->/g, ''))![1]!;
  const grants = new Map<string, string[]>();
  for (const m of users.matchAll(/<(runstream_\w+)>([\s\S]*?)<\/\1>/g)) {
    grants.set(m[1]!, [...m[2]!.matchAll(/<query>([^<]+)<\/query>/g)].map((q) => q[1]!.trim()));
  }
  return grants;
}

/** role user → its grant queries, from the ClickHouseInstallation. */
export function installationGrants(): Map<string, string[]> {
  const grants = new Map<string, string[]>();
  for (const [setting, value] of Object.entries(ofKind('ClickHouseInstallation')[0]!.spec.configuration.users as Obj)) {
    const m = /^(\w+)\/grants\/query$/.exec(setting);
    if (m) grants.set(m[1]!, value as string[]);
  }
  return grants;
}

