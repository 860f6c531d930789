// Progress on stderr: a bar redrawn in place on a terminal, plain lines at an interval otherwise (CI logs, pipes).

export interface ProgressSink {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressSnapshot {
  runsDone: number;
  runsTotal: number;
  pointsSent: number;
  pointsSkipped: number;
  elapsedMs: number;
  pointsPerSecond: number;
}

export class Progress {
  private readonly sink: ProgressSink;
  private readonly tty: boolean;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private runsTotal = 0;
  private runsDone = 0;
  private pointsSent = 0;
  private pointsSkipped = 0;
  private label = '';
  private drawn = false;
  private started = false;

  constructor(opts: { sink: ProgressSink; tty?: boolean; intervalMs?: number; now?: () => number }) {
    this.sink = opts.sink;
    this.tty = opts.tty ?? Boolean(opts.sink.isTTY);
    this.intervalMs = opts.intervalMs ?? (this.tty ? 100 : 5_000);
    this.now = opts.now ?? Date.now;
  }

  start(runsTotal: number, label = 'importing'): void {
    this.startedAt = this.now();
    this.started = true;
    this.runsTotal = runsTotal;
    this.label = label;
    if (this.intervalMs > 0) {
      this.timer = setInterval(() => this.render(), this.intervalMs);
      this.timer.unref();
    }
    this.render();
  }

  runDone(): void {
    this.runsDone++;
  }

  sent(points: number): void {
    this.pointsSent += points;
  }

  skipped(points: number): void {
    this.pointsSkipped += points;
  }

  /** A message that must not be overwritten by the bar (a warning, a mapping). */
  note(text: string): void {
    if (this.tty && this.drawn) this.sink.write('\r\x1b[K');
    this.sink.write(`${text}\n`);
    this.drawn = false;
  }

  snapshot(): ProgressSnapshot {
    const elapsedMs = Math.max(0, this.now() - this.startedAt);
    return {
      runsDone: this.runsDone,
      runsTotal: this.runsTotal,
      pointsSent: this.pointsSent,
      pointsSkipped: this.pointsSkipped,
      elapsedMs,
      pointsPerSecond: elapsedMs > 0 ? Math.round((this.pointsSent * 1000) / elapsedMs) : 0,
    };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!this.started) return;
    this.started = false;
    this.render();
    if (this.tty && this.drawn) this.sink.write('\n');
    this.drawn = false;
  }

  render(): void {
    const s = this.snapshot();
    const counts = `${s.runsDone}/${s.runsTotal} runs  ${fmt(s.pointsSent)} points sent  ${fmt(s.pointsSkipped)} already present  ${fmt(s.pointsPerSecond)} points/s  ${(s.elapsedMs / 1000).toFixed(1)} s`;
    if (!this.tty) {
      this.sink.write(`${this.label}: ${counts}\n`);
      return;
    }
    const width = 28;
    const filled = s.runsTotal === 0 ? width : Math.round((s.runsDone / s.runsTotal) * width);
    const line = `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${counts}`;
    const cols = this.sink.columns ?? 120;
    this.sink.write(`\r\x1b[K${line.length >= cols ? line.slice(0, cols - 1) : line}`);
    this.drawn = true;
  }
}

export function fmt(n: number): string {
  return n.toLocaleString('en-US');
}
