// `npm run chaos`: every fault scenario of test/chaos on a private Kafka + ClickHouse (never the shared local
// stack), the decoder and HTTP API fuzzers on the same stack, then a report. Exits non-zero if any point or fuzz
// input was lost or duplicated, the API answered a 5xx or hung, or a scenario failed otherwise.
//
//   npm run chaos                                  # all scenarios
//   npm run chaos -- kafka-restart rebalance       # only these (clickhouse-outage-2w runs only by name)
//   CHAOS_ALL=1 npm run chaos                      # also the optional scenarios (> 6 min)
//   CHAOS_BURST_REQUESTS=600 CHAOS_BURST_CONCURRENCY=150 npm run chaos -- query-burst
//   CHAOS_QUERY_TARGET_LAG_MS=0 CHAOS_QUERY_CALLER_SHARE_PCT=100 npm run chaos -- query-burst   # service settings
//   CHAOS_KEEP_DATA=1 npm run chaos                # keep the private stack's data dir for inspection
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '@runstream/config';
import { passed, type ChaosContext, type ScenarioResult } from '../../test/chaos/chaos-kit.ts';
import { CHAOS_LOG_DIR, PrivateStack } from '../../test/chaos/private-stack.ts';
import { details, fuzzTables, summaryTable } from '../../test/chaos/report.ts';
import { ALL_SCENARIOS } from '../../test/chaos/scenarios.ts';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const wanted = process.argv.slice(2);
const scenarios = wanted.length
  ? ALL_SCENARIOS.filter((s) => wanted.includes(s.name))
  : ALL_SCENARIOS.filter((s) => !s.optional || process.env.CHAOS_ALL === '1');
if (scenarios.length === 0 || scenarios.length < wanted.length) {
  console.error(`unknown scenario in ${wanted.join(', ')}; known: ${ALL_SCENARIOS.map((s) => s.name).join(', ')}`);
  process.exit(2);
}

mkdirSync(CHAOS_LOG_DIR, { recursive: true });
const clientLogFile = join(CHAOS_LOG_DIR, 'clients.log');
// The in-process clients (SDK, kafkajs) complain loudly while servers are down: to a file, not the report.
const log = createLogger({ name: 'chaos', level: process.env.CHAOS_LOG_LEVEL ?? 'info', destination: createWriteStream(clientLogFile) });
const t0 = Date.now();
const say = (msg: string) => console.error(`[chaos +${((Date.now() - t0) / 1000).toFixed(0).padStart(3)}s] ${msg}`);

const stack = await PrivateStack.create('run', { kafka: 26092, kafkaController: 26093, clickhouseHttp: 26123, clickhouseTcp: 26000 }, log);
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    say(`${sig}: stopping the private stack`);
    stack.stopSync();
    process.exit(130);
  });
}

const results: ScenarioResult[] = [];
let exitCode = 0;
try {
  say(`starting the private stack: Kafka 127.0.0.1:${stack.ports.kafka}, ClickHouse ${stack.clickhouseUrl}, data ${stack.dataDir}`);
  await stack.start();
  say(`private stack up`);
  const ctx: ChaosContext = { stack, log, say };
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
  say(`private stack: ${(err as Error).message}`);
  exitCode = 1;
} finally {
  say('stopping the private stack');
  await stack.stop({ keepData: Boolean(process.env.CHAOS_KEEP_DATA) });
}

const total = Date.now() - t0;
console.log(`\n# Chaos report (${new Date().toISOString()}, total ${(total / 1000).toFixed(0)} s, private stack: Kafka :${stack.ports.kafka}, ClickHouse :${stack.ports.clickhouseHttp})\n`);
console.log(summaryTable(results));
const fuzz = fuzzTables(results);
if (fuzz) console.log(`\n## Hostile input\n\n${fuzz}`);
for (const r of results) console.log(`\n${details(r)}`);
console.log(`\nworker logs: ${CHAOS_LOG_DIR}/<scenario>-workers.log, client log: ${clientLogFile}`);
if (results.some((r) => !passed(r))) exitCode = 1;
if (results.length < scenarios.length) exitCode = 1;
process.exit(exitCode);
