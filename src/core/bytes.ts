/** Byte counts: of buffers (what the learners report as their state and the measurements add up), and for messages. */

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

/** a byte count for messages: 512 B, 1.5 KiB, 300 MiB, 4.0 GiB ('unlimited' for Infinity) */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return 'unlimited';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes,
    u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}
