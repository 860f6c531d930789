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
// The cluster's scenarios: `npm run chaos:cluster` (run-cluster-chaos.ts).
import { PrivateStack } from '../../test/chaos/private-stack.ts';
import { chaosLogger, runChaos, selectScenarios } from '../../test/chaos/runner.ts';
import { ALL_SCENARIOS } from '../../test/chaos/scenarios.ts';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const scenarios = selectScenarios(ALL_SCENARIOS, process.argv.slice(2));
const { log, say, clientLogFile } = chaosLogger();
const stack = await PrivateStack.create('run', { kafka: 26092, kafkaController: 26093, clickhouseHttp: 26123, clickhouseTcp: 26000 }, log);
await runChaos({
  stack,
  start: () => stack.start(),
  describe: `private stack: Kafka :${stack.ports.kafka}, ClickHouse :${stack.ports.clickhouseHttp}`,
  scenarios,
  log,
  say,
  clientLogFile,
});
