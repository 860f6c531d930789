import { expect, it } from 'vitest';
import { createLogger } from './logger.ts';
import { ConfigError, int, list, loadEnv, str, url } from './env-schema.ts';

it('redacts secrets wherever they appear in logged objects', () => {
  const lines: string[] = [];
  const log = createLogger({ name: 't', destination: { write: (s: string) => void lines.push(s) } });
  log.info({ req: { headers: { authorization: 'Bearer sekret-token-123' } } }, 'request');
  log.info({ clickhouse: { password: 'sekret-pass' }, token: 'sekret-raw' }, 'config');
  log.info({ settings: { admin: { password: 'sekret-nested' } } }, 'nested');
  const out = lines.join('');
  expect(out).not.toMatch(/sekret/);
  expect(out).toContain('[redacted]');
});

it('reports every bad variable at once', () => {
  const spec = { port: int('PORT', 8080, 0, 65535), url: url('CLICKHOUSE_URL', 'http://x'), name: str('NAME'), brokers: list('KAFKA_BROKERS', ['a']) };
  let err: unknown;
  try {
    loadEnv(spec, { PORT: '99999', CLICKHOUSE_URL: 'http://user:pw@host' });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as ConfigError).problems).toEqual([
    'PORT: must be between 0 and 65535, got 99999',
    'CLICKHOUSE_URL: must not embed credentials; use the *_USER / *_PASSWORD variables',
    'NAME: is required',
  ]);
  expect(loadEnv(spec, { NAME: 'n', KAFKA_BROKERS: 'h1:1, h2:2' })).toEqual({ port: 8080, url: 'http://x', name: 'n', brokers: ['h1:1', 'h2:2'] });
});
