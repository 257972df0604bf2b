/**
 * Progress for long work. `ProgressBar`: step, rate, ETA and the latest loss and metric on one line that
 * fits the terminal (never wider than its columns − 1, so a redraw never wraps into a new line); on a
 * terminal it redraws in place, otherwise (CI logs, pipes) it prints a plain line at every tenth of the work.
 * The rate counts only the steps done in this process, so after `--resume` it is the real speed and the
 * ETA the real time left. `StatusLine`: one redrawn line for work whose total is not known in advance.
 */

/** columns to fit when the stream does not say (a pipe, a log): the classic terminal */
const DEFAULT_COLUMNS = 80;

export interface ProgressState {
  label: string;
  done: number;
  total: number;
  /** steps per second since this process started, NaN before the first step */
  rate: number;
  /** seconds left, NaN when unknown */
  eta: number;
  fields: Record<string, number>;
}

/** the progress line for `state`, at most `columns − 1` characters wide */
export function formatProgress(s: ProgressState, columns: number): string {
  const max = Math.max(20, columns - 1);
  const count = `${s.done}/${s.total}`;
  const speed = Number.isFinite(s.rate) ? `${formatRate(s.rate)} steps/s` : '';
  const eta = Number.isFinite(s.eta) ? `ETA ${formatDuration(s.eta)}` : '';
  const fields = Object.entries(s.fields).map(([k, v]) => `${k} ${format(v)}`);
  const bar = (w: number): string => {
    const filled = Math.round((w * Math.min(s.done, s.total)) / Math.max(1, s.total));
    return '█'.repeat(filled) + '░'.repeat(w - filled);
  };
  // what gives way first when the terminal is narrow: the bar's width, the label, the last fields, the rate
  const compose = (label: string, barWidth: number, nFields: number, withSpeed: boolean): string =>
    [label, barWidth > 0 ? bar(barWidth) : '', count, withSpeed ? speed : '', eta, ...fields.slice(0, nFields)].filter(Boolean).join('  ');
  for (let n = fields.length; n >= 0; n--) {
    for (const [label, w] of [
      [s.label, 24],
      [s.label, 16],
      [s.label, 10],
      ['', 16],
      ['', 10],
    ] as const) {
      const line = compose(label, w, n, true);
      if (width(line) <= max) return line;
    }
  }
  for (const line of [compose(s.label, 0, 0, true), compose('', 10, 0, true), compose('', 0, 0, true), compose('', 0, 0, false)]) {
    if (width(line) <= max) return line;
  }
  return [...compose('', 0, 0, false)].slice(0, max).join('');
}

export interface ProgressOptions {
  /** the step the work starts from (a resumed run): the rate and ETA count only the steps done here */
  startAt?: number;
  out?: NodeJS.WriteStream;
}

export class ProgressBar {
  private readonly start = performance.now();
  private lastDraw = 0;
  private lastTenth = -1;
  private readonly tty: boolean;
  private readonly out: NodeJS.WriteStream;
  private readonly startAt: number;

  constructor(
    private readonly total: number,
    private readonly label: string,
    options: ProgressOptions | NodeJS.WriteStream = {},
  ) {
    const o: ProgressOptions = 'write' in options ? { out: options } : options;
    this.out = o.out ?? process.stderr;
    this.startAt = o.startAt ?? 0;
    this.tty = Boolean(this.out.isTTY);
  }

  /** the line for `done` steps now (what update() draws) */
  line(done: number, fields: Record<string, number>, now = performance.now()): string {
    const elapsed = (now - this.start) / 1000;
    const here = done - this.startAt;
    const rate = here > 0 && elapsed > 0 ? here / elapsed : NaN;
    const eta = rate > 0 ? (this.total - done) / rate : NaN;
    return formatProgress({ label: this.label, done, total: this.total, rate, eta, fields }, this.out.columns || DEFAULT_COLUMNS);
  }

  update(done: number, fields: Record<string, number>): void {
    const now = performance.now();
    const tenth = Math.floor((10 * done) / Math.max(1, this.total));
    if (this.tty ? now - this.lastDraw < 100 && done < this.total : tenth === this.lastTenth) return;
    this.lastDraw = now;
    this.lastTenth = tenth;
    const line = this.line(done, fields, now);
    if (this.tty) this.out.write(`\r${line}\x1b[K`);
    else this.out.write(line + '\n');
  }

  /** print a line above the bar */
  log(line: string): void {
    if (this.tty) this.out.write(`\r\x1b[K${line}\n`);
    else this.out.write(line + '\n');
  }

  done(): void {
    if (this.tty) this.out.write('\r\x1b[K');
  }
}

/**
 * One line of status for work measured piece by piece (perf, gradcheck): on a terminal it redraws in place
 * (fitted to the width); elsewhere it prints a line at most every `everyMs` (default 5 s), so a log shows
 * the work is alive without a line per piece.
 */
export class StatusLine {
  private readonly start = performance.now();
  private last = -Infinity;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly everyMs = 5000,
  ) {
    this.tty = Boolean(out.isTTY);
  }

  update(text: string): void {
    const now = performance.now();
    if (!this.tty && now - this.last < this.everyMs) return;
    this.last = now;
    const line = fit(`${this.label}: ${text}  (${formatDuration((now - this.start) / 1000)})`, this.out.columns || DEFAULT_COLUMNS);
    if (this.tty) this.out.write(`\r${line}\x1b[K`);
    else this.out.write(line + '\n');
  }

  done(): void {
    if (this.tty) this.out.write('\r\x1b[K');
  }
}

/** `text` cut to at most columns − 1 characters (an ellipsis marks the cut) */
export function fit(text: string, columns: number): string {
  const chars = [...text],
    max = Math.max(10, columns - 1);
  return chars.length <= max ? text : chars.slice(0, max - 1).join('') + '…';
}

/** the width in terminal columns: one per code point (the bar's block characters are single-width) */
export function width(text: string): number {
  return [...text].length;
}

function format(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3);
}

function formatRate(r: number): string {
  return r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toPrecision(2);
}

/** 42s, 3m05s, 2h03m */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
