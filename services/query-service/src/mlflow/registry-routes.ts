// MLflow's model registry subset: registered models and model versions. A version records the run that produced
// it, so its params, inputs and metrics are one lookup away (see the native /api/v1/models routes).
import type { FastifyRequest } from 'fastify';
import { loggedModels, modelVersions, queryRows, registeredModels, runsByIds, sql, type ClickHouse, type ModelVersionRow, type RegisteredModelRow } from '@runstream/clickhouse';
import type { NewEvent, TrackingWriter } from '@runstream/tracking';
import type { PartitionStamp } from './run-state-cache.ts';
import { decodePageToken, encodePageToken } from '../page-token.ts';
import { MlflowError, invalid, notFound } from './mlflow-errors.ts';
import { int64, keyValuesFromJson, requiredString } from './mlflow-values.ts';
import { matchesFilter, NUMBER_OPS, orderComparator, parseEntityFilter, parseOrderBy, STRING_OPS, type Clause, type FilterGrammar } from './entity-filter.ts';

type Body = Record<string, unknown>;
export type RouteFn = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, scope: 'read' | 'write', summary: string, handler: (req: FastifyRequest, input: Body) => Promise<object>) => void;

function tagsJson(v: unknown): string {
  if (v === undefined || v === null) return '[]';
  if (!Array.isArray(v)) throw invalid("Invalid value for parameter 'tags': an array of {key, value} expected");
  return JSON.stringify(v.map((t: Body) => ({ key: requiredString(t.key, 'tags.key'), value: t.value === undefined ? '' : String(t.value) })));
}

interface Alias {
  alias: string;
  version: string;
}

function aliasesOf(m: RegisteredModelRow): Alias[] {
  try {
    const v = JSON.parse(m.aliasesJson || '[]') as unknown;
    return Array.isArray(v) ? (v as Alias[]) : [];
  } catch {
    return [];
  }
}

type KeyValue = { key: string; value: string };
const tagsOf = (json: string): KeyValue[] => keyValuesFromJson(json) as KeyValue[];

/** Sets (or with value undefined removes) one tag in a tags JSON array. */
function withTag(json: string, key: string, value: string | undefined): string {
  const tags = tagsOf(json).filter((t) => t.key !== key);
  if (value !== undefined) tags.push({ key, value });
  return JSON.stringify(tags);
}

// MLflow's stages; requests name them in any case, responses in this spelling.
const STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;
export function canonicalStage(stage: unknown): string {
  const found = STAGES.find((s) => s.toLowerCase() === String(stage ?? '').toLowerCase());
  if (!found) throw invalid(`Invalid Model Version stage: ${String(stage)}. Value must be one of ${STAGES.join(', ')}.`);
  return found;
}

/** MLflow's rule for registered model names: not empty, no '/' or ':', and a path that does not resolve elsewhere. */
export function modelNameProblem(name: string): string | undefined {
  if (name.trim() === '') return "Missing value for required parameter 'name'.";
  if (name.includes('/') || name.includes(':')) return `Invalid model name '${name}'. Names cannot contain '/' or ':'.`;
  // eslint-disable-next-line no-control-regex
  if (name.length > 256 || /[\u0000-\u001f]/.test(name)) return 'Registered model name must be at most 256 characters without control characters';
  return undefined;
}

function modelName(v: unknown, field = 'name'): string {
  const name = requiredString(v, field);
  const problem = modelNameProblem(name);
  if (problem) throw invalid(problem);
  return name;
}

export function aliasProblem(alias: string): string | undefined {
  if (alias === '') return 'Registered model alias name cannot be empty.';
  if (!/^[\w-]*$/.test(alias)) return `Invalid alias name: '${alias}'. Names may only contain alphanumerics, underscores (_), and dashes (-).`;
  if (alias.length > 255) return 'Registered model alias name exceeds the maximum length of 255';
  if (alias.toLowerCase() === 'latest') return "'latest' alias name (case insensitive) is reserved.";
  if (/^[vV]\d+$/.test(alias)) return `Version alias name '${alias}' is reserved.`;
  return undefined;
}

