/**
 * The sequence file of `onward grad` (docs/design.md §7): {x: T×B×d, y: T×B×o (or class ids T×B, or T×B×groups),
 * mask?: T×B}, as nested JSON arrays. Read into per-step batch-major arrays, every shape checked.
 */
import { FileFormatError, NonFiniteError, ShapeError } from '../core/errors.js';
import { readJsonFile } from '../core/files.js';
import type { Loss } from '../modules/loss.js';
import type { Sequence } from './oracle.js';

export function readSequenceFile(path: string, inputSize: number, loss: Loss): { seq: Sequence; B: number } {
  // bounded: a regular file within the sequence-file limit (a FIFO or /dev/zero is refused, not read forever)
  const json = readJsonFile(path, 'sequence');
  const f = json as { x?: unknown; y?: unknown; mask?: unknown };
  if (!f || typeof f !== 'object' || !Array.isArray(f.x) || !Array.isArray(f.y))
    throw new FileFormatError(`${path}: a sequence file needs 'x' (T×B×d) and 'y' arrays`);
  const T = f.x.length;
  if (T === 0) throw new ShapeError(`${path}: 'x' has no time steps`);
  const B = Array.isArray(f.x[0]) ? (f.x[0] as unknown[]).length : 0;
  if (B === 0) throw new ShapeError(`${path}: 'x' must be T×B×d with B ≥ 1`);
  if (f.y.length !== T) throw new ShapeError(`${path}: 'y' has ${f.y.length} steps, 'x' has ${T}`);
  const w = loss.targetWidth;
  const seq: Sequence = { x: [], target: [], mask: [] };
  for (let t = 0; t < T; t++) {
    seq.x.push(flatten(f.x[t], [B, inputSize], `${path}: x[${t}]`, true));
    // class ids may be given as T×B when there is one group
    const yt = f.y[t];
    const flatIds = loss.spec.kind === 'ce' && w === 1 && Array.isArray(yt) && yt.every((v) => typeof v === 'number');
    seq.target.push(flatIds ? flatten(yt, [B], `${path}: y[${t}]`, true) : flatten(yt, [B, w], `${path}: y[${t}]`, true));
    if (f.mask === undefined) seq.mask.push(new Float64Array(B).fill(1));
    else {
      if (!Array.isArray(f.mask) || f.mask.length !== T) throw new ShapeError(`${path}: 'mask' must be T×B (T = ${T})`);
      seq.mask.push(flatten(f.mask[t], [B], `${path}: mask[${t}]`, true));
    }
  }
  return { seq, B };
}

function flatten(v: unknown, shape: number[], what: string, finite: boolean): Float64Array {
  const out: number[] = [];
  const walk = (x: unknown, depth: number, where: string): void => {
    if (depth === shape.length) {
      if (typeof x !== 'number') throw new ShapeError(`${where} is ${JSON.stringify(x)}, expected a number`);
      if (finite && !Number.isFinite(x)) throw new NonFiniteError(`${where} is ${x}`);
      out.push(x);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[depth]) {
      throw new ShapeError(
        `${where} must have ${shape[depth]} entries (expected shape [${shape.join(', ')}]), got ${Array.isArray(x) ? x.length : typeof x}`,
      );
    }
    x.forEach((e, i) => {
      walk(e, depth + 1, `${where}[${i}]`);
    });
  };
  walk(v, 0, what);
  return Float64Array.from(out);
}
