import { describe, expect, it } from 'vitest';
import { MlflowRestClient, MlflowRestError, parsePoint, parseRun } from './mlflow-rest-client.ts';
import { parseCliArgs, UsageError } from './cli-args.ts';

type Handler = (url: URL, init: RequestInit) => Response | Promise<Response>;

function client(handler: Handler, extra: Partial<ConstructorParameters<typeof MlflowRestClient>[0]> = {}) {
  const calls: { url: URL; init: RequestInit }[] = [];
  const sleeps: number[] = [];
  const c = new MlflowRestClient({
    baseUrl: 'http://mlflow.test:5000/',
    fetch: (async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(String(input));
      calls.push({ url, init: init ?? {} });
      return handler(url, init ?? {});
    }) as typeof fetch,
    sleep: async (ms) => void sleeps.push(ms),
    ...extra,
  });
  return { c, calls, sleeps };
}

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('MlflowRestClient', () => {
  it('pages through a metric history with page_token and max_results 25000, parsing NaN and infinities', async () => {
    const pages: Record<string, unknown> = {
      '': { metrics: [{ key: 'loss', value: 'NaN', timestamp: 1_750_000_000_000, step: 0 }, { key: 'loss', value: 'Infinity', timestamp: '1750000000001', step: '1' }], next_page_token: 'p2' },
      p2: { metrics: [{ key: 'loss', value: '-Infinity', timestamp: 1_750_000_000_002, step: 2 }, { key: 'loss', value: 0.5, timestamp: 1_750_000_000_003 }] },
    };
    const { c, calls } = client((url) => json(pages[url.searchParams.get('page_token') ?? '']));
    const points = await c.metricHistory('r1', 'loss');
    expect(points.map((p) => [p.value, p.step, p.timestampMs])).toEqual([
      [NaN, 0, 1_750_000_000_000],
      [Infinity, 1, 1_750_000_000_001],
      [-Infinity, 2, 1_750_000_000_002],
      [0.5, 0, 1_750_000_000_003],
    ]);
    expect(calls.map((x) => x.url.pathname)).toEqual(['/api/2.0/mlflow/metrics/get-history', '/api/2.0/mlflow/metrics/get-history']);
    expect(calls[0]!.url.searchParams.get('max_results')).toBe('25000');
    expect(calls[0]!.url.searchParams.get('run_id')).toBe('r1');
    expect(calls[1]!.url.searchParams.get('page_token')).toBe('p2');
  });

  it('searches experiments and runs with view type ALL, page by page, sending the bearer token', async () => {
    const { c, calls } = client(async (url, init) => {
      const body = JSON.parse(String(init.body));
      if (url.pathname.endsWith('experiments/search')) {
        expect(body.view_type).toBe('ALL');
        return body.page_token
          ? json({ experiments: [{ experiment_id: '1', name: 'b', lifecycle_stage: 'deleted', creation_time: 5 }] })
          : json({ experiments: [{ experiment_id: '0', name: 'Default', creation_time: '3', last_update_time: 4, tags: [{ key: 'k', value: 'v' }] }], next_page_token: 't' });
      }
      expect(body).toMatchObject({ experiment_ids: ['0'], run_view_type: 'ALL' });
      return json({ runs: [{ info: { run_uuid: 'r9', experiment_id: '0', status: 'FAILED', start_time: 10, lifecycle_stage: 'active' }, data: { tags: [{ key: 'mlflow.runName', value: 'nice' }], metrics: [{ key: 'b' }, { key: 'a' }, { key: 'b' }] } }] });
    }, { token: 'sekret' });
    const exps = await c.searchExperiments();
    expect(exps.map((e) => [e.experimentId, e.name, e.lifecycleStage, e.creationTimeMs, e.lastUpdateTimeMs])).toEqual([
      ['0', 'Default', 'active', 3, 4],
      ['1', 'b', 'deleted', 5, 5],
    ]);
    const [run] = await c.searchRuns('0');
    expect(run!.info).toMatchObject({ runId: 'r9', runName: 'nice', status: 'FAILED', startTimeMs: 10, endTimeMs: null });
    expect(run!.metricKeys).toEqual(['a', 'b']);
    expect(run!.params).toEqual([]);
    expect(calls.every((x) => (x.init.headers as Record<string, string>).authorization === 'Bearer sekret')).toBe(true);
    const basic = client(() => json({}), { username: 'ada', password: 'pw' });
    await basic.c.searchExperiments();
    expect((basic.calls[0]!.init.headers as Record<string, string>).authorization).toBe(`Basic ${Buffer.from('ada:pw').toString('base64')}`);
  });

  it('retries network errors, 429 and 5xx with growing backoff, then succeeds', async () => {
    let n = 0;
    const { c, sleeps } = client(() => {
      n++;
      if (n === 1) throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
      if (n === 2) return json({ error_code: 'TEMPORARILY_UNAVAILABLE', message: 'busy' }, 503);
      if (n === 3) return new Response('slow down', { status: 429 });
      return json({ experiments: [] });
    }, { backoffMs: 100 });
    expect(await c.searchExperiments()).toEqual([]);
    expect(n).toBe(4);
    expect(sleeps).toHaveLength(3);
    expect(sleeps[0]).toBeGreaterThanOrEqual(50);
    expect(sleeps[0]).toBeLessThanOrEqual(100);
    expect(sleeps[2]).toBeGreaterThanOrEqual(200);
    expect(c.stats.retries).toBe(3);
  });

  it('gives up after the retries with a clear error', async () => {
    const { c } = client(() => {
      throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    }, { retries: 2 });
    await expect(c.searchExperiments()).rejects.toThrow(/POST experiments\/search at http:\/\/mlflow.test:5000 failed after 3 attempts: fetch failed \(ECONNREFUSED\)/);
  });

  it('does not retry 4xx; names the status, MLflow error code and message, with a hint for auth', async () => {
    const { c, calls } = client(() => json({ error_code: 'PERMISSION_DENIED', message: 'no' }, 403));
    const err = await c.searchExperiments().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowRestError);
    expect((err as MlflowRestError).errorCode).toBe('PERMISSION_DENIED');
    expect((err as Error).message).toMatch(/answered HTTP 403 PERMISSION_DENIED: no \(pass a token with --token or MLFLOW_TRACKING_TOKEN\)/);
    expect(calls).toHaveLength(1);
    const { c: html } = client(() => new Response('<html>Not Found</html>', { status: 404 }));
    await expect(html.searchExperiments()).rejects.toThrow(/HTTP 404: <html>Not Found<\/html> \(is this the URL of an MLflow tracking server\?\)/);
  });

  it('refuses a page token that repeats instead of looping forever', async () => {
    const { c } = client(() => json({ metrics: [], next_page_token: 'same' }));
    await expect(c.metricHistory('r', 'k')).rejects.toThrow(/same page token twice/);
  });

  it('parses points it cannot store without throwing (reported later by the plan)', () => {
    expect(parsePoint({ key: 'k', value: 'banana', timestamp: 1, step: 2 ** 60 }, 'k')).toEqual({ key: 'k', value: null, rawValue: 'banana', step: 2 ** 60, timestampMs: 1 });
    expect(parsePoint({ key: 'k', value: 1.7976931348623157e308, timestamp: '1750000000000' }, 'k').value).toBe(Number.MAX_VALUE);
    expect(parseRun({ info: { run_id: 'x', end_time: '12' } }).info).toMatchObject({ runId: 'x', endTimeMs: 12, status: 'RUNNING', lifecycleStage: 'active' });
  });
});

