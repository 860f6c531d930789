// Offline validation of deploy/: every Kubernetes manifest and the compose file against the bundled schemas
// (deploy/schemas/README.md), then what a schema cannot say: probes, non-root, references to Secrets and
// ConfigMaps, replication factors, ports, scaling limits, configuration names and the image's entry points.
import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { compose, composeGrants, installationGrants, K8S_DIR, manifestFiles, manifests, ofKind, read, ROOT, type Obj } from './deploy-files.ts';

const readJson = (path: string) => JSON.parse(read(path)) as Schema;
const clone = <T>(v: T): T => structuredClone(v);

type Schema = { [key: string]: unknown };

// --- schemas -------------------------------------------------------------------------------------------------

/** As an API server validating strictly: objects with listed properties accept no others (unless the schema says
 * x-kubernetes-preserve-unknown-fields). */
function strictCrd(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strictCrd);
  if (!node || typeof node !== 'object') return node;
  const out: Schema = {};
  for (const [k, v] of Object.entries(node)) out[k] = k === 'x-kubernetes-validations' ? v : strictCrd(v);
  if (out.properties && out.additionalProperties === undefined && !out['x-kubernetes-preserve-unknown-fields']) out.additionalProperties = false;
  return out;
}

const CRD_FILES = ['strimzi-1.2.0.json', 'altinity-clickhouse-operator-0.25.6.json', 'keda-2.20.2.json'];
const K8S_FILE = 'kubernetes-1.34.json';

function buildValidators(): Map<string, ValidateFunction> {
  const validators = new Map<string, ValidateFunction>();
  const k8s = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  const bundle = readJson(`deploy/schemas/${K8S_FILE}`);
  k8s.addSchema(bundle, K8S_FILE);
  for (const name of Object.keys(bundle.$defs as Schema).filter((n) => /^([a-z.]+\/)?v1\/[A-Z]/.test(n))) {
    validators.set(name, k8s.getSchema(`${K8S_FILE}#/$defs/${name.replace(/\//g, '~1')}`)!);
  }
  const crds = new Ajv({ strict: false, validateFormats: false, allErrors: true });
  for (const file of CRD_FILES) {
    for (const [name, schema] of Object.entries(readJson(`deploy/schemas/${file}`).$defs as Schema)) {
      const kind = name.slice(name.lastIndexOf('/') + 1);
      const apiVersion = name.slice(0, name.lastIndexOf('/'));
      validators.set(
        name,
        crds.compile({
          allOf: [
            strictCrd(schema),
            { required: ['apiVersion', 'kind', 'metadata'], properties: { apiVersion: { const: apiVersion }, kind: { const: kind }, metadata: { required: ['name'] } } },
          ],
        }),
      );
    }
  }
  return validators;
}

const validators = buildValidators();
// The Compose schema names draft-07 by its https address, which Ajv does not know by that name; it is draft-07.
const composeSchema = new Ajv({ strict: false, validateFormats: false, allErrors: true, validateSchema: false }).compile(readJson('deploy/schemas/compose-spec.json'));

/** Errors of one Kubernetes object against its bundled schema, or a complaint that there is none. */
function k8sErrors(doc: Obj): string[] {
  const validate = validators.get(`${doc.apiVersion}/${doc.kind}`);
  if (!validate) return [`no bundled schema for ${doc.apiVersion} ${doc.kind}`];
  return validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
}

