/**
 * A progress bar for long work: step, rate, ETA and the latest loss and metric on one line. On a terminal
 * it redraws in place; otherwise (CI logs, pipes) it prints a plain line at every tenth of the work.
 */
export class ProgressBar {
  private readonly start = performance.now();
  private lastDraw = 0;
  private lastTenth = -1;
  private readonly tty: boolean;

  constructor(private readonly total: number, private readonly label: string, private readonly out: NodeJS.WriteStream = process.stderr) {
    this.tty = Boolean(out.isTTY);
  }

  update(done: number, fields: Record<string, number>): void {
    const now = performance.now();
    const tenth = Math.floor((10 * done) / Math.max(1, this.total));
    if (this.tty ? now - this.lastDraw < 100 && done < this.total : tenth === this.lastTenth) return;
    this.lastDraw = now;
    this.lastTenth = tenth;
    const elapsed = (now - this.start) / 1000;
    const rate = done / Math.max(elapsed, 1e-9);
    const eta = rate > 0 ? (this.total - done) / rate : 0;
    const width = 24;
    const filled = Math.round((width * done) / Math.max(1, this.total));
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const extra = Object.entries(fields).map(([k, v]) => `${k} ${format(v)}`).join('  ');
    const line = `${this.label} ${bar} ${done}/${this.total}  ${rate.toFixed(1)} steps/s  ETA ${eta.toFixed(0)}s  ${extra}`;
    if (this.tty) this.out.write(`\r${line}\x1b[K`);
    else this.out.write(line + '\n');
  }

  /** print a line above the bar */
  log(line: string): void {
    if (this.tty) this.out.write(`\r\x1b[K${line}\n`);
    else this.out.write(line + '\n');
  }

  done(): void {
    if (this.tty) this.out.write('\n');
  }
}

function format(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3);
}
