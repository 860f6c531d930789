// Migrations add and recreate views and backfill while nothing may insert: `npm start` and `npm run migrate` apply
// pending migrations only while the ingest consumer group has no members.
import { afterAll, describe, expect, it } from 'vitest';
import { command, ident, sql } from '@runstream/clickhouse';
import { applyMigrations } from '../scripts/local-stack.ts';
import { busFor, clickhouseFor, ensureTopics, isolatedEnv, log, spawnWorker, stopWorker, waitFor, type WorkerProcess } from './support/pipeline-fixture.ts';

const env = isolatedEnv();
// A database of its own, so that every migration is pending.
const database = `runstream_guard_${env.INGEST_GROUP_ID!.replace(/\W/g, '_')}`;
const migrateEnv = { ...env, CLICKHOUSE_DATABASE: database };
let worker: WorkerProcess | undefined;

const clickhouseAdmin = clickhouseFor('admin');
const dropDatabase = () => command(clickhouseAdmin, sql`DROP DATABASE IF EXISTS ${ident(database)}`);

afterAll(async () => {
  if (worker) await stopWorker(worker);
  await dropDatabase();
  await clickhouseAdmin.close();
});

describe('migrations and running workers', () => {
  it('refuses pending migrations while the ingest group has members, applies them once it is empty', async () => {
    await ensureTopics(env);
    worker = spawnWorker(env);
    const admin = await busFor(env).admin();
    try {
      await waitFor('the worker to join its group', async () => (await admin.groupMembers(env.INGEST_GROUP_ID!)) > 0, 60_000);
      await expect(applyMigrations(log, migrateEnv, { refuseWhileIngesting: true })).rejects.toThrow(/pending migration\(s\) \(0001_.*not applied: the ingest consumer group '.*' has 1 active member/);
      // The operator's override.
      expect((await applyMigrations(log, { ...migrateEnv, RUNSTREAM_MIGRATE_WITH_WORKERS: '1' }, { refuseWhileIngesting: true })).length).toBeGreaterThan(10);
      await dropDatabase();
      await stopWorker(worker);
      worker = undefined;
      await waitFor('the group to be empty', async () => (await admin.groupMembers(env.INGEST_GROUP_ID!)) === 0, 60_000);
      expect((await applyMigrations(log, migrateEnv, { refuseWhileIngesting: true })).length).toBeGreaterThan(10);
      // Nothing pending: no question asked, whatever runs.
      worker = spawnWorker(env);
      await waitFor('the worker to join again', async () => (await admin.groupMembers(env.INGEST_GROUP_ID!)) > 0, 60_000);
      expect(await applyMigrations(log, migrateEnv, { refuseWhileIngesting: true })).toEqual([]);
    } finally {
      await admin.disconnect();
    }
  }, 180_000);
});
