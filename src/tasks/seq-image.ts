/**
 * `seq-image` — sequential image classification: an image is shown one pixel per step (raster order: row by
 * row, left to right), 1 input channel holding the intensity in [0, 1]; T = size² (see `pixels` for rows). As in the online-LRU
 * paper's pool_st convention (sCIFAR there, sequential Fashion-MNIST here), the label is the target at every
 * step and the mask is 1 at every step — the network does the causal cumulative-mean pooling itself.
 * Loss: cross-entropy over `classes`; metric: accuracy (chance is 1/classes).
 *
 * Settings (stored as integers; the ones that choose among options also take their names, e.g.
 * `--set task.source=fashion-mnist task.order=rows`; `onward list --task seq-image` lists them):
 *   source   synthetic (1): oriented bars (below, no files); fashion-mnist (2): IDX files (Fashion-MNIST or any
 *            MNIST-format set; `idx` is the same code)
 *   size     image side; T = size². For the file source it must equal the files' rows and cols (28 for Fashion-MNIST)
 *   classes  number of classes; for the file source every label in the file must be below it (10 for Fashion-MNIST)
 *   noise    synthetic only: standard deviation of the pixel noise, in percent of full intensity
 *   permute  0: raster order; k ≥ 1: the permuted variant — step t shows pixel perm[t] of the image, where
 *            perm = new Rng(k).permutation(size²), one fixed permutation for the whole task (every batch)
 *   split    file source only: train (1) trains on the `train-*` files, test (2) on the `t10k-*` files; evaluation
 *            (Trainer.evaluate draws from it, `onward eval` reads all of it in order) uses the other split, so
 *            it never sees a training image
 *   order    pixels (1): `pixels` pixels per step (default one; T = size²/pixels); rows (2): one image row per
 *            step (T = size, `size` inputs per step), the row-wise sequential variant
 *   pixels   pixels per step for order pixels; any divisor of size² works
 *   readout  0 (default): the label is trained on at every step; k ≥ 1: at the last k steps only (for networks
 *            without their own pooling, e.g. spiking units read out at the end); the label is the target at
 *            every step either way (mask 0 before the readout), for osttp's targetTiming every-step
 *   score    last (1, default): the accuracy is scored at the last step only (the last pixel or row — what the
 *            sequential-image papers report); all (2): averaged over every step that has a target
 * Training images are drawn uniformly with replacement with the batch's rng.
 *
 * Source 2 — the data folder is the environment variable ONWARD_DATA when set, else Debian's
 * /usr/share/datasets/fashion-mnist (`apt-get install dataset-fashion-mnist`). It must hold
 * `{train,t10k}-images-idx3-ubyte` and `{train,t10k}-labels-idx1-ubyte`, each gzip-compressed (`.gz`, as
 * Debian and the Fashion-MNIST download ship them) or plain; a missing file is a ConfigError naming it and
 * the fix. The folder is read when the task is created, and each pair of files is kept in memory for the
 * rest of the process.
 *
 * Source 1 — synthetic oriented bars: the class c ∈ [0, classes) is the orientation θ = π·c/classes of a
 * bar (for 4 classes: 0 —, 1 ╲, 2 |, 3 ╱; angles measured from the horizontal, rows counting down). The bar
 * has half-length size/4 and half-thickness 1 px with linear edges, a uniformly random centre keeping it
 * inside the image and a random brightness in [0.5, 1); every pixel then gets Gaussian noise (σ = noise/100)
 * and is clipped to [0, 1]. No single pixel reveals the class: the network must combine pixels from
 * several rows (size steps apart) to tell the orientation. Classes are drawn uniformly.
 *
 * paper: Fashion-MNIST from IDX, 28×28, T = 784, 10 classes; ci: synthetic 8×8, T = 64, 4 classes, noise 20 %.
 */
import { ConfigError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { ImageSet } from '../data/idx.js';
// the IDX files are read in Node; a browser build swaps this module for seq-image-files.browser.ts
import { loadSeqImageSet } from './seq-image-files.js';
import { resolveSettings, setting, taskSettings } from './settings.js';
import { steps, type Batch, type Preset, type Task, type TaskInfo } from './task.js';

export { DEFAULT_DATA_DIR, loadSeqImageSet, seqImageDataDir } from './seq-image-files.js';

const settingTable = taskSettings(
  {
    source: setting('where the images come from', { choices: { synthetic: 1, 'fashion-mnist': 2, idx: 2 } }),
    size: setting('image side in pixels (T = size² pixel steps); 28 for Fashion-MNIST'),
    classes: setting('number of classes (chance accuracy is 1/classes)', { min: 2 }),
    noise: setting('synthetic images: pixel noise σ in percent of full intensity', { min: 0 }),
    permute: setting('0: raster order; k ≥ 1: one fixed pixel permutation drawn with seed k (permuted variant)', { min: 0 }),
    split: setting('file source: which split trains (the other one evaluates)', { choices: { train: 1, test: 2 } }),
    order: setting('what one step shows: `pixels` pixels, or a whole row', { choices: { pixels: 1, rows: 2 } }),
    pixels: setting('pixels per step for order=pixels (a divisor of size²)'),
    readout: setting('0: the label is the target at every step; k ≥ 1: only at the last k steps', { min: 0 }),
    score: setting('where accuracy is scored: the last step (as the papers report) or every step with a target', {
      choices: { last: 1, all: 2 },
    }),
  },
  {
    ci: { source: 1, size: 8, classes: 4, noise: 20, permute: 0, split: 1, order: 1, pixels: 1, readout: 0, score: 1 },
    paper: { source: 2, size: 28, classes: 10, noise: 20, permute: 0, split: 1, order: 1, pixels: 1, readout: 0, score: 1 },
  },
);

/** Render one synthetic bar image of class c into `img` (size² values in [0, 1], raster order). */
function renderBar(img: Float64Array, size: number, c: number, classes: number, sigma: number, rng: Rng): void {
  const theta = (Math.PI * c) / classes;
  const cos = Math.cos(theta),
    sin = Math.sin(theta);
  const h = size / 4;
  const ex = 0.5 + h * Math.abs(cos),
    ey = 0.5 + h * Math.abs(sin);
  const cx = rng.uniformIn(ex, size - ex),
    cy = rng.uniformIn(ey, size - ey);
  const amp = rng.uniformIn(0.5, 1);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      const dx = j + 0.5 - cx,
        dy = i + 0.5 - cy;
      const along = Math.max(0, Math.abs(dx * cos + dy * sin) - h);
      const across = Math.abs(-dx * sin + dy * cos);
      const v = amp * Math.max(0, 1 - across) * Math.max(0, 1 - along) + (sigma > 0 ? rng.normal(0, sigma) : 0);
      img[i * size + j] = Math.min(1, Math.max(0, v));
    }
  }
}

