/**
 * The page's line charts, on uPlot (a maintained chart library made for live data; bundled by Vite, no CDN):
 * its axes choose ticks that never repeat a label, log axes are its own, and it resizes with its box. What this
 * wrapper adds: series on different x values merged onto one x axis, a y range that always includes a reference
 * (a metric's chance level or 0/1, so noise around chance is not blown up to fill the chart), markers wherever a
 * series is sparse (a single evaluation point is drawn), and `data-points` / `data-draws` on the box so a browser
 * test can see what is drawn.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  color: string;
  points: [number, number][];
  /** 'line' (default), 'dots' (markers only) or 'faint' (a thin translucent line, for noisy training curves) */
  style?: 'line' | 'dots' | 'faint';
  dash?: number[];
  /** marker size in px (default 4; dots 5) */
  size?: number;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  /** a log y axis once the values span a decade or more (below that, log ticks would be too few to read) */
  logY?: boolean;
  /** values the y range always includes (e.g. [0.5, 1] for a bit accuracy) */
  include?: number[];
  height?: number;
}

/** markers are drawn when a series has at most this many points in view */
const SPARSE = 40;

export class LineChart {
  private plot: uPlot | null = null;
  private signature = '';
  private draws = 0;

  constructor(
    private readonly box: HTMLElement,
    private options: ChartOptions,
  ) {
    new ResizeObserver(() => this.plot?.setSize(this.size())).observe(box);
  }

  setTitle(title: string, xLabel = this.options.xLabel): void {
    if (title === this.options.title && xLabel === this.options.xLabel) return;
    this.options = { ...this.options, title, xLabel };
    this.signature = ''; // rebuilt at the next draw
  }

  setInclude(include: number[] | undefined): void {
    if (JSON.stringify(include) === JSON.stringify(this.options.include)) return;
    this.options = { ...this.options, include };
    this.signature = '';
  }

  private size(): { width: number; height: number } {
    return { width: Math.max(200, this.box.clientWidth - 2), height: this.options.height ?? 200 };
  }

  draw(series: Series[]): void {
    const o = this.options;
    const usable = series.map((s) => ({
      ...s,
      points: s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!o.logY || y > 0)),
    }));
    // one x axis: the union of every series' x values; a series has null where it has no point
    const xs = [...new Set(usable.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
    const at = new Map(xs.map((x, i) => [x, i]));
    const columns = usable.map((s) => {
      const col: (number | null)[] = new Array<number | null>(xs.length).fill(null);
      for (const [x, y] of s.points) col[at.get(x)!] = y;
      return col;
    });
    const ys = usable.flatMap((s) => s.points.map((p) => p[1]));
    const log = o.logY === true && ys.length > 1 && Math.max(...ys) >= 10 * Math.min(...ys);
    const signature = JSON.stringify([o, log, usable.map((s) => [s.label, s.color, s.style, s.dash, s.size, s.points.length <= SPARSE])]);
    const data: uPlot.AlignedData = [xs, ...columns];
    if (signature !== this.signature || !this.plot) {
      this.plot?.destroy();
      this.box.replaceChildren();
      this.plot = new uPlot(this.config(usable, log), data, this.box);
      this.signature = signature;
    } else {
      this.plot.setData(data);
    }
    this.draws++;
    this.box.dataset.draws = String(this.draws);
    this.box.dataset.points = String(usable.reduce((n, s) => n + s.points.length, 0));
    this.box.dataset.series = JSON.stringify(usable.map((s) => s.points.length));
  }

  /**
   * tick labels: as many decimals as the tick spacing needs, so neighbouring ticks never read the same
   * (log axes: three significant digits of each 1·2·5 value); the labels are kept in `data-ticks-x` / `-y`
   */
  private ticks(axis: 'x' | 'y', log: boolean): uPlot.Axis.DynamicValues {
    return (_u, splits, _i, _space, incr) => {
      const decimals = Math.max(0, Math.min(12, -Math.floor(Math.log10(incr > 0 ? incr : 1) + 1e-9)));
      // (a log axis's splits may hold nulls where uPlot leaves a tick unlabelled)
      const labels = (splits as (number | null)[]).map((v) =>
        v === null ? null : log ? formatLog(v) : v.toFixed(decimals).replace(/^-(0\.?0*)$/, '$1'),
      );
      this.box.dataset[axis === 'x' ? 'ticksX' : 'ticksY'] = JSON.stringify(labels);
      return labels;
    };
  }

  private config(series: Series[], log: boolean): uPlot.Options {
    const o = this.options;
    const include = o.include ?? [];
    const range: uPlot.Scale.Range = (_u, min, max) => {
      const empty = min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max);
      if (log) {
        // a log axis needs a positive range (an empty chart shows one decade)
        if (empty || min <= 0) return [0.1, 1];
        // whole decades at both ends: uPlot labels a log axis at 1·2·5 values as space allows, so a range
        // inside one decade could show a single label; decade ends always give at least two
        return [10 ** Math.floor(Math.log10(min / 1.25)), 10 ** Math.ceil(Math.log10(max * 1.25))];
      }
      if (empty) return include.length ? [Math.min(...include), Math.max(...include)] : [0, 1];
      const lo = Math.min(min, ...include),
        hi = Math.max(max, ...include);
      if (hi === lo) return [lo - 0.5, hi + 0.5];
      const pad = 0.05 * (hi - lo);
      return [lo - (include.includes(lo) ? 0 : pad), hi + (include.includes(hi) ? 0 : pad)];
    };
    return {
      ...this.size(),
      title: o.title,
      legend: { show: true, live: false },
      cursor: { drag: { x: true, y: false }, points: { show: false } },
      scales: { x: { time: false }, y: log ? { distr: 3, log: 10, range } : { distr: 1, range } },
      axes: [
        {
          label: o.xLabel,
          labelSize: 18,
          size: 36,
          stroke: '#555',
          grid: { stroke: '#eee' },
          ticks: { stroke: '#ddd' },
          values: this.ticks('x', false),
        },
        { size: 52, stroke: '#555', grid: { stroke: '#eee' }, ticks: { stroke: '#ddd' }, values: this.ticks('y', log) },
      ],
      series: [
        {},
        ...series.map((s): uPlot.Series => {
          const sparse = s.points.length <= SPARSE;
          const faint = s.style === 'faint';
          return {
            label: s.label,
            stroke: faint ? `${s.color}66` : s.color,
            width: faint ? 1 : 1.8,
            dash: s.dash,
            spanGaps: true,
            ...(s.style === 'dots' ? { paths: () => null } : {}),
            points: {
              show: s.style === 'dots' || (sparse && !faint),
              size: s.size ?? (s.style === 'dots' ? 5 : 4),
              stroke: s.color,
              fill: s.color,
            },
          };
        }),
      ],
    };
  }
}

function formatLog(v: number): string {
  const a = Math.abs(v);
  return a >= 1e5 || (a > 0 && a < 1e-4) ? v.toExponential(0) : String(Number(v.toPrecision(3)));
}
