// Runs fault scenarios one after the other on one private instance (single node or cluster) and prints the report.
// Shared by `npm run chaos` (scripts/chaos/run-chaos.ts) and `npm run chaos:cluster` (run-cluster-chaos.ts).
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, type Logger } from '@runstream/config';
import { passed, type ChaosContext, type ScenarioResult } from './chaos-kit.ts';
import { CHAOS_LOG_DIR, type ChaosStack } from './private-stack.ts';
import { details, fuzzTables, summaryTable } from './report.ts';
import type { Scenario } from './scenarios.ts';

/** The scenarios named on the command line (all non-optional ones when none is, all with CHAOS_ALL=1); exits 2 on an unknown name. */
export function selectScenarios<S extends ChaosStack>(all: Scenario<S>[], wanted: string[]): Scenario<S>[] {
  const scenarios = wanted.length ? all.filter((s) => wanted.includes(s.name)) : all.filter((s) => !s.optional || process.env.CHAOS_ALL === '1');
  if (scenarios.length === 0 || scenarios.length < wanted.length) {
    console.error(`unknown scenario in ${wanted.join(', ')}; known: ${all.map((s) => s.name).join(', ')}`);
    process.exit(2);
  }
  return scenarios;
}

/** @clickhouse/client logs to the console on its own while a server is down: those lines go to `file` instead. */
export function routeClickHouseClientLogs(file: string): void {
  const out = createWriteStream(file);
  for (const level of ['error', 'warn'] as const) {
    const original = console[level].bind(console);
    console[level] = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].includes('[@clickhouse/client]')) out.write(`${args.map(String).join(' ')}\n`);
      else original(...args);
    };
  }
}

/** The in-process clients (SDK, kafkajs) complain loudly while servers are down: to a file, not the report. */
export function chaosLogger(): { log: Logger; clientLogFile: string; say: (msg: string) => void } {
  mkdirSync(CHAOS_LOG_DIR, { recursive: true });
  const clientLogFile = join(CHAOS_LOG_DIR, 'clients.log');
  const log = createLogger({ name: 'chaos', level: process.env.CHAOS_LOG_LEVEL ?? 'info', destination: createWriteStream(clientLogFile) });
  routeClickHouseClientLogs(clientLogFile.replace(/\.log$/, '-clickhouse.log'));
  const t0 = Date.now();
  const say = (msg: string) => console.error(`[chaos +${((Date.now() - t0) / 1000).toFixed(0).padStart(3)}s] ${msg}`);
  return { log, clientLogFile, say };
}

/**
 * Starts `stack` (via `start`), runs every scenario on it, stops it (also on SIGINT/SIGTERM), prints the report and
 * exits: non-zero if any point was lost or duplicated or a scenario failed otherwise.
 */
export async function runChaos<S extends ChaosStack>(opts: {
  stack: S;
  start: () => Promise<void>;
  /** What was started, for the progress line and the report header. */
  describe: string;
  scenarios: Scenario<S>[];
  log: Logger;
  say: (msg: string) => void;
  clientLogFile: string;
}): Promise<never> {
  const { stack, scenarios, log, say } = opts;
  const t0 = Date.now();
  let stopping = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      say(`${sig}: stopping the private servers`);
      stack.stopSync();
      process.exit(130);
    });
  }

  const results: ScenarioResult[] = [];
  let exitCode = 0;
  try {
    say(`starting ${opts.describe}, data ${stack.dataDir}`);
    await opts.start();
    say('private servers up');
    const ctx: ChaosContext<S> = { stack, log, say };
    for (const s of scenarios) {
      say(`── ${s.name}: ${s.title}`);
      const started = Date.now();
      try {
        const r = await s.run(ctx);
        results.push(r);
        say(`${s.name}: ${passed(r) ? 'PASS' : 'FAIL'} (lost ${r.lost}, duplicated ${r.duplicated}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      } catch (err) {
        say(`${s.name}: ERROR ${(err as Error).stack}`);
        results.push({
          name: s.name, title: s.title, sent: 0, stored: 0, distinct: 0, deadLettered: 0, deadLetterExpected: 0, deadLetterRecords: 0,
          lost: 0, duplicated: 0, workerDuplicates: 0, producerDuplicates: 0, expectedSum: 0, storedSum: 0,
          durationMs: Date.now() - started, notes: [], failures: [], error: (err as Error).message,
        });
      }
    }
  } catch (err) {
    say(`private servers: ${(err as Error).message}`);
    exitCode = 1;
  } finally {
    say('stopping the private servers');
    await stack.stop({ keepData: Boolean(process.env.CHAOS_KEEP_DATA) });
  }

  const total = Date.now() - t0;
  console.log(`\n# Chaos report (${new Date().toISOString()}, total ${(total / 1000).toFixed(0)} s, ${opts.describe})\n`);
  console.log(summaryTable(results));
  const fuzz = fuzzTables(results);
  if (fuzz) console.log(`\n## Hostile input\n\n${fuzz}`);
  for (const r of results) console.log(`\n${details(r)}`);
  console.log(`\nworker logs: ${CHAOS_LOG_DIR}/<scenario>-workers.log, client log: ${opts.clientLogFile}`);
  if (results.some((r) => !passed(r))) exitCode = 1;
  if (results.length < scenarios.length) exitCode = 1;
  process.exit(exitCode);
}
