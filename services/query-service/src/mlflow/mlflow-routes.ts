// MLflow-compatible tracking REST API under /api/2.0/mlflow/ (and /ajax-api/2.0/mlflow/), so MLflow clients
// pointed at Runstream (MLFLOW_TRACKING_URI) work unchanged. Request and response shapes, error codes, HTTP
// statuses and limits follow MLflow. Writes are acknowledged once Kafka has them; every read waits (only if the
// ingest worker is behind) until the writes acknowledged before it are readable, so MLflow's read-your-writes holds
// across instances. What is validated when, and how racing writes resolve: services/query-service/README.md.
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  allExperiments,
  experimentById,
  experimentByName,
  RUN_LATEST,
  toRunRow,
  floatFromBits,
  latestMetrics,
  loggedModels,
  metricHistory,
  queryRows,
  runInputs,
  runInputsOf,
  runParams,
  runsByIds,
  runTags,
  sql,
  type ClickHouse,
  type ExperimentRow,
  type HistoryCursor,
  type RunRow,
} from '@runstream/clickhouse';
import type { TrackingWriter, NewEvent, ReadFence, FenceScope } from '@runstream/tracking';
import { NotYetVisibleError } from '@runstream/tracking';
import { RunStateCache, type PartitionStamp, type RunState } from './run-state-cache.ts';
import { KeyedLock } from './keyed-lock.ts';
import { decodePageToken, encodePageToken, BadPageTokenError } from '../page-token.ts';
import { MlflowError, invalid, mlflowErrorSchema, notFound } from './mlflow-errors.ts';
import { experimentJson, metricJson, runInfoJson, runJson } from './mlflow-format.ts';
import { searchRuns } from './run-search.ts';
import { listArtifactsUnder, registerArtifactRoutes } from './artifact-routes.ts';
import { requestSchema } from './mlflow-request-schemas.ts';
import { registerRegistryRoutes, type RouteFn } from './registry-routes.ts';
import { registerLoggedModelRoutes } from './logged-model-routes.ts';
import { firstCopies, pointIdentity, type LinkedPoint } from './model-metrics.ts';
import { matchesFilter, NUMBER_OPS, orderComparator, parseEntityFilter, parseOrderBy, STRING_OPS, type FilterGrammar } from './entity-filter.ts';
import { identitiesThrough, storedPointIdentities } from './run-points.ts';
import type { MetricPoint } from '@runstream/codec';
import { keyValuesFromJson, LIMITS, batchLimitMessage, batchMetrics, duplicateParamsProblem, entryKey, entryValue, int64, metricPoint, requiredString, runStatus, timestampMs } from './mlflow-values.ts';

export interface MlflowDeps {
  ch: ClickHouse;
  writer: TrackingWriter;
  fence: ReadFence;
  readScope: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  writeScope: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  /** Name of the token that made a request, for the audit trail. */
  actorOf: (req: FastifyRequest) => string;
  /** Directory of the artifact store (mlflow-artifacts:/ URIs). */
  artifactRoot: string;
  maxArtifactBytes: number;
}

const DEFAULT_EXPERIMENT_ID = '0';
const ACTIVE = 'active';
const DELETED = 'deleted';

type Body = Record<string, unknown>;
type Query = Record<string, unknown>;

const errors = { 400: mlflowErrorSchema, 401: mlflowErrorSchema, 403: mlflowErrorSchema, 404: mlflowErrorSchema, 501: mlflowErrorSchema, 503: mlflowErrorSchema };

function newExperimentId(): string {
  // MLflow's ids are decimal strings; time plus randomness keeps them unique without a sequence.
  return `${Date.now()}${randomBytes(2).readUInt16BE(0).toString().padStart(5, '0')}`;
}

const ADJECTIVES = ['amber', 'brisk', 'calm', 'dapper', 'eager', 'fleet', 'gentle', 'hardy', 'keen', 'lucid', 'mellow', 'nimble'];
const NOUNS = ['otter', 'heron', 'lynx', 'falcon', 'badger', 'marten', 'ibis', 'panda', 'wren', 'yak', 'gecko', 'finch'];
function generatedRunName(): string {
  const b = randomBytes(3);
  return `${ADJECTIVES[b[0]! % ADJECTIVES.length]}-${NOUNS[b[1]! % NOUNS.length]}-${b[2]! % 1000}`;
}

/**
 * Run writes validated against the run-state cache (which fences the run's own partition when it must read): they
 * need no fence of their own, which keeps the training loop's calls at one offset lookup plus the send.
 */
const RUN_STATE_WRITES = new Set(['runs/log-model', 'runs/update', 'runs/delete', 'runs/restore', 'runs/log-metric', 'runs/log-parameter', 'runs/set-tag', 'runs/delete-tag', 'runs/log-batch', 'runs/log-inputs']);

