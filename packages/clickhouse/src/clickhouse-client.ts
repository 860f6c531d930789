// ClickHouse connections, one per role, and the two primitives every table module builds on:
// run a query built with the `sql` tag, and insert a Native block.
import { Readable } from 'node:stream';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import type { ClickHouseSettings } from '@runstream/config';
import { sql, type SqlFragment } from './sql-literal.ts';

export type ClickHouseRole = 'admin' | 'ingest' | 'query';

export interface ClickHouse {
  readonly client: ClickHouseClient;
  readonly database: string;
  close(): Promise<void>;
}

export function connectClickHouse(
  settings: ClickHouseSettings,
  role: ClickHouseRole,
  opts: { database?: string; maxOpenConnections?: number; maxExecutionSeconds?: number } = {},
): ClickHouse {
  const creds = settings[role];
  const database = opts.database ?? settings.database;
  const client = createClient({
    url: settings.url,
    username: creds.user,
    password: creds.password,
    database,
    request_timeout: settings.requestTimeoutMs,
    max_open_connections: opts.maxOpenConnections ?? 10,
    compression: { request: false, response: false },
    application: `runstream-${role}`,
    // The server stops a query that runs too long, so an expensive request cannot hold ClickHouse indefinitely.
    ...(opts.maxExecutionSeconds ? { clickhouse_settings: { max_execution_time: opts.maxExecutionSeconds } } : {}),
  });
  return { client, database, close: () => client.close() };
}

export interface ReplicaState {
  url: string;
  up: boolean;
}

/** A ClickHouse spread over servers that hold the same data; says which are up. */
export interface ReplicatedClickHouse extends ClickHouse {
  replicas(): ReplicaState[];
  /** A connection to each server the last probe found up. */
  upServers(): ClickHouse[];
}

/** Each server behind `ch` that is up (just `ch` for a single server). */
export function serversOf(ch: ClickHouse): ClickHouse[] {
  return 'upServers' in ch ? (ch as ReplicatedClickHouse).upServers() : [ch];
}

/**
 * One ClickHouse over several servers that hold the same data — a shard's replicas for the worker, or the servers
 * of a cluster for Distributed reads. Requests go to the current server; a probe every `probeMs` keeps it on a
 * healthy one (the first healthy in the listed order, so traffic returns to a preferred replica once it is back).
 * A request that fails while its server goes down fails; callers retry as for any transient error, and the retry
 * reaches a healthy server.
 */
export function connectReplicas(
  settings: ClickHouseSettings,
  role: ClickHouseRole,
  urls: string[],
  opts: { database?: string; maxOpenConnections?: number; maxExecutionSeconds?: number; probeMs?: number } = {},
): ReplicatedClickHouse {
  if (urls.length === 0) throw new Error('connectReplicas needs at least one URL');
  const handles = urls.map((url) => connectClickHouse({ ...settings, url }, role, opts));
  const up = urls.map(() => true);
  let current = 0;
  let closed = false;
  const probe = async (): Promise<void> => {
    await Promise.all(
      handles.map(async (h, i) => {
        up[i] = await h.client
          .ping()
          .then((r) => r.success)
          .catch(() => false);
      }),
    );
    const healthy = up.findIndex(Boolean);
    if (healthy >= 0) current = healthy;
  };
  const timer = setInterval(() => void probe(), opts.probeMs ?? 1000);
  timer.unref();
  void probe();
  return {
    get client() {
      return handles[current]!.client;
    },
    database: handles[0]!.database,
    replicas: () => urls.map((url, i) => ({ url, up: up[i]! })),
    upServers: () => handles.filter((_, i) => up[i]),
    close: async () => {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await Promise.all(handles.map((h) => h.close()));
    },
  };
}

/** Runs a SELECT and returns its rows (JSONEachRow; 64-bit integers arrive as strings). */
export async function queryRows<T>(ch: ClickHouse, query: SqlFragment, opts: { abortSignal?: AbortSignal; settings?: Record<string, string | number> } = {}): Promise<T[]> {
  const result = await ch.client.query({
    query: query.text,
    format: 'JSONEachRow',
    abort_signal: opts.abortSignal,
    clickhouse_settings: opts.settings,
  });
  return (await result.json()) as T[];
}

/**
 * Runs a SELECT of numeric columns and returns its rows as text fields (TabSeparated). For large results of numbers:
 * far less to parse than JSON, and Float64 text is exact (shortest round-trip form; nan, inf, -inf spelled out) —
 * see parseFloatField. Not for strings (TSV escapes them).
 */
export async function queryNumericRows(ch: ClickHouse, query: SqlFragment, opts: { settings?: Record<string, string | number> } = {}): Promise<string[][]> {
  const result = await ch.client.query({ query: query.text, format: 'TabSeparated', clickhouse_settings: opts.settings });
  const text = await result.text();
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((line) => line.split('\t'));
}

/**
 * Runs a SELECT and returns its result in ClickHouse's RowBinary format: numbers as little-endian bytes, no text to
 * parse. For large results of fixed-width numbers (see dataset-buckets.ts).
 */
export async function queryRowBinary(ch: ClickHouse, query: SqlFragment, opts: { abortSignal?: AbortSignal; settings?: Record<string, string | number> } = {}): Promise<Buffer> {
  const result = await ch.client.exec({ query: `${query.text}\nFORMAT RowBinary`, abort_signal: opts.abortSignal, clickhouse_settings: opts.settings });
  const chunks: Buffer[] = [];
  for await (const chunk of result.stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A Float64 printed by ClickHouse in text formats. */
export function parseFloatField(text: string): number {
  switch (text) {
    case 'nan':
    case '-nan':
      return NaN;
    case 'inf':
    case '+inf':
      return Infinity;
    case '-inf':
      return -Infinity;
    default:
      return Number(text);
  }
}

/** Ids of the queries running on the server whose id starts with `prefix`. */
export async function runningQueryIds(ch: ClickHouse, prefix: string): Promise<string[]> {
  const rows = await queryRows<{ query_id: string }>(ch, sql`SELECT query_id FROM system.processes WHERE startsWith(query_id, ${prefix})`);
  return rows.map((r) => r.query_id);
}

/** Runs a statement that returns no rows (DDL, INSERT … SELECT). */
export async function command(ch: ClickHouse, statement: SqlFragment | string): Promise<void> {
  await ch.client.command({ query: typeof statement === 'string' ? statement : statement.text });
}

/**
 * Sends one pre-encoded Native block as an INSERT; resolves once the server has committed it. `queryId` names the
 * insert on the server: while a query with that id runs, ClickHouse refuses another (so a retry cannot overlap an
 * attempt the client gave up on), and `runningQueryIds` finds it.
 */
export async function insertNative(
  ch: ClickHouse,
  table: string,
  columns: readonly string[],
  block: Buffer,
  opts: { queryId?: string; settings?: Readonly<Record<string, string>> } = {},
): Promise<void> {
  const result = await ch.client.exec({
    query: `INSERT INTO ${table} (${columns.join(', ')}) FORMAT Native`,
    values: Readable.from([block]),
    ...(opts.queryId ? { query_id: opts.queryId } : {}),
    ...(opts.settings ? { clickhouse_settings: opts.settings as Record<string, string> } : {}),
  });
  // Drain the (empty) response so the socket returns to the pool.
  for await (const _ of result.stream) void _;
}