function versionNumber(v: unknown): string {
  const text = String(v ?? '');
  if (!/^-?\d+$/.test(text.trim())) throw invalid(`Parameter 'version' must be an integer, got '${text}'.`);
  return String(Number(text.trim()));
}

export function modelVersionJson(v: ModelVersionRow, aliases: Alias[] = []) {
  return {
    name: v.name,
    version: v.version,
    creation_timestamp: v.creationTimeMs,
    last_updated_timestamp: v.lastUpdateTimeMs,
    user_id: v.userId,
    current_stage: v.stage,
    description: v.description,
    source: v.source,
    run_id: v.runId,
    status: v.status,
    tags: keyValuesFromJson(v.tagsJson),
    aliases: aliases.filter((a) => a.version === v.version).map((a) => a.alias),
    ...(v.modelId ? { model_id: v.modelId } : {}),
  };
}

function registeredModelJson(m: RegisteredModelRow, versions: ModelVersionRow[]) {
  // MLflow's latest_versions: the newest version per stage.
  const latest = new Map<string, ModelVersionRow>();
  for (const v of versions) if (Number(v.version) > Number(latest.get(v.stage)?.version ?? 0)) latest.set(v.stage, v);
  const aliases = aliasesOf(m);
  return {
    name: m.name,
    creation_timestamp: m.creationTimeMs,
    last_updated_timestamp: m.lastUpdateTimeMs,
    description: m.description,
    latest_versions: [...latest.values()].sort((a, b) => Number(a.version) - Number(b.version)).map((v) => modelVersionJson(v, aliases)),
    tags: keyValuesFromJson(m.tagsJson),
    aliases,
  };
}

const PROMPT_TAG = 'mlflow.prompt.is_prompt';

/**
 * MLflow keeps prompts (registered models tagged mlflow.prompt.is_prompt = 'true') out of model searches unless
 * the filter asks for them; the client always appends `tags.`mlflow.prompt.is_prompt` != 'true'`.
 */
function promptClauses(clauses: Clause[]): { rest: Clause[]; prompts: boolean } {
  const prompt = clauses.find((c) => c.kind === 'tag' && c.key === PROMPT_TAG);
  const value = typeof prompt?.value === 'string' ? prompt.value.toLowerCase() : '';
  const prompts = prompt !== undefined && ((prompt.op === '=' && value === 'true') || (prompt.op === '!=' && value === 'false'));
  return { rest: clauses.filter((c) => !(c.kind === 'tag' && c.key === PROMPT_TAG)), prompts };
}

const isPrompt = (tagsJsonText: string) => tagsOf(tagsJsonText).some((t) => t.key === PROMPT_TAG && t.value.toLowerCase() === 'true');