export function registerMlflowRoutes(app: FastifyInstance, deps: MlflowDeps): void {
  const { ch, writer, fence } = deps;
  const topics = writer.topics;
  // Reads see every acknowledged write of tracking metadata and metric points; other writes validate against
  // tracking metadata (experiment names, registry, logged models), so they see every acknowledged tracking write.
  const READ_FENCE: FenceScope[] = [{ topic: topics.tracking }, { topic: topics.metrics }];
  const WRITE_FENCE: FenceScope[] = [{ topic: topics.tracking }];

  const locks = new KeyedLock();
  /**
   * A check-then-append on `key` (a unique name, the next version number): alone among this instance's writes of
   * the key, and against every tracking write acknowledged before it began.
   */
  const checked = <T>(key: string, fn: () => Promise<T>): Promise<T> =>
    locks.run(key, async () => {
      await fence.wait(WRITE_FENCE);
      return fn();
    });

  /** The tracking partition of an entity key and its high watermark, fetched after the call. */
  const stampOf = (key: string): Promise<PartitionStamp> => fence.positionOf(topics.tracking, key);
  /** Waits until everything below the stamp is stored. */
  const storedThrough = (stamp: PartitionStamp): Promise<void> => fence.storedThrough(topics.tracking, stamp);

  const runs = new RunStateCache({
    stampOf: (runId) => stampOf(runKey(runId)),
    load: async (runId, stamp) => {
      await storedThrough(stamp);
      const [[run], params] = await Promise.all([runsByIds(ch, [runId]), runParams(ch, [runId])]);
      return run ? { run, params: new Map((params.get(runId) ?? []).map((p) => [p.key, p.value])) } : undefined;
    },
  });

  // MLflow's error shape for everything under these routes, including schema validation and auth failures.
  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown; code?: string }, req, reply) => {
    if (err instanceof MlflowError) return reply.code(err.statusCode).send({ error_code: err.errorCode, message: err.message });
    if (err instanceof NotYetVisibleError) return reply.code(503).header('retry-after', String(err.retryAfterSec)).send({ error_code: 'TEMPORARILY_UNAVAILABLE', message: err.message });
    if (err instanceof BadPageTokenError) return reply.code(400).send({ error_code: 'INVALID_PARAMETER_VALUE', message: err.message });
    if (err.validation) return reply.code(400).send({ error_code: 'INVALID_PARAMETER_VALUE', message: err.message });
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      const code = err.statusCode === 413 ? 'INVALID_PARAMETER_VALUE' : 'BAD_REQUEST';
      return reply.code(err.statusCode).send({ error_code: code, message: err.message });
    }
    req.log.error({ err }, 'MLflow request failed');
    return reply.code(503).send({ error_code: 'TEMPORARILY_UNAVAILABLE', message: 'tracking storage is temporarily unavailable' });
  });

  const route: RouteFn = (method, path, scope, summary, handler) => {
    for (const prefix of ['/api/2.0/mlflow', '/ajax-api/2.0/mlflow']) {
      app.route({
        method,
        url: `${prefix}/${path}`,
        bodyLimit: LIMITS.requestBytes,
        preHandler: scope === 'read' ? deps.readScope : deps.writeScope,
        schema: {
          summary,
          tags: ['mlflow'],
          hide: prefix !== '/api/2.0/mlflow',
          ...(method === 'GET' || method === 'DELETE' ? { querystring: requestSchema(path) } : { body: requestSchema(path) }),
          response: errors,
        },
        // Path parameters (logged-models/:model_id) join the input; MLflow's client sends DELETE fields as a JSON body.
        handler: async (req) => {
          if (scope === 'read') await fence.wait(READ_FENCE);
          else if (!RUN_STATE_WRITES.has(path)) await fence.wait(WRITE_FENCE);
          const body = typeof req.body === 'object' && req.body !== null ? (req.body as Body) : {};
          const input = method === 'GET' ? (req.query as Body) : method === 'DELETE' ? { ...(req.query as Body), ...body } : body;
          return handler(req, { ...input, ...(req.params as Body) });
        },
      });
    }
  };

  // ---- experiments ----------------------------------------------------------------------------------------------

  async function ensureDefaultExperiment(req: FastifyRequest): Promise<void> {
    if (await experimentById(ch, DEFAULT_EXPERIMENT_ID)) return;
    const now = Date.now();
    const receipt = await writer.emit(`EXP:${DEFAULT_EXPERIMENT_ID}`, deps.actorOf(req), [
      { eventType: 'EXPERIMENT_UPSERTED', experimentId: DEFAULT_EXPERIMENT_ID, experiment: { name: 'Default', artifactLocation: `mlflow-artifacts:/${DEFAULT_EXPERIMENT_ID}`, lifecycleStage: ACTIVE, creationTimeMs: now, lastUpdateTimeMs: now } },
    ]);
    // Once per database, from inside a read or a write that reads it next: wait until it is stored.
    if (receipt) await fence.waitFor([{ topic: receipt.topic, partition: receipt.partition, offset: receipt.lastOffset }]);
  }

  async function getExperiment(req: FastifyRequest, id: string): Promise<ExperimentRow> {
    if (id === DEFAULT_EXPERIMENT_ID) await ensureDefaultExperiment(req);
    const e = await experimentById(ch, id);
    if (!e) throw notFound(`No Experiment with id=${id} exists`);
    return e;
  }

  route('POST', 'experiments/create', 'write', 'Create an experiment', async (req, b) => {
    const name = requiredString(b.name, 'name');
    if (name.length > LIMITS.experimentNameLength) throw invalid(`'name' exceeds the maximum length of ${LIMITS.experimentNameLength} characters`);
    return checked(`experiment:${name}`, async () => {
      if (await experimentByName(ch, name)) throw new MlflowError('RESOURCE_ALREADY_EXISTS', `Experiment '${name}' already exists.`);
      const id = newExperimentId();
      const tags = tagList(b.tags, 'experiment-tag');
      const now = Date.now();
      const artifactLocation = typeof b.artifact_location === 'string' && b.artifact_location ? b.artifact_location : `mlflow-artifacts:/${id}`;
      await writer.emit(`EXP:${id}`, deps.actorOf(req), [
        { eventType: 'EXPERIMENT_UPSERTED', experimentId: id, experiment: { name, artifactLocation, lifecycleStage: ACTIVE, creationTimeMs: now, lastUpdateTimeMs: now } },
        ...tags.map((t): NewEvent => ({ eventType: 'EXPERIMENT_TAG_SET', experimentId: id, key: t.key, value: t.value })),
      ]);
      return { experiment_id: id };
    });
  });

  route('GET', 'experiments/get', 'read', 'Get an experiment by id', async (req, q) => ({ experiment: experimentJson(await getExperiment(req, requiredString(q.experiment_id, 'experiment_id'))) }));

  route('GET', 'experiments/get-by-name', 'read', 'Get an experiment by name', async (req, q) => {
    const name = requiredString(q.experiment_name, 'experiment_name');
    if (name === 'Default') await ensureDefaultExperiment(req);
    const e = await experimentByName(ch, name);
    if (!e) throw notFound(`Could not find experiment with name '${name}'`);
    return { experiment: experimentJson(e) };
  });

  const searchExperiments = async (req: FastifyRequest, b: Body) => {
    await ensureDefaultExperiment(req);
    const maxResults = int64(b.max_results, 'max_results', 1000);
    if (maxResults < 1 || maxResults > 50_000) throw invalid(`Invalid value ${maxResults} for parameter 'max_results' supplied. It must be at most 50000`);
    const viewType = String(b.view_type ?? 'ACTIVE_ONLY');
    const stages = viewType === 'ALL' ? [ACTIVE, DELETED] : viewType === 'DELETED_ONLY' ? [DELETED] : [ACTIVE];
    const clauses = parseEntityFilter(typeof b.filter === 'string' ? b.filter : undefined, EXPERIMENT_FILTER);
    const order = parseOrderBy(b.order_by ?? ['creation_time DESC', 'experiment_id ASC'], EXPERIMENT_ORDER);
    if (!order.some((t) => t.key === 'experiment_id')) order.push({ key: 'experiment_id', ascending: true });
    const offset = b.page_token ? decodePageToken(String(b.page_token), (v): v is number => Number.isSafeInteger(v) && (v as number) >= 0) : 0;
    // The filter and the order apply to every experiment of the view, then the page is cut (MLflow's semantics).
    const matching = (await allExperiments(ch, stages))
      .filter((e) => matchesFilter(clauses, (key) => experimentField(e, key), new Map(e.tags.map((t) => [t.key, t.value]))))
      .sort(orderComparator(order, (e, key) => (key === 'experiment_id' ? e.experimentId.padStart(40, '0') : experimentField(e, key))));
    const page = matching.slice(offset, offset + maxResults);
    return { experiments: page.map(experimentJson), ...(offset + maxResults < matching.length ? { next_page_token: encodePageToken(offset + maxResults) } : {}) };
  };
  route('POST', 'experiments/search', 'read', "Search experiments (MLflow's filter: name, creation_time, last_update_time, tags; order_by; paged)", searchExperiments);
  route('GET', 'experiments/search', 'read', "Search experiments (MLflow's filter: name, creation_time, last_update_time, tags; order_by; paged)", searchExperiments);

  /** An experiment's change, alone per experiment on this instance, against every acknowledged tracking write. */
  const changeExperiment = <T>(req: FastifyRequest, id: unknown, fn: (e: ExperimentRow) => Promise<T>): Promise<T> => {
    const experimentId = requiredString(id, 'experiment_id');
    return checked(`experiment-id:${experimentId}`, async () => fn(await getExperiment(req, experimentId)));
  };

  const experimentEvent = (e: ExperimentRow): NewEvent => ({
    eventType: 'EXPERIMENT_UPSERTED',
    experimentId: e.experimentId,
    experiment: { name: e.name, artifactLocation: e.artifactLocation, lifecycleStage: e.lifecycleStage, creationTimeMs: e.creationTimeMs, lastUpdateTimeMs: e.lastUpdateTimeMs },
  });

  const mustBeActive = (e: ExperimentRow) => {
    if (e.lifecycleStage !== ACTIVE) throw invalid(`The experiment ${e.experimentId} must be in the 'active' state. Current state is ${e.lifecycleStage}.`);
  };

  // Deleting an experiment deletes its runs, restoring it restores them (MLflow's store does the same).
  for (const [path, stage, from] of [['experiments/delete', DELETED, ACTIVE], ['experiments/restore', ACTIVE, DELETED]] as const) {
    route('POST', path, 'write', path === 'experiments/delete' ? 'Mark an experiment and its runs deleted' : 'Restore a deleted experiment and its runs', async (req, b) =>
      changeExperiment(req, b.experiment_id, async (e) => {
        if (e.lifecycleStage !== from) throw notFound(`No Experiment with id=${e.experimentId} exists`);
        if (stage === DELETED && e.experimentId === DEFAULT_EXPERIMENT_ID) throw invalid('Cannot delete the default experiment (experiment_id 0).');
        await writer.emit(`EXP:${e.experimentId}`, deps.actorOf(req), [experimentEvent({ ...e, lifecycleStage: stage, lastUpdateTimeMs: Date.now() })]);
        const runs = (await queryRows<Record<string, string | number | null>>(ch, sql`${RUN_LATEST} WHERE experiment_id = ${e.experimentId}`)).map(toRunRow);
        for (const run of runs.filter((r) => r.lifecycleStage === from)) await writer.emit(runKey(run.runId), deps.actorOf(req), [runEvent({ ...run, lifecycleStage: stage })]);
        return {};
      }),
    );
  }

  route('POST', 'experiments/update', 'write', 'Rename an experiment', async (req, b) =>
    changeExperiment(req, b.experiment_id, async (e) => {
      const newName = typeof b.new_name === 'string' ? b.new_name : '';
      if (!newName) return {};
      if (newName.length > LIMITS.experimentNameLength) throw invalid(`'new_name' exceeds the maximum length of ${LIMITS.experimentNameLength} characters`);
      if (e.lifecycleStage !== ACTIVE) throw invalid('Cannot rename a non-active experiment.');
      return checked(`experiment:${newName}`, async () => {
        if (newName !== e.name && (await experimentByName(ch, newName))) throw new MlflowError('RESOURCE_ALREADY_EXISTS', `Experiment '${newName}' already exists.`);
        await writer.emit(`EXP:${e.experimentId}`, deps.actorOf(req), [experimentEvent({ ...e, name: newName, lastUpdateTimeMs: Date.now() })]);
        return {};
      });
    }),
  );

  route('POST', 'experiments/set-experiment-tag', 'write', 'Set a tag of an experiment (last write wins)', async (req, b) => {
    const [tag] = tagList([{ key: b.key, value: b.value }], 'experiment-tag');
    return changeExperiment(req, b.experiment_id, async (e) => {
      mustBeActive(e);
      await writer.emit(`EXP:${e.experimentId}`, deps.actorOf(req), [{ eventType: 'EXPERIMENT_TAG_SET', experimentId: e.experimentId, key: tag!.key, value: tag!.value }]);
      return {};
    });
  });

  route('POST', 'experiments/delete-experiment-tag', 'write', 'Delete a tag of an experiment', async (req, b) => {
    const key = requiredString(b.key, 'key');
    return changeExperiment(req, b.experiment_id, async (e) => {
      mustBeActive(e);
      if (!e.tags.some((t) => t.key === key)) throw notFound(`No tag with name: ${key} in experiment with id ${e.experimentId}`);
      await writer.emit(`EXP:${e.experimentId}`, deps.actorOf(req), [{ eventType: 'EXPERIMENT_TAG_DELETED', experimentId: e.experimentId, key }]);
      return {};
    });
  });

  // ---- runs -----------------------------------------------------------------------------------------------------

  async function getRun(id: unknown): Promise<RunRow> {
    const runId = requiredString(id, 'run_id');
    const [run] = await runsByIds(ch, [runId]);
    if (!run) throw notFound(`Run with id=${runId} not found`);
    return run;
  }

  /** A run to write to, as of every tracking write acknowledged before the call (see run-state-cache.ts). */
  interface RunForWrite {
    state: RunState;
    stamp: PartitionStamp;
  }

  async function runForWrite(id: unknown): Promise<RunForWrite> {
    const runId = requiredString(id, 'run_id');
    const { state, stamp } = await runs.get(runId);
    if (!state) throw notFound(`Run with id=${runId} not found`);
    return { state, stamp };
  }

  async function activeRunForWrite(id: unknown): Promise<RunForWrite> {
    const w = await runForWrite(id);
    const { run } = w.state;
    if (run.lifecycleStage !== ACTIVE) throw invalid(`The run ${run.runId} must be in the 'active' state. Current state is ${run.lifecycleStage}.`);
    return w;
  }

  /** Appends events of a run and tells the cache what the run looks like after them. */
  async function emitRun(req: FastifyRequest, w: RunForWrite, events: NewEvent[], next: RunState = w.state): Promise<void> {
    const receipt = await writer.emit(runKey(w.state.run.runId), deps.actorOf(req), events);
    if (receipt) runs.recordWrite(w.state.run.runId, w.stamp, receipt, next);
  }

  async function fullRun(run: RunRow) {
    const ids = [run.runId];
    const [metrics, params, tags, inputs] = await Promise.all([latestMetrics(ch, ids), runParams(ch, ids), runTags(ch, ids), runInputs(ch, run.runId)]);
    return runJson(run, { metrics: metrics.get(run.runId) ?? [], params: params.get(run.runId) ?? [], tags: tags.get(run.runId) ?? [], inputs });
  }

  const runEvent = (run: RunRow): NewEvent => ({
    eventType: 'RUN_UPSERTED',
    runId: run.runId,
    experimentId: run.experimentId,
    run: { runName: run.runName, userId: run.userId, status: run.status, startTimeMs: run.startTimeMs, endTimeMs: run.endTimeMs, artifactUri: run.artifactUri, lifecycleStage: run.lifecycleStage },
  });

  route('POST', 'runs/create', 'write', 'Create a run', async (req, b) => {
    const experimentId = typeof b.experiment_id === 'string' && b.experiment_id ? b.experiment_id : DEFAULT_EXPERIMENT_ID;
    const experiment = await getExperiment(req, experimentId);
    if (experiment.lifecycleStage !== ACTIVE) throw invalid(`The experiment ${experimentId} must be in the 'active' state.`);
    const tags = tagList(b.tags, 'tag');
    const tagMap = new Map(tags.map((t) => [t.key, t.value]));
    const runName = (typeof b.run_name === 'string' && b.run_name) || tagMap.get('mlflow.runName') || generatedRunName();
    tagMap.set('mlflow.runName', runName);
    const runId = randomUUID().replace(/-/g, '');
    const run: RunRow = {
      runId,
      experimentId,
      runName,
      userId: (typeof b.user_id === 'string' && b.user_id) || tagMap.get('mlflow.user') || '',
      status: 'RUNNING',
      startTimeMs: timestampMs(b.start_time, 'start_time'),
      endTimeMs: null,
      artifactUri: `${experiment.artifactLocation}/${runId}/artifacts`,
      lifecycleStage: ACTIVE,
    };
    const receipt = await writer.emit(runKey(runId), deps.actorOf(req), [runEvent(run), ...[...tagMap].map(([key, value]): NewEvent => ({ eventType: 'RUN_TAG_SET', runId, key, value }))]);
    if (receipt) runs.recordCreate(runId, receipt, { run, params: new Map() });
    return { run: runJson(run, { metrics: [], params: [], tags: [...tagMap].map(([key, value]) => ({ key, value })).sort((x, y) => x.key.localeCompare(y.key)) }) };
  });

  route('POST', 'runs/update', 'write', 'Update a run (status, end time, name)', async (req, b) => {
    const runId = requiredString(b.run_id ?? b.run_uuid, 'run_id');
    return runs.exclusive(runId, async () => {
      const w = await activeRunForWrite(runId);
      const { run } = w.state;
      const next: RunRow = {
        ...run,
        ...(b.status === undefined ? {} : { status: runStatus(b.status) }),
        ...(b.end_time === undefined || b.end_time === null ? {} : { endTimeMs: int64(b.end_time, 'end_time') }),
        ...(typeof b.run_name === 'string' && b.run_name ? { runName: b.run_name } : {}),
      };
      const events: NewEvent[] = [runEvent(next)];
      if (next.runName !== run.runName) events.push({ eventType: 'RUN_TAG_SET', runId: run.runId, key: 'mlflow.runName', value: next.runName });
      await emitRun(req, w, events, { ...w.state, run: next });
      return { run_info: runInfoJson(next) };
    });
  });

  for (const [path, stage, from] of [['runs/delete', DELETED, ACTIVE], ['runs/restore', ACTIVE, DELETED]] as const) {
    route('POST', path, 'write', path === 'runs/delete' ? 'Mark a run deleted' : 'Restore a deleted run', async (req, b) => {
      const runId = requiredString(b.run_id, 'run_id');
      return runs.exclusive(runId, async () => {
        const w = await runForWrite(runId);
        const { run } = w.state;
        if (run.lifecycleStage === from) await emitRun(req, w, [runEvent({ ...run, lifecycleStage: stage })], { ...w.state, run: { ...run, lifecycleStage: stage } });
        return {};
      });
    });
  }

  route('GET', 'runs/get', 'read', 'Get a run with its latest metrics, params, tags and inputs', async (_req, q) => ({ run: await fullRun(await getRun(q.run_id ?? q.run_uuid)) }));

  route('POST', 'runs/log-metric', 'write', 'Log one metric point', async (req, b) => {
    const { run } = (await activeRunForWrite(b.run_id ?? b.run_uuid)).state;
    const point = metricPoint(b);
    const linked = modelLinked([b], (_m) => point);
    await writer.emitMetrics(run.runId, linked.size === 0 ? [point] : await recordModelMetrics(req, run.runId, [point], linked), `mlflow-api:${deps.actorOf(req)}`);
    return {};
  });

  route('POST', 'runs/log-parameter', 'write', 'Log a param (immutable once set)', async (req, b) => {
    await logParams(req, requiredString(b.run_id ?? b.run_uuid, 'run_id'), [{ key: b.key, value: b.value }]);
    return {};
  });

  route('POST', 'runs/set-tag', 'write', 'Set a tag (last write wins)', async (req, b) => {
    const w = await activeRunForWrite(b.run_id ?? b.run_uuid);
    const { run } = w.state;
    const [tag] = tagList([{ key: b.key, value: b.value }], 'tag');
    const next = tag!.key === 'mlflow.runName' ? { ...w.state, run: { ...run, runName: tag!.value } } : w.state;
    await emitRun(req, w, [{ eventType: 'RUN_TAG_SET', runId: run.runId, key: tag!.key, value: tag!.value }], next);
    return {};
  });

  route('POST', 'runs/delete-tag', 'write', 'Delete a tag', async (req, b) => {
    const w = await activeRunForWrite(b.run_id);
    const { run } = w.state;
    const key = requiredString(b.key, 'key');
    // Tags are not kept in the cache: read them with every acknowledged write of the run's partition stored.
    await storedThrough(w.stamp);
    const tags = (await runTags(ch, [run.runId])).get(run.runId) ?? [];
    if (!tags.some((t) => t.key === key)) throw notFound(`No tag with name: ${key} in run with id ${run.runId}`);
    await emitRun(req, w, [{ eventType: 'RUN_TAG_DELETED', runId: run.runId, key }]);
    return {};
  });

  // MLflow 2's model record: the model's MLmodel dict appended to the run's mlflow.log-model.history tag.
  route('POST', 'runs/log-model', 'write', "Record a logged model in the run's mlflow.log-model.history tag", async (req, b) => {
    const runId = requiredString(b.run_id, 'run_id');
    const text = requiredString(b.model_json, 'model_json');
    let model: unknown;
    try {
      model = JSON.parse(text);
    } catch {
      throw invalid(`Malformed model info. \n ${text} \n is not a valid JSON.`);
    }
    if (typeof model !== 'object' || model === null || Array.isArray(model)) throw invalid(`Malformed model info. \n ${text} \n is not a valid JSON.`);
    const missing = ['artifact_path', 'flavors', 'utc_time_created', 'run_id'].filter((f) => !(f in model));
    if (missing.length > 0) throw invalid(`Model json is missing mandatory fields: {${missing.map((f) => `'${f}'`).join(', ')}}`);
    return runs.exclusive(runId, async () => {
      const w = await activeRunForWrite(runId);
      await storedThrough(w.stamp);
      const previous = ((await runTags(ch, [runId])).get(runId) ?? []).find((t) => t.key === LOGGED_MODELS_TAG)?.value;
      let history: unknown[] = [];
      try {
        const parsed = previous === undefined ? [] : (JSON.parse(previous) as unknown);
        history = Array.isArray(parsed) ? parsed : [];
      } catch {
        history = [];
      }
      const value = JSON.stringify([...history, model]);
      if (value.length > LIMITS.tagValueLength) throw invalid(`'${LOGGED_MODELS_TAG}' would exceed the maximum tag value length of ${LIMITS.tagValueLength} characters`);
      await emitRun(req, w, [{ eventType: 'RUN_TAG_SET', runId, key: LOGGED_MODELS_TAG, value }]);
      return {};
    });
  });

  route('POST', 'runs/log-batch', 'write', 'Log metrics, params and tags of a run in one call', async (req, b) => {
    const metrics = arrayField(b.metrics, 'metrics');
    const params = arrayField(b.params, 'params');
    const tags = arrayField(b.tags, 'tags');
    if (metrics.length > LIMITS.batchMetrics) throw invalid(batchLimitMessage('metrics', LIMITS.batchMetrics, metrics.length));
    if (params.length > LIMITS.batchParams) throw invalid(batchLimitMessage('params', LIMITS.batchParams, params.length));
    if (tags.length > LIMITS.batchTags) throw invalid(batchLimitMessage('tags', LIMITS.batchTags, tags.length));
    if (metrics.length + params.length + tags.length > LIMITS.batchTotal) throw invalid(batchLimitMessage('metrics, params, and tags', LIMITS.batchTotal, metrics.length + params.length + tags.length));
    const runId = requiredString(b.run_id, 'run_id');
    const points = batchMetrics(metrics);
    const linked = modelLinked(metrics, (m, i) => metricPoint(m, `metrics[${i}].`));
    const tagEntries = tagList(tags, 'tag');
    if (params.length > 0 || tagEntries.length > 0) {
      await logParams(req, runId, params, tagEntries.map((t): NewEvent => ({ eventType: 'RUN_TAG_SET', runId, key: t.key, value: t.value })));
    } else {
      await activeRunForWrite(runId);
    }
    await writer.emitMetrics(runId, linked.size === 0 ? points : await recordModelMetrics(req, runId, points, linked), `mlflow-api:${deps.actorOf(req)}`);
    return {};
  });

  route('POST', 'runs/log-inputs', 'write', 'Log dataset inputs of a run', async (req, b) => {
    const w = await activeRunForWrite(b.run_id);
    const { run } = w.state;
    const datasets = arrayField(b.datasets, 'datasets');
    const events: NewEvent[] = datasets.map((d) => {
      const ds = (d.dataset ?? {}) as Body;
      const str = (v: unknown, f: string, max: number) => {
        const s = v === undefined || v === null ? '' : String(v);
        if (s.length > max) throw invalid(`dataset ${f} exceeds ${max} characters`);
        return s;
      };
      return {
        eventType: 'RUN_INPUT_LOGGED',
        runId: run.runId,
        dataset: {
          name: requiredString(ds.name, 'dataset.name'),
          digest: requiredString(ds.digest, 'dataset.digest'),
          sourceType: str(ds.source_type, 'source_type', 36),
          source: str(ds.source, 'source', 65535),
          schema: str(ds.schema, 'schema', 1_048_575),
          profile: str(ds.profile, 'profile', 16_383),
          tagsJson: JSON.stringify(tagList(d.tags ?? [], 'tag')),
        },
      };
    });
    await emitRun(req, w, events);
    return {};
  });

  route('POST', 'runs/search', 'read', "Search runs with MLflow's filter DSL (plus OR and parentheses)", async (_req, b) => {
    const result = await searchRuns(ch, b);
    const ids = result.runs.map((r) => r.runId);
    const [metrics, params, tags, inputs] = await Promise.all([latestMetrics(ch, ids), runParams(ch, ids), runTags(ch, ids), runInputsOf(ch, ids)]);
    const runs = result.runs.map((r) =>
      runJson(r, { metrics: metrics.get(r.runId) ?? [], params: params.get(r.runId) ?? [], tags: tags.get(r.runId) ?? [], inputs: inputs.get(r.runId) ?? [] }),
    );
    return { runs, ...(result.nextPageToken ? { next_page_token: result.nextPageToken } : {}) };
  });

  // ---- metric history -------------------------------------------------------------------------------------------

  // A point logged twice identically (key, value, timestamp, step) is answered once, as MLflow stores it once.
  route('GET', 'metrics/get-history', 'read', 'Every point of one metric of a run (each identical point once), paged', async (_req, q) => {
    const run = await getRun(q.run_id ?? q.run_uuid);
    const key = requiredString(q.metric_key, 'metric_key');
    let after = q.page_token ? decodePageToken(String(q.page_token), isCursor) : undefined;
    const seen = after ? await identitiesThrough(ch, run.runId, key, after) : new Set<string>();
    // Without max_results MLflow answers every point; with it, pages of at most 25,000.
    if (q.max_results === undefined || q.max_results === '') {
      const metrics: object[] = [];
      for (;;) {
        const page = await metricHistory(ch, { kind: 'RUN', entityId: run.runId, key, limit: 25_000, ...(after ? { after } : {}) });
        for (const p of firstCopies(key, page.points, seen)) metrics.push(metricJson({ key, ...p }));
        if (!page.next) return { metrics };
        after = page.next;
      }
    }
    const maxResults = int64(q.max_results, 'max_results');
    if (maxResults < 1 || maxResults > 25_000) throw invalid('max_results must be between 1 and 25000');
    const page = await metricHistory(ch, { kind: 'RUN', entityId: run.runId, key, limit: maxResults, ...(after ? { after } : {}) });
    return {
      metrics: firstCopies(key, page.points, seen).map((p) => metricJson({ key, ...p })),
      ...(page.next ? { next_page_token: encodePageToken(page.next) } : {}),
    };
  });

  route('GET', 'metrics/get-history-bulk-interval', 'read', 'Sampled history of one metric for up to 100 runs', async (_req, q) => {
    const runIds = (Array.isArray(q.run_ids) ? q.run_ids : q.run_ids === undefined ? [] : [q.run_ids]).map(String);
    if (runIds.length === 0) throw invalid('run_ids must contain at least one run id');
    if (runIds.length > 100) throw invalid(`GetMetricHistoryBulkInterval request must specify at most 100 run_ids. Received ${runIds.length} run_ids.`);
    const key = requiredString(q.metric_key, 'metric_key');
    const maxResults = int64(q.max_results, 'max_results', 320);
    if (maxResults < 1 || maxResults > 2500) throw invalid('max_results must be between 1 and 2500');
    const startStep = q.start_step === undefined ? undefined : int64(q.start_step, 'start_step');
    const endStep = q.end_step === undefined ? undefined : int64(q.end_step, 'end_step');
    if ((startStep === undefined) !== (endStep === undefined)) throw invalid('start_step and end_step must be given together');
    if (startStep !== undefined && endStep !== undefined && startStep > endStep) throw invalid('end_step must be greater than or equal to start_step');
    const out: object[] = [];
    for (const runId of runIds) {
      const points = await sampledHistory(ch, runId, key, maxResults, startStep, endStep);
      for (const p of points) out.push({ ...metricJson({ key, ...p }), run_id: runId });
    }
    return { metrics: out };
  });

  registerRegistryRoutes(route, { ch, writer, actorOf: deps.actorOf, checked, stampOf, storedThrough });
  const loggedModelWrites = registerLoggedModelRoutes(route, { ch, writer, actorOf: deps.actorOf, artifactRoot: deps.artifactRoot });

  /**
   * Points logged with a model_id (see model-metrics.ts): recorded on their logged models, and left out of the run's
   * points when the run already holds an identical one — log_model re-sends the run's points that way. Returns the
   * points to append to the run.
   */
  async function recordModelMetrics(req: FastifyRequest, runId: string, points: MetricPoint[], linked: Map<string, LinkedPoint[]>): Promise<MetricPoint[]> {
    const linkedPoints = [...linked.values()].flat().map((l) => l.point);
    for (const [modelId, list] of linked) await checked(`logged-model:${modelId}`, () => loggedModelWrites.addMetrics(req, modelId, runId, list));
    // Every point acknowledged before this call is stored once the metrics topic is read up to here.
    await fence.wait([{ topic: topics.metrics }]);
    const stored = await storedPointIdentities(ch, runId, [...new Set(linkedPoints.map((p) => p.key))], [...new Set(linkedPoints.map((p) => p.step))]);
    const linkedIds = new Set(linkedPoints.map(pointIdentity));
    return points.filter((p) => !(linkedIds.has(pointIdentity(p)) && stored.has(pointIdentity(p))));
  }

  // ---- artifacts: the proxy API (mlflow-artifacts:/) on a local directory; MLflow's older list endpoint is not served

  registerArtifactRoutes(app, { root: deps.artifactRoot, readScope: deps.readScope, writeScope: deps.writeScope, maxUploadBytes: deps.maxArtifactBytes });

  route('GET', 'artifacts/list', 'read', "List a run's artifacts (paths relative to the run's artifact root)", async (_req, q) => {
    const run = await getRun(q.run_id ?? q.run_uuid);
    const path = typeof q.path === 'string' ? q.path : '';
    return { root_uri: run.artifactUri, files: await listArtifactsUnder(deps.artifactRoot, run.artifactUri, path) };
  });

  // Presigned URLs belong to cloud object stores; MLflow's server refuses them for proxied storage (mlflow-artifacts:/,
  // the only kind this server has) with the same 400.
  route('POST', 'artifacts/presigned-upload-url', 'write', 'Presigned upload URL: not supported for proxied artifact storage (MLflow error)', async (_req, b) => {
    const runId = typeof b.run_id === 'string' ? b.run_id : '';
    const modelId = typeof b.model_id === 'string' ? b.model_id : '';
    if (Boolean(runId) === Boolean(modelId)) throw invalid('Exactly one of run_id and model_id must be provided.');
    requiredString(b.path, 'path');
    const uri = runId ? (await getRun(runId)).artifactUri : (await loggedModels(ch, { ids: [modelId], limit: 1 }))[0]?.artifactUri;
    if (uri === undefined) throw notFound(`Logged model with ID '${modelId}' not found.`);
    throw invalid(`Presigned upload is not supported for proxied artifact storage (artifact URI scheme: ${uri.split(':')[0]}). This endpoint requires a direct cloud storage artifact URI.`);
  });
  route('POST', 'artifacts/presigned-download-url', 'read', 'Presigned download URL: not supported for proxied artifact storage (MLflow error)', async (_req, b) => {
    const run = await getRun(b.run_id);
    requiredString(b.path, 'path');
    throw invalid(`Presigned download is not supported for runs with proxied artifact storage (artifact URI scheme: ${run.artifactUri.split(':')[0]}). This endpoint requires a run with a direct cloud storage artifact URI.`);
  });

  route('POST', 'experiments/search-datasets', 'read', 'Datasets used as inputs by the runs of experiments', async (_req, b) => {
    const experimentIds = Array.isArray(b.experiment_ids) ? b.experiment_ids.map(String) : [];
    if (experimentIds.length === 0) throw invalid('SearchDatasets request must specify at least one experiment_id.');
    if (experimentIds.length > 20) throw invalid(`SearchDatasets request cannot specify more than 20 experiment_ids. Received ${experimentIds.length} experiment_ids.`);
    const runRows = (await queryRows<Record<string, string | number | null>>(ch, sql`${RUN_LATEST} WHERE experiment_id IN ${experimentIds} AND lifecycle_stage = ${ACTIVE}`)).map(toRunRow);
    const inputs = await runInputsOf(ch, runRows.map((r) => r.runId));
    const seen = new Map<string, object>();
    for (const run of runRows) {
      for (const i of inputs.get(run.runId) ?? []) {
        const context = keyValuesFromJson(i.tagsJson).find((t) => t.key === 'mlflow.data.context')?.value;
        const id = JSON.stringify([run.experimentId, i.name, i.digest, context ?? null]);
        if (!seen.has(id)) seen.set(id, { experiment_id: run.experimentId, name: i.name, digest: i.digest, ...(context === undefined ? {} : { context }) });
      }
    }
    // MLflow answers at most 1,000 summaries.
    return { dataset_summaries: [...seen.values()].slice(0, 1000) };
  });

  // Anything else under MLflow's prefixes (e.g. MLflow 3's logged-models API) answers in MLflow's error shape,
  // so clients report a missing endpoint rather than an internal error.
  // GenAI endpoints (traces, the v3 API, OTLP /v1/traces) are not served; MLflow's own error for them lets the client
  // fall back or skip (it reads any other body as INTERNAL_ERROR).
  for (const url of ['/api/2.0/mlflow/*', '/ajax-api/2.0/mlflow/*', '/api/2.0/mlflow-artifacts/*', '/api/3.0/*', '/ajax-api/3.0/*', '/v1/traces', '/v1/traces/*']) {
    app.all(url, { schema: { hide: true } }, async (req, reply) =>
      reply.code(404).send({ error_code: 'ENDPOINT_NOT_FOUND', message: `Runstream does not implement ${req.method} ${req.url.split('?')[0]}` }),
    );
  }

  // ---- helpers using deps -----------------------------------------------------------------------------------------

  /** Params are immutable: the same value again is accepted (and not re-logged), a different value is refused. */
  async function logParams(req: FastifyRequest, runId: string, raw: Body[], extra: NewEvent[] = []): Promise<void> {
    const incoming = new Map<string, string>();
    for (const p of raw) {
      const key = entryKey(p.key, 'param');
      const value = entryValue(p.value, 'param', key);
      const seen = incoming.get(key);
      if (seen !== undefined) throw invalid(duplicateParamsProblem(raw.map((r) => String(r.key)))!);
      incoming.set(key, value);
    }
    // One param check-and-append at a time per run on this instance, so two values for one key cannot both pass.
    await runs.exclusive(runId, async () => {
      const w = await activeRunForWrite(runId);
      const existing = w.state.params;
      const events: NewEvent[] = [];
      const next = new Map(existing);
      for (const [key, value] of incoming) {
        const old = existing.get(key);
        if (old === undefined) {
          events.push({ eventType: 'PARAM_LOGGED', runId, key, value });
          next.set(key, value);
        } else if (old !== value) {
          throw invalid(`Changing param values is not allowed. Param with key='${key}' was already logged with value='${old}' for run ID='${runId}'. Attempted logging new value '${value}'.`);
        }
      }
      const runName = extra.find((e) => e.eventType === 'RUN_TAG_SET' && e.key === 'mlflow.runName')?.value;
      await emitRun(req, w, [...events, ...extra], { run: runName === undefined ? w.state.run : { ...w.state.run, runName }, params: next });
    });
  }
}

