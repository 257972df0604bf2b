/**
 * Choosing a backend: `wasm` (float32, SIMD) is the default; `ts` runs float32 or float64; `native` (Node, float32)
 * is wasm with the large matrix products on OpenBLAS (native.ts; needs koffi and libopenblas0-pthread).
 */
import type { Backend, BackendName, DType } from './backend.js';
import { TsBackend } from './ts.js';
import { WasmBackend, compileWasmKernels } from './wasm.js';
import { NativeBackend } from './native.js';
import { ConfigError, UnknownNameError } from '../core/errors.js';

export type { Backend, BackendName, Buf, DType, FloatArray } from './backend.js';
export { TsBackend } from './ts.js';
export { WasmBackend, compileWasmKernels } from './wasm.js';
export { NativeBackend, nativeAvailable } from './native.js';
export { ensureMemory, plannedBytes } from './memory.js';

import { backendNames } from './backend.js';
export { backendNames };

export interface BackendOptions {
  /** 'wasm' (default for float32), 'ts' (always used for float64) or 'native' (wasm + OpenBLAS, Node only) */
  backend?: BackendName;
  /** 'float32' (default) or 'float64' (ts only: the oracle path) */
  dtype?: DType;
  /** the most bytes the backend may hold (default: wasm's 4 GiB address space; unlimited for ts) */
  maxMemory?: number;
}

export function createBackend(options: BackendOptions = {}): Backend {
  const be = createUnlimited(options);
  const max = options.maxMemory;
  if (max !== undefined) {
    if (!(Number.isFinite(max) && max > 0)) throw new ConfigError(`maxMemory must be a positive number of bytes, got ${max}`);
    be.memoryLimit = Math.min(be.memoryLimit, max);
  }
  return be;
}

function createUnlimited(options: BackendOptions): TsBackend | WasmBackend {
  const dtype = options.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') throw new UnknownNameError('dtype', String(dtype), ['float32', 'float64']);
  const name = options.backend ?? (dtype === 'float64' ? 'ts' : 'wasm');
  if (name === 'ts') return new TsBackend(dtype);
  if (name === 'wasm' || name === 'native') {
    if (dtype !== 'float32') throw new ConfigError(`the ${name} backend computes in float32; use backend 'ts' for float64`);
    return name === 'wasm' ? new WasmBackend() : new NativeBackend();
  }
  throw new UnknownNameError('backend', String(name), backendNames);
}

/** Same as createBackend, but compiles the wasm module asynchronously first (for browser main threads). */
export async function loadBackend(options: BackendOptions = {}): Promise<Backend> {
  const name = options.backend ?? 'wasm';
  if ((name === 'wasm' || name === 'native') && (options.dtype ?? 'float32') === 'float32') await compileWasmKernels();
  return createBackend(options);
}
