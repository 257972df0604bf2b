/**
 * Buffer planning: a model or learner lists every buffer it will need, with its length, when it is
 * built; the plan then takes them all from the backend as views of one allocation. Nothing is
 * allocated afterwards, and the whole footprint is known (and reportable) up front.
 */
import type { Backend, Buf } from '../backend/backend.js';
import { ConfigError, ShapeError } from './errors.js';

export class BufferPlan<Name extends string = string> {
  private readonly entries: { name: Name; length: number }[] = [];

  /** Reserve a buffer of `length` elements under `name`. */
  add(name: Name, length: number): this {
    if (!Number.isInteger(length) || length < 0)
      throw new ShapeError(`buffer '${name}': length must be a non-negative integer, got ${length}`);
    if (this.entries.some((e) => e.name === name)) throw new ConfigError(`buffer '${name}' is planned twice`);
    this.entries.push({ name, length });
    return this;
  }

  /** Total elements planned. */
  get length(): number {
    return this.entries.reduce((s, e) => s + e.length, 0);
  }

  /** Allocate everything at once: `flat` holds all buffers back to back, `bufs[name]` is each one's view. */
  allocate(backend: Backend): { flat: Buf; bufs: Record<Name, Buf> } {
    // each view starts on a 4-element (16-byte) boundary, so SIMD kernels see aligned rows
    let total = 0;
    const offsets: number[] = [];
    for (const e of this.entries) {
      offsets.push(total);
      total += Math.ceil(e.length / 4) * 4;
    }
    const flat = backend.alloc(total);
    const bufs = {} as Record<Name, Buf>;
    this.entries.forEach((e, i) => {
      bufs[e.name] = flat.view(offsets[i]!, e.length);
    });
    return { flat, bufs };
  }
}
