/** Byte counts of buffers: what the learners report as their state and the measurements (perf, bench) add up. */

/** bytes per number of a backend's dtype */
export function elementBytes(dtype: string): number {
  return dtype === 'float64' ? 8 : 4;
}

/** a backend buffer, as far as counting its bytes goes */
interface CountedBuffer {
  length: number;
  backend: { dtype: string };
}

/** bytes held by the buffers among the values of some objects (e.g. a network's module caches) */
export function cacheBytes(caches: readonly object[]): number {
  let n = 0;
  for (const c of caches) {
    for (const v of Object.values(c)) {
      if (v && typeof v === 'object' && 'length' in v && 'backend' in v) {
        const b = v as CountedBuffer;
        n += b.length * elementBytes(b.backend.dtype);
      }
    }
  }
  return n;
}
