/**
 * A small canvas line chart: a few series of (x, y) points, axes with round ticks, optional log y, a legend.
 * Redrawn whole on every update (a few hundred points: far below a millisecond). Each draw bumps the canvas's
 * `data-draws` and records the number of points in `data-points`, so a browser test can see that it updates.
 */
export interface Series {
  label: string;
  color: string;
  points: [number, number][];
  /** 'line' (default), 'dots' (markers only) or 'faint' (a thin translucent line, for noisy training curves) */
  style?: 'line' | 'dots' | 'faint';
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  logY?: boolean;
  /** fixed y range (otherwise fitted to the data) */
  yMin?: number;
  yMax?: number;
}

const PAD = { left: 54, right: 12, top: 36, bottom: 30 };

export class LineChart {
  constructor(private readonly canvas: HTMLCanvasElement, private options: ChartOptions) {}

  setTitle(title: string, xLabel = this.options.xLabel): void {
    this.options = { ...this.options, title, xLabel };
  }

  draw(series: Series[]): void {
    const canvas = this.canvas, o = this.options;
    const dpr = globalThis.devicePixelRatio || 1;
    const cssW = canvas.clientWidth || 400, cssH = canvas.clientHeight || 220;
    if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
      canvas.width = Math.round(cssW * dpr);
      canvas.height = Math.round(cssH * dpr);
    }
    const g = canvas.getContext('2d');
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, cssW, cssH);
    g.font = '11px system-ui, sans-serif';
    g.fillStyle = '#222';
    g.fillText(o.title, PAD.left, 14);

    const ty = (v: number): number => (o.logY ? Math.log10(Math.max(v, 1e-12)) : v);
    const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!o.logY || y > 0));
    let points = 0;
    for (const s of series) points += s.points.length;
    canvas.dataset.points = String(points);
    canvas.dataset.draws = String(Number(canvas.dataset.draws ?? 0) + 1);
    const w = cssW - PAD.left - PAD.right, h = cssH - PAD.top - PAD.bottom;
    g.strokeStyle = '#bbb';
    g.strokeRect(PAD.left, PAD.top, w, h);
    if (all.length === 0) {
      g.fillStyle = '#888';
      g.fillText('waiting for data…', PAD.left + 8, PAD.top + 16);
      return;
    }
    let x0 = Math.min(...all.map((p) => p[0])), x1 = Math.max(...all.map((p) => p[0]));
    let y0 = o.yMin !== undefined ? ty(o.yMin) : Math.min(...all.map((p) => ty(p[1])));
    let y1 = o.yMax !== undefined ? ty(o.yMax) : Math.max(...all.map((p) => ty(p[1])));
    if (x1 === x0) x1 = x0 + 1;
    if (y1 === y0) {
      y0 -= 0.5;
      y1 += 0.5;
    } else if (o.yMin === undefined || o.yMax === undefined) {
      const m = 0.05 * (y1 - y0);
      if (o.yMin === undefined) y0 -= m;
      if (o.yMax === undefined) y1 += m;
    }
    const px = (x: number): number => PAD.left + ((x - x0) / (x1 - x0)) * w;
    const py = (y: number): number => PAD.top + h - ((ty(y) - y0) / (y1 - y0)) * h;

    // ticks
    g.fillStyle = '#555';
    g.strokeStyle = '#eee';
    for (const v of o.logY ? logTicks(y0, y1) : ticks(y0, y1, 5)) {
      const y = PAD.top + h - ((v - y0) / (y1 - y0)) * h;
      g.beginPath();
      g.moveTo(PAD.left, y);
      g.lineTo(PAD.left + w, y);
      g.stroke();
      g.fillText(formatTick(o.logY ? 10 ** v : v), 4, y + 4);
    }
    for (const v of ticks(x0, x1, 6)) {
      const label = formatTick(v), tw = g.measureText(label).width;
      g.fillText(label, Math.min(Math.max(px(v) - tw / 2, PAD.left - tw / 2), cssW - tw - 2), PAD.top + h + 14);
    }
    g.fillText(o.xLabel, PAD.left + w - g.measureText(o.xLabel).width, cssH - 3);

    // series, clipped to the plot area
    g.save();
    g.beginPath();
    g.rect(PAD.left, PAD.top, w, h);
    g.clip();
    for (const s of series) {
      const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!o.logY || y > 0));
      g.strokeStyle = g.fillStyle = s.color;
      if (s.style === 'dots') {
        for (const [x, y] of pts) {
          g.beginPath();
          g.arc(px(x), py(y), 2.5, 0, 2 * Math.PI);
          g.fill();
        }
        continue;
      }
      g.globalAlpha = s.style === 'faint' ? 0.35 : 1;
      g.lineWidth = s.style === 'faint' ? 1 : 1.8;
      g.beginPath();
      pts.forEach(([x, y], i) => (i === 0 ? g.moveTo(px(x), py(y)) : g.lineTo(px(x), py(y))));
      g.stroke();
      g.globalAlpha = 1;
    }
    g.restore();

    // legend, on its own line under the title
    let lx = PAD.left;
    for (const s of series) {
      g.fillStyle = s.color;
      g.globalAlpha = s.style === 'faint' ? 0.5 : 1;
      g.fillRect(lx, 21, 12, 6);
      g.globalAlpha = 1;
      g.fillStyle = '#333';
      g.fillText(s.label, lx + 15, 28);
      lx += g.measureText(s.label).width + 28;
    }
  }
}

/** about n round tick values covering [a, b] */
function ticks(a: number, b: number, n: number): number[] {
  const span = b - a;
  const step0 = span / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => span / s <= n) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(a / step) * step; v <= b + 1e-9 * span; v += step) out.push(Math.abs(v) < 1e-12 * span ? 0 : v);
  return out;
}

/** ticks for a log axis given in log10 units: 1, 2, 5 × each decade, or decades only when that is too many */
function logTicks(a: number, b: number): number[] {
  const out: number[] = [];
  for (let d = Math.floor(a); d <= Math.ceil(b); d++) {
    for (const m of [1, 2, 5]) {
      const v = d + Math.log10(m);
      if (v >= a && v <= b) out.push(v);
    }
  }
  if (out.length > 7) return out.filter((v) => Number.isInteger(Math.round(v * 1e9) / 1e9));
  return out.length >= 2 ? out : ticks(a, b, 4);
}

function formatTick(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0);
  return String(Number(v.toPrecision(3)));
}
