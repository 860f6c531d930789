import { describe, expect, it } from 'vitest';
import { loadEnv } from './env-schema.ts';
import { clickhouseEnv, toClickHouseSettings } from './shared-config.ts';

const settings = (env: NodeJS.ProcessEnv) => toClickHouseSettings(loadEnv(clickhouseEnv, env));

describe('ClickHouse cluster settings', () => {
  it('is one server without CLICKHOUSE_SHARDS', () => {
    expect(settings({}).cluster).toBeUndefined();
  });

  it('reads shards separated by ; and replicas by ,', () => {
    const s = settings({ CLICKHOUSE_SHARDS: 'http://a:1, http://b:1 ; http://c:1', CLICKHOUSE_CLUSTER: 'prod' });
    expect(s.cluster).toEqual({ name: 'prod', shards: [['http://a:1', 'http://b:1'], ['http://c:1']] });
  });

  it('refuses an empty shard, a URL that is not http(s) and embedded credentials', () => {
    expect(() => settings({ CLICKHOUSE_SHARDS: 'http://a:1;;http://b:1' })).toThrow(/at least one replica/);
    expect(() => settings({ CLICKHOUSE_SHARDS: 'ftp://a:1' })).toThrow(/http\(s\) URLs/);
    expect(() => settings({ CLICKHOUSE_SHARDS: 'http://u:p@a:1' })).toThrow(/credentials/);
  });
});
