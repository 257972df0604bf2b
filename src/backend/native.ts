/**
 * The `native` backend: the wasm backend with its large matrix products handed to OpenBLAS (cblas_sgemm,
 * cblas_sgemv) through FFI, for the sizes where one wasm SIMD128 core cannot reach a native BLAS (AVX2/AVX-512:
 * ~3× the flops). Everything else — elementwise maps, trace kernels, optimizers, the allocator — is the wasm
 * backend's, float32, on the same memory: OpenBLAS reads and writes the wasm linear memory in place (its base
 * address is taken once, and again only when a grown memory moved it), so a call copies and allocates nothing.
 *
 * Node only, and optional: it needs the `koffi` npm package (an optional dependency: its binaries ship in the
 * npm tarball) and Debian's libopenblas0-pthread (libopenblas.so.0). When either is missing, createBackend
 * refuses 'native' with a MissingDependencyError naming the package (ONWARD_OPENBLAS=path loads another OpenBLAS). OpenBLAS runs on one thread here
 * (openblas_set_num_threads(1)): `--threads` splits the batch instead, and PyTorch's peers run on one thread.
 * Small products stay in wasm, where the FFI call (~0.3 µs) would cost more than it saves. Unit steps run as the
 * fused wasm cell kernels (fusedCells: the GRU's gates, nonlinearities and partials in one SIMD pass).
 */
import type { Buf } from './backend.js';
import { WasmBackend } from './wasm.js';
import { MissingDependencyError } from '../core/errors.js';

/** products with fewer multiply-adds than these stay in wasm (measured: below them OpenBLAS's call costs more) */
const GEMM_MIN_MACS = 1 << 15;
const GEMV_MIN_MACS = 1 << 16;
const ROW_MAJOR = 101,
  NO_TRANS = 111,
  TRANS = 112;

type Gemm = (
  order: number,
  transA: number,
  transB: number,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: number,
  lda: number,
  B: number,
  ldb: number,
  beta: number,
  C: number,
  ldc: number,
) => void;
type Gemv = (
  order: number,
  trans: number,
  M: number,
  N: number,
  alpha: number,
  A: number,
  lda: number,
  x: number,
  incx: number,
  beta: number,
  y: number,
  incy: number,
) => void;

interface Blas {
  sgemm: Gemm;
  sgemv: Gemv;
  /** the address of an ArrayBuffer's first byte */
  address(buffer: ArrayBuffer): number;
  config: string;
}

/** where Debian's libopenblas0-pthread puts the library (the alternatives link first); ONWARD_OPENBLAS names another build */
function libraries(): string[] {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.ONWARD_OPENBLAS;
  return env ? [env] : ['libopenblas.so.0', '/usr/lib/x86_64-linux-gnu/libopenblas.so.0', '/usr/lib/aarch64-linux-gnu/libopenblas.so.0'];
}

let blas: Blas | null = null;

/** koffi's surface as used here */
interface Koffi {
  load(path: string): { func(name: string, result: string, args: string[]): (...args: unknown[]) => unknown };
  address(value: unknown): bigint;
}

