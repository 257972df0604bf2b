/**
 * The memory guard: a learner checks the state it plans to keep against what its backend may hold, when it
 * is built, so a state that cannot fit (wasm's 4 GiB address space, or the user's `maxMemory`) is refused with
 * a MemoryLimitError naming the bytes instead of failing half-built inside WebAssembly.Memory.grow().
 *
 *   ensureMemory(be, 'rtrl influence matrices', bytes)       // one call in a learner's constructor
 *   plannedBytes(be.dtype, (plan) => createInfluence(module, plan, rows))   // bytes a builder would allocate
 */
import type { Backend, Buf, DType, FloatArray } from './backend.js';
import { checkView } from './base.js';
import { TsBackend } from './ts.js';
import { ConfigError, MemoryLimitError } from '../core/errors.js';

/** Throw a MemoryLimitError when `bytes` more would not fit beside what the backend already holds. */
export function ensureMemory(be: Backend, what: string, bytes: number): void {
  const inUse = be.bytesInUse();
  if (inUse + bytes > be.memoryLimit) throw new MemoryLimitError(what, bytes, be.memoryLimit, inUse);
}

class PlanBuf implements Buf {
  readonly ptr = 0;
  constructor(
    readonly backend: PlanningBackend,
    readonly length: number,
  ) {}
  get data(): FloatArray {
    throw new ConfigError('a planning buffer has no numbers: plannedBytes counts allocations only');
  }
  view(offset: number, length: number): Buf {
    checkView(this, offset, length);
    return new PlanBuf(this.backend, length);
  }
}

/** A backend whose buffers hold nothing: it counts the bytes a builder allocates (views are free). */
class PlanningBackend extends TsBackend {
  planned = 0;
  override alloc(length: number): Buf {
    this.planned += length * (this.dtype === 'float64' ? 8 : 4);
    return new PlanBuf(this, length);
  }
}

/** The bytes `build` allocates, counted without allocating them (build may allocate and take views only). */
export function plannedBytes(dtype: DType, build: (plan: Backend) => void): number {
  const plan = new PlanningBackend(dtype);
  build(plan);
  return plan.planned;
}