const runKey = (runId: string): string => `RUN:${runId}`;
const LOGGED_MODELS_TAG = 'mlflow.log-model.history';

/** The metrics of a request that carry a model_id, by model (MLflow 3's Metric.model_id). */
function modelLinked(metrics: Body[], point: (m: Body, index: number) => MetricPoint): Map<string, LinkedPoint[]> {
  const out = new Map<string, LinkedPoint[]>();
  metrics.forEach((m, i) => {
    if (typeof m.model_id !== 'string' || m.model_id === '') return;
    const list = out.get(m.model_id) ?? [];
    list.push({ point: point(m, i), datasetName: typeof m.dataset_name === 'string' ? m.dataset_name : '', datasetDigest: typeof m.dataset_digest === 'string' ? m.dataset_digest : '' });
    out.set(m.model_id, list);
  });
  return out;
}

function arrayField(v: unknown, field: string): Body[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'object' || x === null)) throw invalid(`Invalid value for parameter '${field}': an array of objects expected`);
  return v as Body[];
}

function tagList(v: unknown, what: 'tag' | 'experiment-tag'): { key: string; value: string }[] {
  return arrayField(v, 'tags').map((t) => {
    const key = entryKey(t.key, what);
    return { key, value: entryValue(t.value, what, key) };
  });
}