const MODEL_FILTER: FilterGrammar = { attributes: { name: { type: 'string', ops: ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'] } }, tagOps: STRING_OPS };
const VERSION_FILTER: FilterGrammar = {
  attributes: {
    name: { type: 'string', ops: ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'] },
    run_id: { type: 'string', ops: ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'] },
    source_path: { type: 'string', ops: STRING_OPS },
    version_number: { type: 'number', ops: NUMBER_OPS },
  },
  tagOps: STRING_OPS,
};
const MODEL_ORDER = { name: 'name', timestamp: 'last_updated_timestamp', last_updated_timestamp: 'last_updated_timestamp' };
const VERSION_ORDER = { name: 'name', version_number: 'version_number', creation_timestamp: 'creation_timestamp', last_updated_timestamp: 'last_updated_timestamp' };

/** Offset page tokens, as MLflow's registry uses. */
function pageOffset(token: unknown): number {
  if (!token) return 0;
  return decodePageToken(String(token), (v): v is number => Number.isSafeInteger(v) && (v as number) >= 0);
}

// Every registered model is read for a search: registries hold hundreds to thousands of names, not millions.
const MODEL_SCAN_LIMIT = 100_000;
const VERSION_SCAN_LIMIT = 1_000_000;

export interface RegistryDeps {
  ch: ClickHouse;
  writer: TrackingWriter;
  actorOf: (req: FastifyRequest) => string;
  /** Runs a check-then-append alone per key, against every acknowledged tracking write (mlflow-routes.ts). */
  checked: <T>(key: string, fn: () => Promise<T>) => Promise<T>;
  /** An entity key's tracking partition and its high watermark, fetched after the call. */
  stampOf: (key: string) => Promise<PartitionStamp>;
  /** Waits until everything below the stamp is stored. */
  storedThrough: (stamp: PartitionStamp) => Promise<void>;
}

export function registerRegistryRoutes(route: RouteFn, deps: RegistryDeps): void {
  const { ch, writer } = deps;
  const modelKey = (name: string) => `MODEL:${name}`;

  async function getModel(name: string): Promise<RegisteredModelRow> {
    const [m] = await registeredModels(ch, { name, limit: 1 });
    if (!m) throw notFound(`Registered Model with name=${name} not found`);
    return m;
  }

  async function getVersion(name: string, version: string): Promise<ModelVersionRow> {
    const [v] = await modelVersions(ch, { names: [name], version });
    if (!v) throw notFound(`Model Version (name=${name}, version=${version}) not found`);
    return v;
  }

  /** Appends the new state of a model and of some of its versions (one partition, in order). */
  async function save(req: FastifyRequest, name: string, model: RegisteredModelRow | undefined, versions: ModelVersionRow[] = []): Promise<void> {
    const events: NewEvent[] = [
      ...versions.map((v): NewEvent => ({ eventType: 'MODEL_VERSION_UPSERTED', modelVersion: v })),
      ...(model ? [{ eventType: 'REGISTERED_MODEL_UPSERTED', registeredModel: model } as NewEvent] : []),
    ];
    await writer.emit(modelKey(name), deps.actorOf(req), events);
  }

  /** A change of a model: read and written alone per model name. */
  const changeModel = <T>(name: string, fn: (m: RegisteredModelRow) => Promise<T>): Promise<T> => deps.checked(`model:${name}`, async () => fn(await getModel(name)));

  route('POST', 'registered-models/create', 'write', 'Register a model name', async (req, b) => {
    const name = modelName(b.name);
    return deps.checked(`model:${name}`, async () => {
      if ((await registeredModels(ch, { name, limit: 1 })).length > 0) throw new MlflowError('RESOURCE_ALREADY_EXISTS', `Registered Model (name=${name}) already exists.`);
      const now = Date.now();
      const state: RegisteredModelRow = { name, description: typeof b.description === 'string' ? b.description : '', creationTimeMs: now, lastUpdateTimeMs: now, tagsJson: tagsJson(b.tags), aliasesJson: '[]', deleted: false };
      await save(req, name, state);
      return { registered_model: registeredModelJson(state, []) };
    });
  });

  route('GET', 'registered-models/get', 'read', 'Get a registered model', async (_req, q) => {
    const m = await getModel(requiredString(q.name, 'name'));
    return { registered_model: registeredModelJson(m, await modelVersions(ch, { names: [m.name] })) };
  });

  route('PATCH', 'registered-models/update', 'write', "Update a registered model's description", async (req, b) =>
    changeModel(requiredString(b.name, 'name'), async (m) => {
      const next = { ...m, description: typeof b.description === 'string' ? b.description : m.description, lastUpdateTimeMs: Date.now() };
      await save(req, m.name, next);
      return { registered_model: registeredModelJson(next, await modelVersions(ch, { names: [m.name] })) };
    }),
  );

  route('POST', 'registered-models/rename', 'write', 'Rename a registered model (its versions and aliases move with it)', async (req, b) => {
    const name = requiredString(b.name, 'name');
    const newName = modelName(b.new_name, 'new_name');
    if (newName === name) return { registered_model: registeredModelJson(await getModel(name), await modelVersions(ch, { names: [name] })) };
    // Both names are locked, always in the same order, so two renames in opposite directions cannot wait on each other.
    const [first, second] = [name, newName].sort();
    return deps.checked(`model:${first}`, () =>
      deps.checked(`model:${second}`, async () => {
        const m = await getModel(name);
        if ((await registeredModels(ch, { name: newName, limit: 1 })).length > 0) throw new MlflowError('RESOURCE_ALREADY_EXISTS', `Registered Model (name=${newName}) already exists.`);
        const versions = await modelVersions(ch, { names: [name], includeDeleted: true });
        const now = Date.now();
        const renamed = { ...m, name: newName, lastUpdateTimeMs: now };
        // The new name first, so the model is never missing under both names; then the old name is retired.
        await save(req, newName, renamed, versions.map((v) => ({ ...v, name: newName })));
        await save(req, name, { ...m, deleted: true, lastUpdateTimeMs: now }, versions.map((v) => ({ ...v, deleted: true })));
        return { registered_model: registeredModelJson(renamed, versions.filter((v) => !v.deleted).map((v) => ({ ...v, name: newName }))) };
      }),
    );
  });

  route('DELETE', 'registered-models/delete', 'write', 'Delete a registered model and its versions', async (req, b) =>
    changeModel(requiredString(b.name, 'name'), async (m) => {
      const versions = await modelVersions(ch, { names: [m.name] });
      await save(req, m.name, { ...m, deleted: true, lastUpdateTimeMs: Date.now() }, versions.map((v) => ({ ...v, deleted: true })));
      return {};
    }),
  );

  route('POST', 'registered-models/set-tag', 'write', 'Set a tag of a registered model', async (req, b) => {
    const key = requiredString(b.key, 'key');
    const value = b.value === undefined || b.value === null ? '' : String(b.value);
    return changeModel(requiredString(b.name, 'name'), async (m) => {
      await save(req, m.name, { ...m, tagsJson: withTag(m.tagsJson, key, value) });
      return {};
    });
  });

  route('DELETE', 'registered-models/delete-tag', 'write', 'Delete a tag of a registered model', async (req, b) => {
    const key = requiredString(b.key, 'key');
    return changeModel(requiredString(b.name, 'name'), async (m) => {
      if (!tagsOf(m.tagsJson).some((t) => t.key === key)) throw notFound(`No tag with name: ${key} in registered model ${m.name}`);
      await save(req, m.name, { ...m, tagsJson: withTag(m.tagsJson, key, undefined) });
      return {};
    });
  });

  route('POST', 'registered-models/alias', 'write', 'Point an alias of a registered model at a version', async (req, b) => {
    const alias = String(b.alias ?? '');
    const problem = aliasProblem(alias);
    if (problem) throw invalid(problem);
    const version = versionNumber(b.version);
    return changeModel(requiredString(b.name, 'name'), async (m) => {
      await getVersion(m.name, version);
      const aliases = aliasesOf(m).filter((a) => a.alias !== alias);
      aliases.push({ alias, version });
      await save(req, m.name, { ...m, aliasesJson: JSON.stringify(aliases), lastUpdateTimeMs: Date.now() });
      return {};
    });
  });

  route('DELETE', 'registered-models/alias', 'write', 'Delete an alias of a registered model', async (req, b) => {
    const alias = requiredString(b.alias, 'alias');
    return changeModel(requiredString(b.name, 'name'), async (m) => {
      const aliases = aliasesOf(m);
      if (aliases.some((a) => a.alias === alias)) await save(req, m.name, { ...m, aliasesJson: JSON.stringify(aliases.filter((a) => a.alias !== alias)), lastUpdateTimeMs: Date.now() });
      return {};
    });
  });

  route('GET', 'registered-models/alias', 'read', 'The model version an alias points at', async (_req, q) => {
    const alias = requiredString(q.alias, 'alias');
    const m = await getModel(requiredString(q.name, 'name'));
    const aliases = aliasesOf(m);
    const target = aliases.find((a) => a.alias === alias);
    if (!target) throw notFound(`Registered model alias ${alias} not found.`);
    return { model_version: modelVersionJson(await getVersion(m.name, target.version), aliases) };
  });

  const search = async (_req: FastifyRequest, q: Body) => {
    const maxResults = int64(q.max_results, 'max_results', 100);
    if (maxResults < 1 || maxResults > 1000) throw invalid(`Invalid value for request parameter max_results. It must be at most 1000, but got value ${maxResults}`);
    const { rest, prompts } = promptClauses(parseEntityFilter(typeof q.filter === 'string' ? q.filter : undefined, MODEL_FILTER));
    const order = parseOrderBy(q.order_by, MODEL_ORDER);
    if (!order.some((t) => t.key === 'name')) order.push({ key: 'name', ascending: true });
    const offset = pageOffset(q.page_token);
    const matching = (await registeredModels(ch, { limit: MODEL_SCAN_LIMIT }))
      .filter((m) => isPrompt(m.tagsJson) === prompts)
      .filter((m) => matchesFilter(rest, () => m.name, new Map(tagsOf(m.tagsJson).map((t) => [t.key, t.value]))))
      .sort(orderComparator(order, (m, key) => (key === 'name' ? m.name : m.lastUpdateTimeMs)));
    const page = matching.slice(offset, offset + maxResults);
    const versions = await modelVersions(ch, { names: page.map((r) => r.name) });
    return {
      registered_models: page.map((r) => registeredModelJson(r, versions.filter((v) => v.name === r.name))),
      ...(offset + maxResults < matching.length ? { next_page_token: encodePageToken(offset + maxResults) } : {}),
    };
  };
  route('GET', 'registered-models/search', 'read', "Search registered models (MLflow's filter: name, tags; order_by; paged)", search);
  route('POST', 'registered-models/search', 'read', "Search registered models (MLflow's filter: name, tags; order_by; paged)", search);

  route('POST', 'model-versions/create', 'write', 'Create a version of a registered model (linked to the run or logged model that produced it)', async (req, b) => {
    const name = requiredString(b.name, 'name');
    const source = requiredString(b.source, 'source');
    // A version made from an MLflow 3 logged model (log_model(registered_model_name=…)) keeps the model's run.
    const modelId = typeof b.model_id === 'string' && b.model_id ? b.model_id : (/^models:\/(m-[^/]+)$/.exec(source)?.[1] ?? '');
    let runId = typeof b.run_id === 'string' ? b.run_id : '';
    if (modelId && !runId) {
      const [logged] = await loggedModels(ch, { ids: [modelId], includeDeleted: true, limit: 1 });
      if (!logged && typeof b.model_id === 'string' && b.model_id) throw notFound(`Logged model with ID '${modelId}' not found.`);
      runId = logged?.sourceRunId ?? '';
    }
    if (runId && (await runsByIds(ch, [runId])).length === 0) throw notFound(`Run with id=${runId} not found`);
    return deps.checked(`model:${name}`, async () => {
      const model = await getModel(name);
      const key = modelKey(model.name);
      // Versions are numbered per model, and every event of a model lands in one partition, in one order. The next
      // number is read with everything before the partition's high watermark stored; if nothing else landed there
      // before this append, the number is certainly free. Otherwise another instance may have taken the same number
      // at the same moment: the first in Kafka order keeps it, the other puts the first's version back on top of
      // its own and takes the next number. Deleted versions keep their numbers; versions of an earlier model of the
      // same name (deleted or renamed away) were created before this model and do not count.
      for (let attempt = 1; ; attempt++) {
        const stamp = await deps.stampOf(key);
        await deps.storedThrough(stamp);
        const existing = (await modelVersions(ch, { names: [model.name], includeDeleted: true })).filter((v) => v.creationTimeMs >= model.creationTimeMs);
        const version = String(existing.reduce((max, v) => Math.max(max, Number(v.version) || 0), 0) + 1);
        const now = Date.now();
        const state: ModelVersionRow = {
          name: model.name,
          version,
          source,
          runId,
          description: typeof b.description === 'string' ? b.description : '',
          status: 'READY',
          stage: 'None',
          creationTimeMs: now,
          lastUpdateTimeMs: now,
          tagsJson: tagsJson(b.tags),
          modelId,
          userId: deps.actorOf(req),
          deleted: false,
        };
        const events: NewEvent[] = [{ eventType: 'MODEL_VERSION_UPSERTED', modelVersion: state }, { eventType: 'REGISTERED_MODEL_UPSERTED', registeredModel: { ...model, lastUpdateTimeMs: now } }];
        const receipt = await writer.emit(key, deps.actorOf(req), events);
        if (!receipt || receipt.firstOffset === stamp.end) return { model_version: modelVersionJson(state) };
        await deps.storedThrough({ partition: receipt.partition, end: receipt.lastOffset + 1 });
        const rival = await earlierVersionClaim(ch, model.name, version, receipt.partition, stamp.end, receipt.firstOffset);
        if (!rival) return { model_version: modelVersionJson(state) };
        if (attempt >= 5) throw new MlflowError('RESOURCE_ALREADY_EXISTS', `Model version numbers of ${model.name} are contended; retry`);
        await writer.emit(key, deps.actorOf(req), [{ eventType: 'MODEL_VERSION_UPSERTED', modelVersion: rival }]);
      }
    });
  });

  route('GET', 'model-versions/get', 'read', 'Get a model version', async (_req, q) => {
    const name = requiredString(q.name, 'name');
    const v = await getVersion(name, versionNumber(requiredString(String(q.version ?? ''), 'version')));
    const [m] = await registeredModels(ch, { name, limit: 1 });
    return { model_version: modelVersionJson(v, m ? aliasesOf(m) : []) };
  });

  /** A change of one version (and possibly its model): alone per model name. */
  const changeVersion = <T>(b: Body, fn: (m: RegisteredModelRow, v: ModelVersionRow) => Promise<T>): Promise<T> => {
    const name = requiredString(b.name, 'name');
    const version = versionNumber(requiredString(b.version === undefined ? undefined : String(b.version), 'version'));
    return changeModel(name, async (m) => fn(m, await getVersion(name, version)));
  };

  route('PATCH', 'model-versions/update', 'write', "Update a model version's description", async (req, b) =>
    changeVersion(b, async (m, v) => {
      const next = { ...v, description: typeof b.description === 'string' ? b.description : v.description, lastUpdateTimeMs: Date.now() };
      await save(req, m.name, undefined, [next]);
      return { model_version: modelVersionJson(next, aliasesOf(m)) };
    }),
  );

  route('POST', 'model-versions/transition-stage', 'write', 'Move a model version to a stage (None, Staging, Production, Archived)', async (req, b) => {
    const stage = canonicalStage(requiredString(b.stage, 'stage'));
    const archive = b.archive_existing_versions === true || String(b.archive_existing_versions).toLowerCase() === 'true';
    if (archive && stage !== 'Staging' && stage !== 'Production') {
      throw invalid(`Model version transition cannot archive existing model versions because '${stage}' is not an Active stage. Valid stages are Staging, Production`);
    }
    return changeVersion(b, async (m, v) => {
      const now = Date.now();
      const next = { ...v, stage, lastUpdateTimeMs: now };
      const archived = archive ? (await modelVersions(ch, { names: [m.name] })).filter((o) => o.version !== v.version && o.stage === stage).map((o) => ({ ...o, stage: 'Archived', lastUpdateTimeMs: now })) : [];
      await save(req, m.name, { ...m, lastUpdateTimeMs: now }, [next, ...archived]);
      return { model_version: modelVersionJson(next, aliasesOf(m)) };
    });
  });

  route('DELETE', 'model-versions/delete', 'write', 'Delete a model version (its number is not reused; its aliases go)', async (req, b) =>
    changeVersion(b, async (m, v) => {
      const now = Date.now();
      const aliases = aliasesOf(m).filter((a) => a.version !== v.version);
      await save(req, m.name, { ...m, aliasesJson: JSON.stringify(aliases), lastUpdateTimeMs: now }, [{ ...v, deleted: true, lastUpdateTimeMs: now }]);
      return {};
    }),
  );

  route('POST', 'model-versions/set-tag', 'write', 'Set a tag of a model version', async (req, b) => {
    const key = requiredString(b.key, 'key');
    const value = b.value === undefined || b.value === null ? '' : String(b.value);
    return changeVersion(b, async (m, v) => {
      await save(req, m.name, undefined, [{ ...v, tagsJson: withTag(v.tagsJson, key, value) }]);
      return {};
    });
  });

  route('DELETE', 'model-versions/delete-tag', 'write', 'Delete a tag of a model version', async (req, b) => {
    const key = requiredString(b.key, 'key');
    return changeVersion(b, async (m, v) => {
      if (!tagsOf(v.tagsJson).some((t) => t.key === key)) throw notFound(`No tag with name: ${key} in model version ${m.name} version ${v.version}`);
      await save(req, m.name, undefined, [{ ...v, tagsJson: withTag(v.tagsJson, key, undefined) }]);
      return {};
    });
  });

  route('GET', 'model-versions/get-download-uri', 'read', "Where a model version's artifacts are", async (_req, q) => {
    const v = await getVersion(requiredString(q.name, 'name'), versionNumber(requiredString(q.version === undefined ? undefined : String(q.version), 'version')));
    return { artifact_uri: await downloadUri(v, 0) };
  });

  /** MLflow's storage location: a logged model's artifact location for models:/<model_id>, a version's for models:/<name>/<version>. */
  async function downloadUri(v: ModelVersionRow, depth: number): Promise<string> {
    const id = /^models:\/(m-[^/]+)$/.exec(v.source)?.[1] ?? (v.source.startsWith('models:/') ? undefined : '');
    if (id === '') return v.source;
    if (id) {
      const [logged] = await loggedModels(ch, { ids: [id], includeDeleted: true, limit: 1 });
      return logged?.artifactUri ?? v.source;
    }
    const ref = /^models:\/([^/]+)\/(\d+)$/.exec(v.source);
    if (!ref || depth > 5) return v.source;
    const [inner] = await modelVersions(ch, { names: [ref[1]!], version: ref[2]! });
    return inner ? downloadUri(inner, depth + 1) : v.source;
  }

  const searchVersions = async (_req: FastifyRequest, q: Body) => {
    const maxResults = int64(q.max_results, 'max_results', 10_000);
    if (maxResults < 1) throw invalid(`Invalid value for max_results. It must be a positive integer, but got ${maxResults}`);
    if (maxResults > 200_000) throw invalid(`Invalid value for request parameter max_results. It must be at most 200000, but got value ${maxResults}`);
    const { rest, prompts } = promptClauses(parseEntityFilter(typeof q.filter === 'string' ? q.filter : undefined, VERSION_FILTER));
    const order = parseOrderBy(q.order_by, VERSION_ORDER);
    if (order.length === 0) order.push({ key: 'last_updated_timestamp', ascending: false });
    if (!order.some((t) => t.key === 'name')) order.push({ key: 'name', ascending: true });
    if (!order.some((t) => t.key === 'version_number')) order.push({ key: 'version_number', ascending: false });
    const offset = pageOffset(q.page_token);
    const byName = rest.find((c) => c.kind === 'attribute' && c.key === 'name' && (c.op === '=' || c.op === 'IN'));
    const names = byName ? (Array.isArray(byName.value) ? byName.value : [String(byName.value)]) : undefined;
    const models = await registeredModels(ch, { limit: MODEL_SCAN_LIMIT });
    const promptNames = new Set(models.filter((m) => isPrompt(m.tagsJson)).map((m) => m.name));
    const aliases = new Map(models.map((m) => [m.name, aliasesOf(m)]));
    const field = (v: ModelVersionRow, key: string): string | number =>
      key === 'name' ? v.name : key === 'run_id' ? v.runId : key === 'source_path' ? v.source : key === 'version_number' ? Number(v.version) : key === 'creation_timestamp' ? v.creationTimeMs : v.lastUpdateTimeMs;
    const matching = (await modelVersions(ch, { ...(names ? { names } : {}), limit: VERSION_SCAN_LIMIT }))
      .filter((v) => promptNames.has(v.name) === prompts)
      .filter((v) => matchesFilter(rest, (key) => field(v, key), new Map(tagsOf(v.tagsJson).map((t) => [t.key, t.value]))))
      .sort(orderComparator(order, field));
    const page = matching.slice(offset, offset + maxResults);
    return {
      model_versions: page.map((v) => modelVersionJson(v, aliases.get(v.name))),
      ...(offset + maxResults < matching.length ? { next_page_token: encodePageToken(offset + maxResults) } : {}),
    };
  };
  route('GET', 'model-versions/search', 'read', "Search model versions (MLflow's filter: name, run_id, source_path, version_number, tags; order_by; paged)", searchVersions);
  route('POST', 'model-versions/search', 'read', "Search model versions (MLflow's filter: name, run_id, source_path, version_number, tags; order_by; paged)", searchVersions);

  const latestVersions = async (_req: FastifyRequest, b: Body) => {
    const model = await getModel(requiredString(b.name, 'name'));
    const raw = Array.isArray(b.stages) ? b.stages : b.stages === undefined || b.stages === null || b.stages === '' ? [] : [b.stages];
    const stages = raw.map(canonicalStage);
    const latest = registeredModelJson(model, await modelVersions(ch, { names: [model.name] })).latest_versions;
    return { model_versions: stages.length > 0 ? latest.filter((v) => stages.includes(v.current_stage)) : latest };
  };
  route('POST', 'registered-models/get-latest-versions', 'read', 'Latest version of a model per stage', latestVersions);
  route('GET', 'registered-models/get-latest-versions', 'read', 'Latest version of a model per stage', latestVersions);
}

/**
 * The latest state of `name` version `version` written by someone else, if another writer created that version in
 * the partition between `from` and `before` (offsets): the version this writer must give back.
 */
async function earlierVersionClaim(ch: ClickHouse, name: string, version: string, partition: number, from: number, before: number) {
  const rows = await queryRows<Record<string, string>>(
    ch,
    sql`SELECT model_version, model_source, run_id, description, status, model_stage, creation_time_ms, last_update_ms, tags_json, model_id, user_id, deleted
        FROM tracking_events_v1
        WHERE event_type = 'MODEL_VERSION_UPSERTED' AND model_name = ${name} AND model_version = ${version} AND src_partition = ${partition}
          AND src_offset >= ${from} AND src_offset < ${before}
        ORDER BY src_offset DESC LIMIT 1`,
  );
  const [r] = rows;
  if (!r) return undefined;
  return {
    name,
    version: r.model_version!,
    source: r.model_source!,
    runId: r.run_id!,
    description: r.description!,
    status: r.status!,
    stage: r.model_stage!,
    creationTimeMs: Number(r.creation_time_ms),
    lastUpdateTimeMs: Number(r.last_update_ms),
    tagsJson: r.tags_json!,
    modelId: r.model_id!,
    userId: r.user_id!,
    deleted: Number(r.deleted) === 1,
  };
}