export const seqImageTask: TaskInfo = {
  name: 'seq-image',
  description: 'classify an image shown pixel by pixel (sequential / permuted Fashion-MNIST from IDX files, or synthetic bars)',
  settingTable,
  create(preset: Preset, overrides?: Record<string, number>): Task {
    const s = resolveSettings('seq-image', preset, settingTable, overrides);
    const { source, size, classes, noise, permute, split, order: ord, readout, score } = s;
    if (source === 1 && classes > 10) throw new ConfigError(`task seq-image: synthetic images have 2–10 classes, got ${classes}`);
    if (source === 1 && size < 4) throw new ConfigError(`task seq-image: synthetic images need size ≥ 4, got ${size}`);
    if (ord === 2 && s.pixels !== 1 && s.pixels !== size)
      throw new ConfigError(`task seq-image: order=rows shows ${size} pixels per step; leave pixels at 1 (it is ${s.pixels})`);
    const pixels = ord === 2 ? size : s.pixels;
    if ((size * size) % pixels !== 0)
      throw new ConfigError(`task seq-image: pixels per step (${pixels}) must divide the ${size * size} pixels of an image`);
    const P = size * size,
      T = P / pixels;
    if (readout > T) throw new ConfigError(`task seq-image: readout (${readout}) must not exceed the ${T} steps`);
    const loadSplit = (which: 'train' | 't10k'): ImageSet => {
      const set = loadSeqImageSet(which);
      if (set.rows !== size || set.cols !== size) {
        throw new ConfigError(
          `task seq-image: the data holds ${set.rows}×${set.cols} images but setting size is ${size}` +
            (set.rows === set.cols ? `; set size=${set.rows}` : '; only square images are supported'),
        );
      }
      let maxLabel = 0;
      for (const l of set.labels) maxLabel = Math.max(maxLabel, l);
      if (maxLabel >= classes)
        throw new ConfigError(
          `task seq-image: the labels go up to ${maxLabel} but setting classes is ${classes}; set classes=${maxLabel + 1}`,
        );
      return set;
    };
    const data = source === 2 ? loadSplit(split === 1 ? 'train' : 't10k') : null;
    // the file source evaluates on the other split (t10k when training on train): images never trained on
    const heldOut = source === 2 ? loadSplit(split === 1 ? 't10k' : 'train') : null;
    const order = permute > 0 ? new Rng(permute).permutation(P) : null;
    const sigma = noise / 100;
    const img = new Float64Array(P);
    /** B images: image k of `set` for sample b is pick(b) (−1: padding past the end of a split), or a synthetic one */
    const make = (set: ImageSet | null, B: number, pick: (b: number) => number, rng: Rng | null): Batch => {
      const x = steps(T, B * pixels),
        target = steps(T, B),
        mask = steps(T, B),
        scored = steps(T, B);
      for (let b = 0; b < B; b++) {
        let label: number;
        if (set) {
          const k = pick(b);
          if (k < 0) continue; // padding: no target, no score
          label = set.labels[k]!;
          const base = k * P;
          for (let p = 0; p < P; p++) img[p] = set.pixels[base + p]! / 255;
        } else {
          label = rng!.int(classes);
          renderBar(img, size, label, classes, sigma, rng!);
        }
        for (let t = 0; t < T; t++) {
          for (let q = 0; q < pixels; q++) {
            const p = t * pixels + q;
            x[t]![b * pixels + q] = img[order ? order[p]! : p]!;
          }
          // the label is the target at every step, trained on (mask 1) at the readout steps only: a learner that
          // teaches from the label alone at untrained steps too (osttp, targetTiming every-step) needs it there
          target[t]![b] = label;
          if (readout === 0 || t >= T - readout) {
            mask[t]![b] = 1;
            if (score === 2 || t === T - 1) scored[t]![b] = 1;
          }
        }
      }
      return { x, target, mask, score: scored };
    };
    const draw = (set: ImageSet | null, B: number, rng: Rng): Batch => make(set, B, () => rng.int(set!.count), rng);
    return {
      name: 'seq-image',
      preset,
      settings: s,
      inputSize: pixels,
      outputSize: classes,
      seqLength: T,
      loss: { kind: 'ce', classes },
      metric: 'accuracy',
      batch: (B: number, rng: Rng): Batch => draw(data, B, rng),
      ...(heldOut
        ? {
            evalBatch: (B: number, rng: Rng): Batch => draw(heldOut, B, rng),
            heldOut: {
              size: heldOut.count,
              batch: (start: number, B: number): Batch => make(heldOut, B, (b) => (start + b < heldOut.count ? start + b : -1), null),
            },
          }
        : {}),
    };
  },
};