function composeErrors(doc: unknown): string[] {
  return composeSchema(doc) ? [] : (composeSchema.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
}

// --- schema validation ---------------------------------------------------------------------------------------

describe('bundled schemas', () => {
  it('every Kubernetes manifest validates against its kind', () => {
    expect(manifests.length).toBeGreaterThan(15);
    const problems = manifests.flatMap(({ file, doc }) => k8sErrors(doc).map((e) => `${file} ${doc.kind}/${doc.metadata?.name}: ${e}`));
    expect(problems).toEqual([]);
  });

  it('the compose file validates against the Compose spec', () => {
    expect(composeErrors(compose)).toEqual([]);
  });

  it('each kind used has a schema, and every schema is used', () => {
    const used = new Set(manifests.map(({ doc }) => `${doc.apiVersion}/${doc.kind}`));
    for (const name of used) expect(validators.has(name), name).toBe(true);
    // A bundled kind no manifest uses is dead weight (Secrets are deliberately absent: none is inlined).
    for (const name of validators.keys()) expect(used.has(name), `bundled ${name} is used by a manifest`).toBe(true);
  });

  // One broken copy per schema file: the validator must say no.
  const broken: [string, string, (doc: Obj) => void][] = [
    [K8S_FILE, 'Deployment', (d) => (d.spec.template.spec.containers[0].livenessProb = d.spec.template.spec.containers[0].livenessProbe)],
    [K8S_FILE, 'Job', (d) => (d.spec.backoffLimit = 'six')],
    [K8S_FILE, 'Service', (d) => (d.spec.ports[0].port = '80/tcp')],
    ['strimzi-1.2.0.json', 'KafkaTopic', (d) => (d.spec.partitions = 'twelve')],
    ['strimzi-1.2.0.json', 'KafkaNodePool', (d) => (d.spec.roles = ['broker', 'zookeeper'])],
    ['strimzi-1.2.0.json', 'Kafka', (d) => (d.spec.kafka.listeners[0].tls = 'yes')],
    ['altinity-clickhouse-operator-0.25.6.json', 'ClickHouseInstallation', (d) => (d.spec.configuration.clusters[0].layout.shardsCount = 'two')],
    ['altinity-clickhouse-operator-0.25.6.json', 'ClickHouseKeeperInstallation', (d) => (d.spec.configuration.clusters[0].name = 'keeper_with_underscores')],
    ['keda-2.20.2.json', 'ScaledObject', (d) => (d.spec.maxReplicaCount = '12')],
    ['keda-2.20.2.json', 'TriggerAuthentication', (d) => delete d.spec.secretTargetRef[0].key],
  ];
  for (const [file, kind, breakIt] of broken) {
    it(`${file} rejects a broken ${kind}`, () => {
      const doc = clone(ofKind(kind)[0]!);
      expect(k8sErrors(doc)).toEqual([]);
      breakIt(doc);
      expect(k8sErrors(doc).length).toBeGreaterThan(0);
    });
  }

  it('compose-spec.json rejects a broken compose file', () => {
    const misspelt = clone(compose);
    misspelt.services['ingest-worker-1'].healthchek = misspelt.services['ingest-worker-1'].healthcheck;
    expect(composeErrors(misspelt).length).toBeGreaterThan(0);
    const badCondition = clone(compose);
    badCondition.services.migrate.depends_on['ch-s1r1'].condition = 'service_ready';
    expect(composeErrors(badCondition).length).toBeGreaterThan(0);
  });

  it('CRD validation is strict about unknown fields', () => {
    const doc = clone(ofKind('KafkaTopic')[0]!);
    doc.spec.replica = 3;
    expect(k8sErrors(doc).join()).toMatch(/additional properties/);
  });
});

// --- Kubernetes semantics ------------------------------------------------------------------------------------

/** Secrets and keys create-secrets.sh makes, plus the Strimzi cluster CA Secret. */
function secretsMade(): Map<string, Set<string>> {
  const made = new Map<string, Set<string>>();
  for (const m of read(`${K8S_DIR}create-secrets.sh`).matchAll(/^make ([a-z0-9-]+)((?: \\\n\s+--from-literal=[a-z0-9.-]+=\S+)+)/gm)) {
    made.set(m[1]!, new Set([...m[2]!.matchAll(/--from-literal=([a-z0-9.-]+)=/g)].map((k) => k[1]!)));
  }
  for (const kafka of ofKind('Kafka')) made.set(`${kafka.metadata.name}-cluster-ca-cert`, new Set(['ca.crt', 'ca.p12', 'ca.password']));
  return made;
}

function podSpecs(): { name: string; spec: Obj }[] {
  return [...ofKind('Deployment'), ...ofKind('Job')].map((d) => ({ name: `${d.kind}/${d.metadata.name}`, spec: d.spec.template.spec }));
}

describe('Kubernetes manifests', () => {
  const secrets = secretsMade();
  const configMaps = new Map(ofKind('ConfigMap').map((c) => [c.metadata.name as string, c.data as Obj]));

  it('create-secrets.sh makes the Secrets with keys', () => {
    expect([...secrets.keys()]).toEqual(expect.arrayContaining(['runstream-clickhouse', 'runstream-kafka-users', 'runstream-api']));
    expect(secrets.get('runstream-clickhouse')!.size).toBe(4);
  });

  it('no Secret is inlined', () => {
    expect(ofKind('Secret')).toEqual([]);
  });

  it('every Deployment has probes, resources, and runs as non-root without privilege escalation', () => {
    const deployments = ofKind('Deployment');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['runstream-ingest-worker', 'runstream-query-service']);
    for (const d of deployments) {
      const pod = d.spec.template.spec;
      expect(pod.securityContext.runAsNonRoot, d.metadata.name).toBe(true);
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      for (const c of pod.containers) {
        expect(c.livenessProbe, `${d.metadata.name} liveness`).toBeDefined();
        expect(c.readinessProbe, `${d.metadata.name} readiness`).toBeDefined();
        expect(c.resources.requests.cpu && c.resources.requests.memory, `${d.metadata.name} requests`).toBeTruthy();
        expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
        expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
      }
    }
  });

  it('every Secret and ConfigMap a pod uses exists, with the keys it reads', () => {
    const problems: string[] = [];
    const needSecret = (where: string, name: string, key?: string) => {
      if (!secrets.has(name)) problems.push(`${where}: Secret ${name} is made by nobody`);
      else if (key && !secrets.get(name)!.has(key)) problems.push(`${where}: Secret ${name} has no key ${key}`);
    };
    for (const { name, spec } of podSpecs()) {
      for (const c of spec.containers) {
        for (const e of c.envFrom ?? []) {
          if (e.configMapRef && !configMaps.has(e.configMapRef.name)) problems.push(`${name}: ConfigMap ${e.configMapRef.name} missing`);
          if (e.secretRef) needSecret(name, e.secretRef.name);
        }
        for (const e of c.env ?? []) {
          if (e.valueFrom?.secretKeyRef) needSecret(`${name} ${e.name}`, e.valueFrom.secretKeyRef.name, e.valueFrom.secretKeyRef.key);
          if (e.valueFrom?.configMapKeyRef && configMaps.get(e.valueFrom.configMapKeyRef.name)?.[e.valueFrom.configMapKeyRef.key] === undefined) {
            problems.push(`${name} ${e.name}: ConfigMap key missing`);
          }
        }
        for (const m of c.volumeMounts ?? []) if (!spec.volumes.some((v: Obj) => v.name === m.name)) problems.push(`${name}: volume ${m.name} missing`);
      }
      for (const v of spec.volumes ?? []) {
        if (v.secret) for (const item of v.secret.items ?? [{}]) needSecret(`${name} volume ${v.name}`, v.secret.secretName, item.key);
        if (v.persistentVolumeClaim && !ofKind('PersistentVolumeClaim').some((p) => p.metadata.name === v.persistentVolumeClaim.claimName)) {
          problems.push(`${name}: PersistentVolumeClaim ${v.persistentVolumeClaim.claimName} missing`);
        }
      }
      if (!ofKind('ServiceAccount').some((s) => s.metadata.name === spec.serviceAccountName)) problems.push(`${name}: ServiceAccount missing`);
    }
    for (const user of ofKind('KafkaUser')) {
      const ref = user.spec.authentication.password?.valueFrom.secretKeyRef;
      if (ref) needSecret(`KafkaUser/${user.metadata.name}`, ref.name, ref.key);
    }
    for (const auth of ofKind('TriggerAuthentication')) for (const ref of auth.spec.secretTargetRef) needSecret(`TriggerAuthentication/${auth.metadata.name}`, ref.name, ref.key);
    for (const chi of ofKind('ClickHouseInstallation')) {
      for (const [setting, value] of Object.entries(chi.spec.configuration.users as Obj)) {
        // k8s_secret_password* would read the operator's namespace and copy the password into a ConfigMap.
        if (/\/k8s_secret_/.test(setting)) problems.push(`ClickHouseInstallation ${setting}: use password.valueFrom.secretKeyRef`);
        if (/\/password/.test(setting) && typeof value === 'string') problems.push(`ClickHouseInstallation ${setting}: a password inline`);
        const ref = (value as Obj)?.valueFrom?.secretKeyRef;
        if (ref) needSecret(`ClickHouseInstallation ${setting}`, ref.name, ref.key);
      }
      const passwords = Object.keys(chi.spec.configuration.users).filter((k) => k.endsWith('/password'));
      if (passwords.length !== 3) problems.push(`ClickHouseInstallation: ${passwords.length} users with a password, expected 3`);
      for (const cluster of chi.spec.configuration.clusters) {
        const ref = cluster.secret?.valueFrom?.secretKeyRef;
        if (ref) needSecret(`ClickHouseInstallation cluster ${cluster.name}`, ref.name, ref.key);
      }
    }
    expect(problems).toEqual([]);
  });

  it('Kafka keeps 3 copies of everything and acknowledges at 2', () => {
    const [kafka] = ofKind('Kafka');
    const config = kafka!.spec.kafka.config;
    expect(config['default.replication.factor']).toBe(3);
    expect(config['min.insync.replicas']).toBe(2);
    expect(config['offsets.topic.replication.factor']).toBe(3);
    expect(config['transaction.state.log.replication.factor']).toBe(3);
    expect(config['transaction.state.log.min.isr']).toBe(2);
    const pools = ofKind('KafkaNodePool').filter((p) => p.metadata.labels['strimzi.io/cluster'] === kafka!.metadata.name);
    const nodes = (role: string) => pools.filter((p) => p.spec.roles.includes(role)).reduce((n, p) => n + p.spec.replicas, 0);
    expect(nodes('broker')).toBeGreaterThanOrEqual(3);
    expect(nodes('controller') % 2).toBe(1);
    const topics = ofKind('KafkaTopic');
    expect(topics.map((t) => t.spec.topicName).sort()).toEqual(
      ['datasets.v1', 'datasets.v1.dlq', 'metrics.v1', 'metrics.v1.dlq', 'tracking.v1', 'tracking.v1.dlq'].map((t) => `${configMaps.get('runstream-config')!.KAFKA_TOPIC_PREFIX}${t}`),
    );
    for (const t of topics) {
      expect(t.spec.replicas, t.metadata.name).toBe(3);
      expect(t.spec.config['min.insync.replicas'], t.metadata.name).toBe(2);
      expect(t.spec.partitions, t.metadata.name).toBe(Number(configMaps.get('runstream-config')!.KAFKA_TOPIC_PARTITIONS));
      expect(t.metadata.labels['strimzi.io/cluster']).toBe(kafka!.metadata.name);
    }
    // The services connect to the TLS listener's bootstrap service.
    const listener = kafka!.spec.kafka.listeners.find((l: Obj) => l.tls);
    expect(configMaps.get('runstream-config')!.KAFKA_BROKERS).toBe(`${kafka!.metadata.name}-kafka-bootstrap:${listener.port}`);
  });

  it('ClickHouse is 2 shards x 2 replicas on a 3-node Keeper the installation points at', () => {
    const [chi] = ofKind('ClickHouseInstallation');
    const [chk] = ofKind('ClickHouseKeeperInstallation');
    const [cluster] = chi!.spec.configuration.clusters;
    expect(cluster.layout).toEqual({ shardsCount: 2, replicasCount: 2 });
    expect(chk!.spec.configuration.clusters[0].layout.replicasCount).toBe(3);
    expect(chi!.spec.configuration.zookeeper.nodes).toEqual([{ host: `keeper-${chk!.metadata.name}`, port: 2181 }]);
    const cm = configMaps.get('runstream-config')!;
    expect(cm.CLICKHOUSE_URL).toBe(`http://clickhouse-${chi!.metadata.name}:8123`);
    // The operator's per-replica Services: chi-<installation>-<cluster>-<shard>-<replica>.
    const replicaUrls = Array.from({ length: cluster.layout.shardsCount }, (_, s) =>
      Array.from({ length: cluster.layout.replicasCount }, (_, r) => `http://chi-${chi!.metadata.name}-${cluster.name}-${s}-${r}:8123`).join(','),
    );
    expect(cm.CLICKHOUSE_SHARDS).toBe(replicaUrls.join(';'));
    expect(cm.CLICKHOUSE_CLUSTER).toBe(cluster.name);
    const [keeperCluster] = chk!.spec.configuration.clusters;
    const query = ofKind('Deployment').find((d) => d.metadata.name === 'runstream-query-service')!;
    const zookeeper = query.spec.template.spec.containers[0].env.find((e: Obj) => e.name === 'ZOOKEEPER_HOSTS').value;
    expect(zookeeper).toBe(Array.from({ length: keeperCluster.layout.replicasCount }, (_, r) => `chk-${chk!.metadata.name}-${keeperCluster.name}-0-${r}:2181`).join(','));
    // Each role's ClickHouse user exists in the installation.
    const users = Object.keys(chi!.spec.configuration.users).map((s) => s.split('/')[0]);
    for (const role of ['ADMIN', 'INGEST', 'QUERY']) expect(users).toContain(cm[`CLICKHOUSE_${role}_USER`]);
  });

  it('ports agree: probes and Services name container ports, and the env says the same port', () => {
    const byName = new Map(ofKind('Deployment').map((d) => [d.metadata.name as string, d]));
    for (const d of byName.values()) {
      const c = d.spec.template.spec.containers[0];
      const ports = new Map(c.ports.map((p: Obj) => [p.name, p.containerPort]));
      for (const probe of [c.livenessProbe, c.readinessProbe]) expect(ports.has(probe.httpGet.port), `${d.metadata.name} probe port`).toBe(true);
      const env = Object.fromEntries(c.env.filter((e: Obj) => 'value' in e).map((e: Obj) => [e.name, e.value]));
      const envPort = env.PORT ?? env.INGEST_METRICS_PORT;
      expect([...ports.values()], d.metadata.name).toContain(Number(envPort));
      expect(env.HOST ?? env.INGEST_METRICS_HOST).toBe('0.0.0.0');
    }
    for (const s of ofKind('Service')) {
      const target = [...byName.values()].find((d) => Object.entries(s.spec.selector).every(([k, v]) => d.spec.template.metadata.labels[k] === v));
      expect(target, `Service ${s.metadata.name} selects a Deployment`).toBeDefined();
      for (const p of s.spec.ports) expect(target!.spec.template.spec.containers[0].ports.map((cp: Obj) => cp.name)).toContain(p.targetPort);
    }
    for (const pdb of ofKind('PodDisruptionBudget')) {
      expect([...byName.values()].some((d) => Object.entries(pdb.spec.selector.matchLabels).every(([k, v]) => d.spec.template.metadata.labels[k] === v))).toBe(true);
    }
  });

  it('KEDA scales the worker Deployment on its group lag, never past the partition count', () => {
    const [scaled] = ofKind('ScaledObject');
    const worker = ofKind('Deployment').find((d) => d.metadata.name === scaled!.spec.scaleTargetRef.name);
    expect(worker).toBeDefined();
    const cm = configMaps.get('runstream-config')!;
    const partitions = new Map(ofKind('KafkaTopic').map((t) => [t.spec.topicName, t.spec.partitions]));
    expect(scaled!.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    expect(scaled!.spec.minReplicaCount).toBeLessThanOrEqual(scaled!.spec.maxReplicaCount);
    for (const trigger of scaled!.spec.triggers) {
      expect(trigger.type).toBe('kafka');
      expect(trigger.metadata.consumerGroup).toBe(cm.INGEST_GROUP_ID);
      expect(trigger.metadata.bootstrapServers).toBe(cm.KAFKA_BROKERS);
      expect(partitions.has(trigger.metadata.topic), trigger.metadata.topic).toBe(true);
      expect(scaled!.spec.maxReplicaCount).toBeLessThanOrEqual(partitions.get(trigger.metadata.topic));
      expect(ofKind('TriggerAuthentication').map((a) => a.metadata.name)).toContain(trigger.authenticationRef.name);
    }
    // Parameter names and values the KEDA 2.20.2 kafka scaler reads (pkg/scalers/kafka_scaler.go, kafkaMetadata):
    // the CRD types trigger metadata as a free string map, so a misspelt key would be silently ignored there.
    const metadataKeys = new Set(['bootstrapServers', 'consumerGroup', 'topic', 'partitionLimitation', 'lagThreshold', 'activationLagThreshold', 'offsetResetPolicy', 'allowIdleConsumers', 'excludePersistentLag', 'scaleToZeroOnInvalidOffset', 'limitToPartitionsWithLag', 'ensureEvenDistributionOfPartitions', 'version', 'tls', 'unsafeSsl', 'sasl']);
    const authKeys = new Set(['tls', 'ca', 'cert', 'key', 'keyPassword', 'sasl', 'username', 'password']);
    for (const trigger of scaled!.spec.triggers) {
      expect(Object.keys(trigger.metadata).filter((k) => !metadataKeys.has(k))).toEqual([]);
      expect(['latest', 'earliest']).toContain(trigger.metadata.offsetResetPolicy);
      expect(['enable', 'disable']).toContain(trigger.metadata.tls);
      expect(['none', 'plaintext', 'scram_sha256', 'scram_sha512']).toContain(trigger.metadata.sasl);
      expect(Number(trigger.metadata.lagThreshold)).toBeGreaterThan(0);
    }
    for (const auth of ofKind('TriggerAuthentication')) expect(auth.spec.secretTargetRef.map((r: Obj) => r.parameter).filter((p: string) => !authKeys.has(p))).toEqual([]);
    // The worker consumes every topic KEDA watches, under the same prefix.
    const topics = scaled!.spec.triggers.map((t: Obj) => t.metadata.topic).sort();
    expect(topics).toEqual(['datasets.v1', 'metrics.v1', 'tracking.v1'].map((t) => `${cm.KAFKA_TOPIC_PREFIX}${t}`));
  });

  it('the kustomization lists every manifest file and each image is a Dockerfile target', () => {
    const kustomization = parse(read(`${K8S_DIR}kustomization.yaml`)) as Obj;
    expect([...kustomization.resources].sort()).toEqual([...manifestFiles].sort());
    const targets = dockerTargets();
    for (const { name, spec } of podSpecs()) {
      for (const c of spec.containers) {
        const image = c.image.replace(/:.*$/, '');
        expect(kustomization.images.map((i: Obj) => i.name), name).toContain(image);
        expect(targets, name).toContain(image.replace(/^.*\//, ''));
      }
    }
  });
});

// --- configuration names -------------------------------------------------------------------------------------

/** Every environment variable a Runstream process reads (packages/config and services' *config*.ts). */
function configNames(): Set<string> {
  const files = ['packages/config/src/shared-config.ts', ...readdirSync(new URL('services/', ROOT)).flatMap((s) => {
    const dir = `services/${s}/src/`;
    return existsSync(new URL(dir, ROOT)) ? readdirSync(new URL(dir, ROOT)).filter((f) => /config.*\.ts$/.test(f) && !f.endsWith('.test.ts')).map((f) => dir + f) : [];
  })];
  const names = new Set<string>();
  for (const file of files) {
    const text = read(file);
    // Every variable is declared by a call whose first argument is its name: str('KAFKA_BROKERS', …), shardsSpec(…).
    for (const m of text.matchAll(/\b\w+\('([A-Z][A-Z0-9_]+)'/g)) names.add(m[1]!);
    for (const m of text.matchAll(/name: '([A-Z][A-Z0-9_]+)'/g)) names.add(m[1]!);
    for (const m of text.matchAll(/creds\('([A-Z]+)'/g)) names.add(`CLICKHOUSE_${m[1]}_USER`).add(`CLICKHOUSE_${m[1]}_PASSWORD`);
  }
  return names;
}

describe('configuration names', () => {
  const known = configNames();
  // Read by Node itself, not by Runstream's configuration.
  const node = new Set(['NODE_ENV', 'NODE_EXTRA_CA_CERTS']);

  it('finds the names the services read', () => {
    for (const name of ['KAFKA_BROKERS', 'CLICKHOUSE_INGEST_PASSWORD', 'CLICKHOUSE_SHARDS', 'CLICKHOUSE_CLUSTER', 'RUNSTREAM_API_TOKENS', 'INGEST_METRICS_PORT', 'HOST', 'PORT', 'ZOOKEEPER_HOSTS']) {
      expect(known).toContain(name);
    }
  });

  it('the Kubernetes manifests set only names the services read', () => {
    const used = [
      ...ofKind('ConfigMap').filter((c) => c.metadata.name === 'runstream-config').flatMap((c) => Object.keys(c.data)),
      ...podSpecs().flatMap(({ spec }) => spec.containers.flatMap((c: Obj) => (c.env ?? []).map((e: Obj) => e.name))),
    ];
    expect(used.filter((n) => !known.has(n) && !node.has(n))).toEqual([]);
  });

  it('the compose file sets only names the services read, and no secret', () => {
    const runstream = Object.entries(compose.services as Obj).filter(([, s]) => String(s.image).includes('${RUNSTREAM_REGISTRY'));
    expect(runstream.map(([n]) => n).sort()).toEqual(['ingest-worker-1', 'ingest-worker-2', 'migrate', 'query-service-1', 'query-service-2']);
    for (const [name, service] of runstream) {
      const names = Object.keys(service.environment);
      expect(names.filter((n) => !known.has(n) && !node.has(n)), name).toEqual([]);
    }
    for (const [name, service] of Object.entries(compose.services as Obj)) {
      const env = Array.isArray(service.environment) ? service.environment : Object.keys(service.environment ?? {});
      expect(env.filter((n: string) => /PASSWORD|TOKEN|SECRET/.test(n)), `${name} has a secret inline`).toEqual([]);
    }
  });
});

// --- compose semantics ---------------------------------------------------------------------------------------

describe('compose cluster', () => {
  const services = compose.services as Obj;
  const secretsScript = read('deploy/compose/make-secrets.sh');

  it('has 3 Kafka nodes with replication factor 3 and min ISR 2, and makes the topics that way', () => {
    const kafka = Object.entries(services).filter(([n]) => /^kafka-\d$/.test(n));
    expect(kafka).toHaveLength(3);
    const voters = kafka.map(([n, s]) => `${s.environment.KAFKA_NODE_ID}@${n}:9093`).join(',');
    for (const [name, s] of kafka) {
      const env = s.environment;
      expect(env.KAFKA_CONTROLLER_QUORUM_VOTERS, name).toBe(voters);
      expect(env.KAFKA_DEFAULT_REPLICATION_FACTOR).toBe('3');
      expect(env.KAFKA_MIN_INSYNC_REPLICAS).toBe('2');
      expect(env.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR).toBe('3');
      expect(env.KAFKA_TRANSACTION_STATE_LOG_MIN_ISR).toBe('2');
      expect(env.KAFKA_ADVERTISED_LISTENERS).toContain(`INTERNAL://${name}:9092`);
      expect(s.healthcheck).toBeDefined();
    }
    const create = services['kafka-topics'].command.join('\n');
    expect(create).toMatch(/--replication-factor 3 --config min\.insync\.replicas=2/);
    const partitions = /--partitions (\d+)/.exec(create)![1];
    expect(services['ingest-worker-1'].environment.KAFKA_TOPIC_PARTITIONS).toBe(partitions);
    expect(services['ingest-worker-1'].environment.KAFKA_BROKERS).toBe(kafka.map(([n]) => `${n}:9092`).join(','));
  });

  it('has 2 shards x 2 replicas that the remote_servers config and the macros agree on, on 3 Keeper nodes', () => {
    const ch = Object.entries(services).filter(([n]) => /^ch-s\dr\d$/.test(n));
    expect(ch).toHaveLength(4);
    const clusterXml = read('deploy/compose/clickhouse/config.d/cluster.xml');
    const shards = [...clusterXml.matchAll(/<shard>([\s\S]*?)<\/shard>/g)].map((m) => [...m[1]!.matchAll(/<host>([^<]+)<\/host>/g)].map((h) => h[1]));
    expect(shards).toEqual([['ch-s1r1', 'ch-s1r2'], ['ch-s2r1', 'ch-s2r2']]);
    for (const [name, s] of ch) {
      expect(s.environment.CH_REPLICA).toBe(name);
      expect(shards[Number(s.environment.CH_SHARD) - 1]).toContain(name);
      expect(s.healthcheck).toBeDefined();
    }
    const keepers = Object.keys(services).filter((n) => /^keeper-\d$/.test(n));
    expect(keepers).toHaveLength(3);
    expect([...clusterXml.matchAll(/<node><host>([^<]+)<\/host>/g)].map((m) => m[1])).toEqual(keepers);
    const keeperXml = read('deploy/compose/keeper/keeper.xml');
    expect([...keeperXml.matchAll(/<hostname>([^<]+)<\/hostname>/g)].map((m) => m[1])).toEqual(keepers);
  });

  it('every environment variable the ClickHouse configs read, and every env file, is made by make-secrets.sh', () => {
    const xml = read('deploy/compose/clickhouse/config.d/cluster.xml') + read('deploy/compose/clickhouse/users.d/runstream-users.xml');
    const fromEnv = new Set([...xml.matchAll(/from_env="([A-Z_]+)"/g)].map((m) => m[1]!));
    const perHost = new Set(['CH_SHARD', 'CH_REPLICA']);
    const clickhouseEnv = /cat > secrets\/clickhouse\.env <<ENV\n([\s\S]*?)\nENV/.exec(secretsScript)![1]!;
    for (const name of fromEnv) if (!perHost.has(name)) expect(clickhouseEnv, name).toContain(`${name}=`);
    for (const [name, s] of Object.entries(services)) {
      for (const f of s.env_file ?? []) expect(secretsScript, `${name}: ${f.path}`).toContain(f.path.replace(/^\.\//, '> '));
    }
    // The users the services log in as are the ones the servers define.
    const users = read('deploy/compose/clickhouse/users.d/runstream-users.xml');
    const env = services.migrate.environment;
    for (const role of ['ADMIN', 'INGEST', 'QUERY']) expect(users).toContain(`<${env[`CLICKHOUSE_${role}_USER`]}>`);
  });

  it('starts in order: migrations after every ClickHouse server and the topics, the services after both', () => {
    for (const n of ['ch-s1r1', 'ch-s1r2', 'ch-s2r1', 'ch-s2r2']) expect(services.migrate.depends_on[n].condition).toBe('service_healthy');
    for (const n of ['ingest-worker-1', 'ingest-worker-2', 'query-service-1', 'query-service-2']) {
      expect(services[n].depends_on.migrate.condition, n).toBe('service_completed_successfully');
      expect(services[n].depends_on['kafka-topics'].condition, n).toBe('service_completed_successfully');
      expect(services[n].healthcheck.test.join(' '), n).toMatch(/http-check\.ts http:\/\/127\.0\.0\.1:(\d+)\//);
      const port = /127\.0\.0\.1:(\d+)\//.exec(services[n].healthcheck.test.join(' '))![1];
      expect(services[n].environment.PORT ?? services[n].environment.INGEST_METRICS_PORT, n).toBe(port);
    }
  });

  it('the services find every shard replica, Keeper node and worker by the names compose gives them', () => {
    const clusterXml = read('deploy/compose/clickhouse/config.d/cluster.xml');
    const shards = [...clusterXml.matchAll(/<shard>([\s\S]*?)<\/shard>/g)].map((m) => [...m[1]!.matchAll(/<host>([^<]+)<\/host>/g)].map((h) => `http://${h[1]}:8123`).join(','));
    const clusterName = /<remote_servers[^>]*>\s*<(\w+)>/.exec(clusterXml)![1];
    const keepers = Object.keys(services).filter((n) => /^keeper-\d$/.test(n));
    const workers = Object.keys(services).filter((n) => /^ingest-worker-\d$/.test(n));
    expect(workers).toHaveLength(2);
    for (const n of [...workers, 'migrate', 'query-service-1', 'query-service-2']) {
      expect(services[n].environment.CLICKHOUSE_SHARDS, n).toBe(shards.join(';'));
      expect(services[n].environment.CLICKHOUSE_CLUSTER, n).toBe(clusterName);
    }
    for (const n of ['query-service-1', 'query-service-2']) {
      expect(services[n].environment.ZOOKEEPER_HOSTS).toBe(keepers.map((k) => `${k}:9181`).join(','));
      expect(services[n].environment.INGEST_WORKER_METRICS_URLS).toBe(workers.map((w) => `http://${w}:${services[w].environment.INGEST_METRICS_PORT}`).join(','));
    }
  });
});

// --- ClickHouse users, in compose and in Kubernetes ------------------------------------------------------------

/** Open and close tags balance (comments, declarations and self-closing tags aside): a cheap well-formedness check. */
function xmlProblems(xml: string): string[] {
  const stack: string[] = [];
  const problems: string[] = [];
  const text = xml.replace(/<!--[\s\S]*?-->/g, '').replace(/<\?[\s\S]*?\?>/g, '');
  for (const m of text.matchAll(/<(\/?)([A-Za-z_][\w.-]*)([^>]*?)(\/?)>/g)) {
    const [, closing, name, , selfClosing] = m;
    if (selfClosing) continue;
    if (!closing) stack.push(name!);
    else if (stack.pop() !== name) problems.push(`</${name}> closes nothing open at offset ${m.index}`);
  }
  if (stack.length > 0) problems.push(`unclosed: ${stack.join(', ')}`);
  if (/<(?![/!?A-Za-z_])/.test(text)) problems.push('a stray <');
  return problems;
}

describe('ClickHouse users', () => {
  it('the compose ClickHouse and Keeper configs are well-formed XML', () => {
    for (const file of ['deploy/compose/clickhouse/config.d/cluster.xml', 'deploy/compose/clickhouse/users.d/runstream-users.xml', 'deploy/compose/keeper/keeper.xml']) {
      expect(xmlProblems(read(file)), file).toEqual([]);
    }
    expect(xmlProblems('<a><b></a></b>').length).toBeGreaterThan(0);
    expect(xmlProblems('<a><b/>').length).toBeGreaterThan(0);
  });

  it('compose and Kubernetes give each role the same grants, and no role more than it needs', () => {
    const compose = composeGrants();
    expect([...compose.keys()].sort()).toEqual(['runstream_admin', 'runstream_ingest', 'runstream_query']);
    expect(installationGrants()).toEqual(compose);
    const all = (user: string) => compose.get(user)!.join('\n');
    expect(all('runstream_query')).not.toMatch(/INSERT|ALL|ALTER|CREATE|DROP/);
    expect(all('runstream_ingest')).not.toMatch(/\bALL\b|ALTER|CREATE|DROP|TRUNCATE/);
    expect(all('runstream_ingest')).not.toMatch(/INSERT[^\n]* ON runstream\./);
    // The default user is gone in compose (it has no password in the image).
    expect(read('deploy/compose/clickhouse/users.d/runstream-users.xml')).toMatch(/<default remove="remove"\/>/);
  });
});

// --- the image -----------------------------------------------------------------------------------------------

function dockerTargets(): string[] {
  return [...read('deploy/container/Dockerfile').matchAll(/^FROM \S+ AS (\S+)/gm)].map((m) => m[1]!);
}

describe('container image', () => {
  const dockerfile = read('deploy/container/Dockerfile');

  it('builds on Node 24 with production dependencies only and runs as a non-root user', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24[-.]/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    const users = [...dockerfile.matchAll(/^USER (\S+)/gm)].map((m) => m[1]);
    expect(users.at(-1)).toBe('1000:1000');
    expect(dockerfile).not.toMatch(/^(ENV|ARG)\s[^\n]*(PASSWORD|TOKEN|SECRET)/m);
    expect(dockerTargets()).toEqual(['manifests', 'deps', 'runtime', 'ingest-worker', 'query-service', 'migrate']);
  });

  it('every entry point and health check exists in the repository and the long-running targets have a HEALTHCHECK', () => {
    const sections = dockerfile.split(/^FROM /m).slice(1);
    for (const target of ['ingest-worker', 'query-service', 'migrate']) {
      const section = sections.find((s) => s.includes(` AS ${target}\n`))!;
      const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(section)![1]!) as string[];
      expect(cmd[0]).toBe('node');
      expect(existsSync(new URL(cmd[1]!, ROOT)), cmd[1]).toBe(true);
      const health = /^HEALTHCHECK ([\s\S]*?)(?:\n(?!\s))/m.exec(section)![1]!;
      if (target === 'migrate') expect(health.trim()).toBe('NONE');
      else {
        const script = /CMD node (\S+)/.exec(health)![1]!;
        expect(existsSync(new URL(script, ROOT)), script).toBe(true);
      }
    }
    // The files the runtime stage copies exist too.
    for (const m of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const src of m[1]!.split(' ')) if (src !== '.') expect(existsSync(new URL(src, ROOT)), src).toBe(true);
    }
  });

  it('.dockerignore keeps tests, local data and secrets out of the build context', () => {
    const ignore = read('.dockerignore').split('\n');
    for (const entry of ['**/node_modules', '.data', '**/*.test.ts', 'deploy/compose', '**/secrets']) expect(ignore).toContain(entry);
  });
});
