// Text report of fault scenarios: one summary table, then each scenario's details and the burst latencies.
import { passed, type ScenarioResult } from './chaos-kit.ts';

const n = (v: number) => v.toLocaleString('en');
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function table(header: string[], rows: string[][], rightAligned: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (rightAligned[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (rightAligned[i] ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`;
  return [line(header), sep, ...rows.map(line)].join('\n');
}

export function summaryTable(results: ScenarioResult[]): string {
  // The time to recover only where a scenario measured one (the cluster scenarios).
  const recovery = results.some((r) => r.recoveryMs !== undefined);
  const rows = results.map((r) => {
    const cells = r.fuzz?.api ? [r.name, '—', '—', '—', '—', '—', '—', '—', secs(r.durationMs), passed(r) ? 'PASS' : 'FAIL'] : r.fuzz?.decoder ? [
      r.name,
      n(r.sent),
      n(r.stored),
      n(r.distinct),
      `${n(r.deadLettered)}/${n(r.deadLetterExpected)}`,
      n(r.lost),
      n(r.duplicated),
      '—',
      secs(r.durationMs),
      passed(r) ? 'PASS' : 'FAIL',
    ] : [
      r.name,
      n(r.sent),
      n(r.stored),
      n(r.distinct),
      `${r.deadLettered}/${r.deadLetterExpected}${r.deadLetterRecords !== r.deadLettered ? ` (${r.deadLetterRecords} rec.)` : ''}`,
      n(r.lost),
      n(r.duplicated),
      r.storedSum === r.expectedSum ? 'yes' : `no (${n(r.storedSum - r.expectedSum)})`,
      secs(r.durationMs),
      passed(r) ? 'PASS' : 'FAIL',
    ];
    if (recovery) cells.splice(8, 0, r.recoveryMs === undefined ? '—' : secs(r.recoveryMs));
    return cells;
  });
  const header = ['scenario', 'sent', 'stored', 'distinct', 'dead-lettered', 'lost', 'duplicated', 'exact sum', 'duration', 'result'];
  const right = [false, true, true, true, true, true, true, false, true, false];
  if (recovery) {
    header.splice(8, 0, 'time to recover');
    right.splice(8, 0, true);
  }
  return table(header, rows, right);
}

export function details(r: ScenarioResult): string {
  const out = [`## ${r.name} — ${r.title}`];
  // The fuzzers' counts are in their own tables (fuzzTables).
  if (!r.fuzz) out.push(
    table(
      ['sent', 'stored', 'dead-lettered', 'lost', 'duplicated', 'duration'],
      [[n(r.sent), n(r.stored), `${r.deadLettered} of ${r.deadLetterExpected} malformed (${r.deadLetterRecords} DLQ records)`, n(r.lost), n(r.duplicated), secs(r.durationMs)]],
      [true, true, false, true, true, true],
    ),
  );
  if (r.duplicated > 0) {
    out.push(`duplicates: ${n(r.workerDuplicates)} rows from Kafka messages stored twice (worker), ${n(r.producerDuplicates)} from points written twice to Kafka (producer)`);
  }
  if (r.storedSum !== r.expectedSum) out.push(`sum: stored ${r.storedSum}, expected ${r.expectedSum}`);
  if (r.sdkError) out.push(`SDK error: ${r.sdkError}`);
  if (r.error) out.push(`error: ${r.error}`);
  for (const f of r.failures) out.push(`FAILED: ${f}`);
  if (r.latency) {
    const l = r.latency;
    const ms = (v: number) => `${n(v)} ms`;
    const lat = (name: string, x: { count: number; p50Ms: number; p99Ms: number; maxMs: number }, extra: string) =>
      [name, n(x.count), ms(x.p50Ms), ms(x.p99Ms), ms(x.maxMs), extra];
    out.push(
      table(
        ['burst requests', 'in flight', 'responses by status', '503s', 'gave up', 'no answer', 'served req/s', 'RSS rest → peak', 'wrong bodies'],
        [[
          n(l.requests),
          n(l.concurrency),
          Object.entries(l.byStatus).map(([s, c]) => `${s}×${c}`).join(' '),
          n(l.byStatus['503'] ?? 0),
          n(l.gaveUp),
          n(l.errors),
          n(l.throughputPerSec),
          `${l.baseRssMb} → ${l.peakRssMb} MB`,
          n(l.wrongBodies),
        ]],
        [true, true, false, true, true, true, true, true, true],
      ),
    );
    out.push('');
    out.push(
      table(
        ['during the burst', 'count', 'p50', 'p99', 'max', 'note'],
        [
          lat('expensive, served (200)', l.served, '25,000-point history'),
          lat('expensive, shed (503)', l.shed, 'Retry-After honoured, then retried'),
          lat('cheap: /health', l.health, `${l.health.failed} not 200`),
          lat('cheap: 10-point read, other token', l.smallRead, `${l.smallRead.failed} not 200`),
        ],
        [false, true, true, true, true, false],
      ),
    );
  }
  for (const note of r.notes) out.push(`- ${note}`);
  return out.join('\n');
}

/** The fuzzers' counts: inputs tried and where they ended up; 5xx and hangs of the HTTP API. */
export function fuzzTables(results: ScenarioResult[]): string {
  const out: string[] = [];
  const decoder = results.filter((r) => r.fuzz?.decoder);
  if (decoder.length) {
    out.push(
      table(
        ['decoder fuzz via Kafka', 'inputs tried', 'stored (rows)', 'predicted stored', 'dead-lettered', 'worker alive', 'lost', 'duplicated rows', 'result'],
        decoder.flatMap((r) =>
          r.fuzz!.decoder!.topics.map((c) => [
            `${c.topic} topic`,
            n(c.inputs),
            `${n(c.stored)} (${n(c.storedRows)})`,
            `${n(c.expectedStored)} (${n(c.expectedRows)})`,
            `${n(c.deadLettered)}${c.deadLetterRecords !== c.deadLettered ? ` (${n(c.deadLetterRecords)} rec.)` : ''}`,
            r.fuzz!.decoder!.workerAlive ? 'yes' : 'NO',
            n(c.lost),
            n(c.duplicatedRows),
            passed(r) ? 'PASS' : 'FAIL',
          ]),
        ),
        [false, true, true, true, true, false, true, true, false],
      ),
    );
  }
  const api = results.filter((r) => r.fuzz?.api);
  if (api.length) {
    if (out.length) out.push('');
    out.push(
      table(
        ['HTTP API fuzz (Schemathesis)', 'operations', 'inputs tried', '5xx (Schemathesis / service)', 'hangs/timeouts', 'other errors', 'duration', 'result'],
        api.map((r) => {
          const a = r.fuzz!.api!;
          return [r.name, n(a.operations), n(a.testCases), `${n(a.serverErrors)} / ${n(a.serverErrorsByService)}`, n(a.timeouts), n(a.errors), `${a.seconds.toFixed(1)} s`, passed(r) ? 'PASS' : 'FAIL'];
        }),
        [false, true, true, true, true, true, true, false],
      ),
    );
  }
  return out.join('\n');
}