const EXPERIMENT_FILTER: FilterGrammar = {
  attributes: {
    name: { type: 'string', ops: STRING_OPS },
    experiment_id: { type: 'string', ops: ['=', '!=', 'IN', 'NOT IN'] },
    creation_time: { type: 'number', ops: NUMBER_OPS },
    last_update_time: { type: 'number', ops: NUMBER_OPS },
  },
  tagOps: STRING_OPS,
};
const EXPERIMENT_ORDER = { name: 'name', experiment_id: 'experiment_id', creation_time: 'creation_time', last_update_time: 'last_update_time' };

/** A field of an experiment for filters and order_by; ids (decimal strings) compare as numbers. */
function experimentField(e: ExperimentRow, key: string): string | number {
  if (key === 'name') return e.name;
  if (key === 'creation_time') return e.creationTimeMs;
  if (key === 'last_update_time') return e.lastUpdateTimeMs;
  return e.experimentId;
}

const isCursor = (v: unknown): v is HistoryCursor => {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  return ['step', 'timestampMs', 'partition', 'offset', 'index'].every((k) => Number.isSafeInteger(c[k]));
};

/**
 * MLflow's bulk-interval sampling: at most maxResults distinct steps per run, evenly spread over the run's steps in
 * the range and always including the first and last; every point at a chosen step is returned.
 */