describe('command line', () => {
  it('parses the documented flags', () => {
    expect(parseCliArgs(['--from', 'http://h:5000/', '--experiment', 'a', '--experiment', 'b c', '--dry-run', '--max-points-per-run', '10'], {})).toEqual({
      help: false,
      from: 'http://h:5000',
      experiments: ['a', 'b c'],
      token: undefined,
      dryRun: true,
      concurrency: 4,
      maxPointsPerRun: 10,
    });
    expect(parseCliArgs(['--from', 'https://h'], { MLFLOW_TRACKING_TOKEN: 'env-token' }).token).toBe('env-token');
    expect(parseCliArgs(['--from', 'https://h', '--token', 'flag'], { MLFLOW_TRACKING_TOKEN: 'env-token' }).token).toBe('flag');
  });

  it('rejects bad arguments with a UsageError', () => {
    for (const argv of [[], ['--from'], ['--from', 'ftp://x'], ['--from', 'nope'], ['--from', 'http://x', '--bogus'], ['--from', 'http://x', 'extra'], ['--from', 'http://x', '--concurrency', '0'], ['--from', 'http://x', '--max-points-per-run', '-5']]) {
      expect(() => parseCliArgs(argv, {}), JSON.stringify(argv)).toThrow(UsageError);
    }
    expect(parseCliArgs(['--help'], {}).help).toBe(true);
  });
});
