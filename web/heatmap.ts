/**
 * Heat maps and rasters on a canvas: rows are units (or input features), columns are time steps of one sequence.
 * Values are drawn on a diverging scale (blue negative, white zero, red positive) normalised by the largest
 * magnitude shown, which the caption states; a raster draws a dark tick wherever a spiking unit's output is
 * non-zero. `data-cells` and `data-spikes` on the canvas let a browser test see what is drawn.
 */

export interface HeatmapOptions {
  /** a raster: dark where the value is non-zero, nothing elsewhere */
  raster?: boolean;
  /** a column to mark (e.g. the scored steps), one flag per time step */
  marks?: number[];
}

/** values[t][row] → the canvas; returns the largest magnitude (the scale's end) */
export function drawHeatmap(canvas: HTMLCanvasElement, values: number[][], options: HeatmapOptions = {}): number {
  const T = values.length,
    rows = T > 0 ? values[0]!.length : 0;
  const dpr = globalThis.devicePixelRatio || 1;
  const cssW = canvas.clientWidth || 300;
  const cellH = Math.max(2, Math.min(8, Math.floor(160 / Math.max(1, rows))));
  const markH = options.marks ? 4 : 0;
  const cssH = Math.max(12, rows * cellH + markH);
  canvas.style.height = `${cssH}px`;
  canvas.width = Math.round(cssW * dpr);
  canvas.height = Math.round(cssH * dpr);
  const g = canvas.getContext('2d');
  if (!g) return 0;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, cssW, cssH);
  let max = 0,
    spikes = 0;
  for (const row of values) for (const v of row) max = Math.max(max, Math.abs(v));
  const cellW = cssW / Math.max(1, T);
  for (let t = 0; t < T; t++) {
    const col = values[t]!;
    for (let r = 0; r < rows; r++) {
      const v = col[r]!;
      if (options.raster) {
        if (v === 0) continue;
        spikes++;
        g.fillStyle = '#222';
        g.fillRect(t * cellW + cellW * 0.15, markH + r * cellH, Math.max(1, cellW * 0.7), Math.max(1, cellH - 1));
        continue;
      }
      g.fillStyle = diverging(max > 0 ? v / max : 0);
      g.fillRect(t * cellW, markH + r * cellH, Math.ceil(cellW), cellH);
    }
    if (options.marks?.[t]) {
      g.fillStyle = '#555';
      g.fillRect(t * cellW, 0, Math.ceil(cellW), markH - 1);
    }
  }
  canvas.dataset.cells = String(T * rows);
  canvas.dataset.spikes = String(spikes);
  canvas.dataset.draws = String(Number(canvas.dataset.draws ?? 0) + 1);
  return max;
}

/** −1 → blue, 0 → white, 1 → red */
function diverging(x: number): string {
  const a = Math.min(1, Math.abs(x));
  const fade = Math.round(255 * (1 - a));
  return x >= 0
    ? `rgb(${Math.round(255 - 40 * a)},${fade},${fade})`
    : `rgb(${fade},${Math.round(fade + 60 * a * 0.5)},${Math.round(255 - 40 * a)})`;
}
