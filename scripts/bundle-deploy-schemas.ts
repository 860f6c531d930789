// Rebuilds deploy/schemas/*.json from the published definitions (where each comes from: deploy/schemas/README.md).
// Keeps only the kinds deploy/ uses, drops descriptions, and rewrites references so each file stands alone.
//
//   node scripts/bundle-deploy-schemas.ts --k8s <kubernetes_validate/kubernetes-json-schema/v1.34.0-local-strict> \
//     --strimzi <packaging/install/cluster-operator> --altinity <deploy/operator/parts/crd.yaml> \
//     --keda <config/crd/bases> --compose <schema/compose-spec.json>
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';

const OUT = new URL('../deploy/schemas/', import.meta.url);

/** Kubernetes kinds deploy/kubernetes uses: file in the kubernetes-json-schema directory → name in the bundle. */
const K8S_KINDS: Record<string, string> = {
  'deployment-apps-v1.json': 'apps/v1/Deployment',
  'job-batch-v1.json': 'batch/v1/Job',
  'service-v1.json': 'v1/Service',
  'configmap-v1.json': 'v1/ConfigMap',
  'serviceaccount-v1.json': 'v1/ServiceAccount',
  'poddisruptionbudget-policy-v1.json': 'policy/v1/PodDisruptionBudget',
  'persistentvolumeclaim-v1.json': 'v1/PersistentVolumeClaim',
};

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function stripDescriptions(node: Json): Json {
  if (Array.isArray(node)) return node.map(stripDescriptions);
  if (node && typeof node === 'object') {
    const out: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(node)) {
      // A property named "description" (inside `properties`) is data, not documentation: keep it.
      if (k === 'description' && typeof v === 'string') continue;
      out[k] = stripDescriptions(v);
    }
    return out;
  }
  return node;
}

/** JSON pointer token for a key (RFC 6901). */
const pointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

function bundleKubernetes(dir: string): Json {
  const definitions = JSON.parse(readFileSync(join(dir, '_definitions.json'), 'utf8')) as { $defs: Record<string, Json> };
  const defs: Record<string, Json> = {};
  const rewrite = (node: Json, pending: string[]): Json => {
    if (Array.isArray(node)) return node.map((n) => rewrite(n, pending));
    if (node && typeof node === 'object') {
      const out: { [key: string]: Json } = {};
      for (const [k, v] of Object.entries(node)) {
        if (k === '$ref' && typeof v === 'string') {
          const name = v.replace(/^.*#\/\$defs\//, '');
          pending.push(name);
          out[k] = `#/$defs/${pointer(name)}`;
        } else {
          out[k] = rewrite(v, pending);
        }
      }
      return out;
    }
    return node;
  };
  const pending: string[] = [];
  for (const [file, name] of Object.entries(K8S_KINDS)) {
    const { $schema: _s, $id: _i, ...kind } = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, Json>;
    defs[name] = rewrite(kind, pending);
  }
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (defs[name] !== undefined) continue;
    const def = definitions.$defs[name];
    if (def === undefined) throw new Error(`${name} is not in _definitions.json`);
    defs[name] = rewrite(def, pending);
  }
  return stripDescriptions({ $schema: 'https://json-schema.org/draft/2020-12/schema', $defs: defs });
}

interface Crd {
  spec: { group: string; names: { kind: string }; versions: { name: string; served: boolean; schema: { openAPIV3Schema: Json } }[] };
}

function readCrds(file: string): Crd[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as Crd | null)
    .filter((d): d is Crd => Boolean(d?.spec?.names));
}

/** One file per operator: `$defs["<group>/<version>/<Kind>"]` is the served version's openAPIV3Schema. */
function bundleCrds(files: string[], kinds: string[]): Json {
  const defs: Record<string, Json> = {};
  for (const crd of files.flatMap(readCrds)) {
    if (!kinds.includes(crd.spec.names.kind)) continue;
    for (const version of crd.spec.versions.filter((v) => v.served)) {
      defs[`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`] = stripDescriptions(version.schema.openAPIV3Schema);
    }
  }
  const missing = kinds.filter((k) => !Object.keys(defs).some((name) => name.endsWith(`/${k}`)));
  if (missing.length > 0) throw new Error(`no CRD for ${missing.join(', ')} in ${files.join(', ')}`);
  return { $defs: defs };
}

function write(name: string, schema: Json): void {
  writeFileSync(new URL(name, OUT), `${JSON.stringify(schema)}\n`);
  console.log(`deploy/schemas/${name}`);
}

const { values } = parseArgs({ options: { k8s: { type: 'string' }, strimzi: { type: 'string' }, altinity: { type: 'string' }, keda: { type: 'string' }, compose: { type: 'string' } } });
if (values.k8s) write('kubernetes-1.34.json', bundleKubernetes(values.k8s));
if (values.strimzi) {
  const files = ['040-Crd-kafka.yaml', '043-Crd-kafkatopic.yaml', '044-Crd-kafkauser.yaml', '045-Crd-kafkanodepool.yaml'].map((f) => join(values.strimzi!, f));
  write('strimzi-1.2.0.json', bundleCrds(files, ['Kafka', 'KafkaNodePool', 'KafkaTopic', 'KafkaUser']));
}
if (values.altinity) write('altinity-clickhouse-operator-0.25.6.json', bundleCrds([values.altinity], ['ClickHouseInstallation', 'ClickHouseKeeperInstallation']));
if (values.keda) {
  const files = ['keda.sh_scaledobjects.yaml', 'keda.sh_triggerauthentications.yaml'].map((f) => join(values.keda!, f));
  write('keda-2.20.2.json', bundleCrds(files, ['ScaledObject', 'TriggerAuthentication']));
}
if (values.compose) write('compose-spec.json', JSON.parse(readFileSync(values.compose, 'utf8')) as Json);