function loadBlas(): Blas {
  if (blas) return blas;
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const getBuiltin = proc?.getBuiltinModule;
  if (!getBuiltin)
    throw new MissingDependencyError(
      'node',
      "the native backend runs in Node ≥ 20.16 only (it loads OpenBLAS through FFI); use backend 'wasm' here",
    );
  const { createRequire } = getBuiltin('node:module') as { createRequire(from: string): (id: string) => unknown };
  let koffi: Koffi;
  try {
    koffi = createRequire(import.meta.url)('koffi') as Koffi;
  } catch (e) {
    throw new MissingDependencyError(
      'koffi',
      `the native backend needs the npm package 'koffi' (an optional dependency of onward): run 'npm install koffi', or use backend 'wasm' (${(e as Error).message.split('\n')[0]})`,
    );
  }
  let lib: ReturnType<Koffi['load']> | null = null;
  const errors: string[] = [];
  for (const path of libraries()) {
    try {
      lib = koffi.load(path);
      break;
    } catch (e) {
      errors.push((e as Error).message.split('\n')[0]!);
    }
  }
  if (!lib)
    throw new MissingDependencyError(
      'libopenblas0-pthread',
      `the native backend needs OpenBLAS (libopenblas.so.0): install Debian's package with 'apt-get install libopenblas0-pthread', or use backend 'wasm' (${errors[0]})`,
    );
  const ptr = 'intptr_t';
  const sgemm = lib.func('cblas_sgemm', 'void', [
    'int',
    'int',
    'int',
    'int',
    'int',
    'int',
    'float',
    ptr,
    'int',
    ptr,
    'int',
    'float',
    ptr,
    'int',
  ]) as Gemm;
  const sgemv = lib.func('cblas_sgemv', 'void', ['int', 'int', 'int', 'int', 'float', ptr, 'int', ptr, 'int', 'float', ptr, 'int']) as Gemv;
  (lib.func('openblas_set_num_threads', 'void', ['int']) as (n: number) => void)(1);
  const config = (lib.func('openblas_get_config', 'const char *', []) as () => string)();
  blas = { sgemm, sgemv, address: (buffer) => Number(koffi.address(new Uint8Array(buffer))), config };
  return blas;
}

/** true when the native backend can be made here (koffi and OpenBLAS load) */
export function nativeAvailable(): boolean {
  try {
    loadBlas();
    return true;
  } catch {
    return false;
  }
}

export class NativeBackend extends WasmBackend {
  override readonly name = 'native' as const;
  /** OpenBLAS's build line (`openblas_get_config`), for records of what ran */
  readonly blasConfig: string;
  private readonly blas: Blas;
  private base = 0;
  private baseOf: ArrayBuffer | null = null;

  constructor() {
    super();
    this.blas = loadBlas();
    this.blasConfig = this.blas.config;
  }

  /** unit steps as the fused wasm cell kernels (Backend.fusedCells): a new backend has no checkpoints to reproduce */
  override get fusedCells(): boolean {
    return true;
  }

  /** the byte address of wasm memory's start, refreshed when a grown memory has a new buffer */
  private address(): number {
    const buffer = this.memory.buffer;
    if (buffer !== this.baseOf) {
      this.base = this.blas.address(buffer);
      this.baseOf = buffer;
    }
    return this.base;
  }

  protected override gemmRaw(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: Buf,
    B: Buf,
    beta: number,
    C: Buf,
  ): void {
    if (M * N * K < GEMM_MIN_MACS || K === 1) {
      super.gemmRaw(transA, transB, M, N, K, alpha, A, B, beta, C);
      return;
    }
    // beta = 0 must overwrite whatever C held, NaN included: clear it first rather than trust the BLAS's scaling
    if (beta === 0) this.fill(C, 0);
    const base = this.address();
    this.blas.sgemm(
      ROW_MAJOR,
      transA ? TRANS : NO_TRANS,
      transB ? TRANS : NO_TRANS,
      M,
      N,
      K,
      alpha,
      base + A.ptr,
      transA ? M : K,
      base + B.ptr,
      transB ? K : N,
      beta,
      base + C.ptr,
      N,
    );
  }

  protected override gemvRaw(trans: boolean, M: number, N: number, alpha: number, A: Buf, x: Buf, beta: number, y: Buf): void {
    if (M * N < GEMV_MIN_MACS) {
      super.gemvRaw(trans, M, N, alpha, A, x, beta, y);
      return;
    }
    if (beta === 0) this.fill(y, 0);
    const base = this.address();
    this.blas.sgemv(ROW_MAJOR, trans ? TRANS : NO_TRANS, M, N, alpha, base + A.ptr, N, base + x.ptr, 1, beta, base + y.ptr, 1);
  }
}