async function sampledHistory(ch: ClickHouse, runId: string, key: string, maxResults: number, startStep?: number, endStep?: number) {
  const range = startStep === undefined ? sql`` : sql` AND step >= ${startStep} AND step <= ${endStep!}`;
  const steps = (await queryRows<{ step: string }>(ch, sql`SELECT DISTINCT step FROM metric_points_v2 WHERE entity_kind = 'run' AND entity_id = ${runId} AND key = ${key}${range} ORDER BY step`)).map((r) => Number(r.step));
  if (steps.length === 0) return [];
  let chosen = steps;
  if (steps.length > maxResults) {
    const picked = new Set<number>();
    for (let i = 0; i < maxResults; i++) picked.add(steps[Math.round((i * (steps.length - 1)) / Math.max(1, maxResults - 1))]!);
    chosen = [...picked];
  }
  const rows = await queryRows<{ step: string; timestamp_ms: string; bits: string }>(
    ch,
    sql`SELECT step, timestamp_ms, hex(reinterpretAsString(value)) AS bits FROM metric_points_v2
        WHERE entity_kind = 'run' AND entity_id = ${runId} AND key = ${key} AND step IN ${chosen}
        ORDER BY step, timestamp_ms, src_partition, src_offset, point_index`,
  );
  return firstCopies(key, rows.map((r) => ({ step: Number(r.step), timestampMs: Number(r.timestamp_ms), value: floatFromBits(r.bits) })));
}
