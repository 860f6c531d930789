import { expect, it } from 'vitest';
import { isTransientClickHouseError } from './clickhouse-errors.ts';

const serverError = (message: string, code?: string) => Object.assign(new Error(message), code === undefined ? {} : { code });

it('reads the server code from current servers (parsed by the client) and from 18.16 messages', () => {
  expect(isTransientClickHouseError(serverError('Too many parts (300)', '252'))).toBe(true);
  expect(isTransientClickHouseError(serverError('Code: 252, e.displayText() = DB::Exception: Too many parts (1). Merges are processing significantly slower than inserts.'))).toBe(true);
  expect(isTransientClickHouseError(serverError('Code: 241, e.displayText() = DB::Exception: Memory limit (for query) exceeded'))).toBe(true);
  expect(isTransientClickHouseError(serverError('Code: 60, e.displayText() = DB::Exception: Table runstream.x doesn\'t exist.'))).toBe(false);
  expect(isTransientClickHouseError(serverError('Code: 62. DB::Exception: Syntax error'))).toBe(false);
});

it('retries network failures and follows causes', () => {
  expect(isTransientClickHouseError(serverError('connect ECONNREFUSED 127.0.0.1:18123', 'ECONNREFUSED'))).toBe(true);
  expect(isTransientClickHouseError(Object.assign(new Error('insert failed'), { cause: serverError('socket hang up') }))).toBe(true);
  expect(isTransientClickHouseError('not an error')).toBe(false);
});
