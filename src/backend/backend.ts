/**
 * The numeric backend: one small set of fused kernels on preallocated buffers.
 *
 * Conventions, shared by every backend:
 * - matrices are row-major and batch-major (a batch of B vectors of width n is a B×n matrix);
 * - arguments come in BLAS order and are positional, so a call allocates nothing;
 * - `beta = 0` overwrites the output (whatever it held, NaN included); `beta = 1` accumulates;
 * - an output may alias an input only where a kernel says so (elementwise maps: yes; gemm/gemv: no);
 * - every length is checked, and a wrong one throws a ShapeError naming the kernel, the operand and
 *   the expected size.
 */
export type DType = 'float32' | 'float64';
export type FloatArray = Float32Array | Float64Array;
/** the numeric backends, by name (the run config's train.backend enum reads this list) */
export const backendNames = ['wasm', 'ts', 'native'] as const;
export type BackendName = (typeof backendNames)[number];

/** A fixed-size array of numbers owned by a backend (in the wasm backend it lives in wasm memory). */
export interface Buf {
  readonly backend: Backend;
  readonly length: number;
  /** byte address in the backend's memory (wasm); 0 in the ts backend */
  readonly ptr: number;
  /**
   * The numbers as a typed array. In the wasm backend a growing memory replaces the underlying
   * ArrayBuffer; `data` always returns a live view, so read it again after allocating instead of
   * keeping an old one.
   */
  readonly data: FloatArray;
  /** A buffer sharing storage with this one: elements [offset, offset + length). */
  view(offset: number, length: number): Buf;
}

export interface Backend {
  readonly name: BackendName;
  readonly dtype: DType;
  /** multiply-accumulates done by the matrix kernels so far (a counter; reset it by assigning 0) */
  macs: number;

  // ---- buffers
  /** A zero-filled buffer. Plan buffers when a model or learner is built, never per step. */
  alloc(length: number): Buf;
  /** A buffer holding a copy of `values`. */
  from(values: ArrayLike<number>): Buf;
  /** Bytes currently held by live buffers (for memory reports). */
  bytesInUse(): number;
  /**
   * The most bytes this backend may hold at once: the wasm backend's 4 GiB address space, or less when the
   * user set a limit (`maxMemory`); Infinity for the ts backend without one. Learners check their planned
   * state against it when they are built (backend/memory.ts), so a state that cannot fit is refused up front.
   * Assign to lower it (wasm: never above the address space).
   */
  memoryLimit: number;

  // ---- level 1
  fill(x: Buf, value: number): void;
  /** dst ← src */
  copy(src: Buf, dst: Buf): void;
  /** x ← α·x */
  scale(alpha: number, x: Buf): void;
  /** y ← α·x + β·y */
  axpby(alpha: number, x: Buf, beta: number, y: Buf): void;
  /** y ← y + α·x */
  axpy(alpha: number, x: Buf, y: Buf): void;
  /**
   * y[yOff .. yOff+n) ← α·x[xOff .. xOff+n) + β·y[yOff .. yOff+n) — axpby on ranges given by offsets, for
   * row updates whose lengths change from step to step (sparse RTRL), where making views would allocate
   */
  axpbyAt(n: number, alpha: number, x: Buf, xOff: number, beta: number, y: Buf, yOff: number): void;
  /** out ← x ⊙ y, or out ← out + x ⊙ y when accumulate */
  mul(x: Buf, y: Buf, out: Buf, accumulate?: boolean): void;
  /** out ← x + y */
  add(x: Buf, y: Buf, out: Buf): void;
  dot(x: Buf, y: Buf): number;
  sum(x: Buf): number;

  // ---- elementwise activations (out may alias x) and their derivatives
  tanh(x: Buf, out: Buf): void;
  sigmoid(x: Buf, out: Buf): void;
  exp(x: Buf, out: Buf): void;
  relu(x: Buf, out: Buf): void;
  /** GELU, tanh approximation: ½x(1 + tanh(√(2/π)(x + 0.044715x³))) */
  gelu(x: Buf, out: Buf): void;
  /** 1 − y², given y = tanh(x) */
  tanhDeriv(y: Buf, out: Buf): void;
  /** y(1 − y), given y = σ(x) */
  sigmoidDeriv(y: Buf, out: Buf): void;
  /** 1 where x > 0 else 0, given x */
  reluDeriv(x: Buf, out: Buf): void;
  /** d gelu(x)/dx, given x */
  geluDeriv(x: Buf, out: Buf): void;

  // ---- level 2 / 3
  /** y ← α·op(A)·x + β·y; A is M×N; op(A) = A (y has M entries) or Aᵀ when trans (y has N). */
  gemv(trans: boolean, M: number, N: number, alpha: number, A: Buf, x: Buf, beta: number, y: Buf): void;
  /** C ← α·op(A)·op(B) + β·C; op(A) is M×K (A is K×M when transA), op(B) is K×N (B is N×K when transB). */
  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number, A: Buf, B: Buf, beta: number, C: Buf): void;
  /** A ← A + α·x·yᵀ; A is M×N (rank-1 / outer-product accumulate) */
  ger(M: number, N: number, alpha: number, x: Buf, y: Buf, A: Buf): void;
  /** e[i,j] ← a[i]·e[i,j] + u[i]·v[j]; e is M×N, a and u have M entries, v has N */
  traceUpdateRow(M: number, N: number, a: Buf, u: Buf, v: Buf, e: Buf): void;
  /**
   * The per-synapse trace step with the gradient it feeds, fused (one read and write of e):
   *   e[i,j] ← a[i]·e[i,j] + u[i]·v[j];   g[i,j] += l[i]·e[i,j] (the new e)
   * e and g are M×N; a, u, l have M entries, v has N. Rows with l[i] = 0 leave g alone.
   */
  traceUpdateRowAccumulate(M: number, N: number, a: Buf, u: Buf, v: Buf, l: Buf, e: Buf, g: Buf): void;
  /** g[i,j] += l[i]·e[i,j]: a gradient from a trace with a per-row learning signal (e, g M×N; l has M) */
  accumulateRows(M: number, N: number, l: Buf, e: Buf, g: Buf): void;
  /**
   * T[p, :] += y[p]·A[⌊p / J⌋ mod m, :] for p < R·J (T is R·J × n, A is m × n, y has R·J entries; rows with
   * y[p] = 0 skipped): deep e-prop's trace of the layer below, each parameter's row of the inter-layer Jacobian
   */
  rowsScaledAdd(R: number, J: number, m: number, n: number, y: Buf, A: Buf, T: Buf): void;
  /** e[i,j] ← a[i,j]·e[i,j] + u[i]·v[j]; e and a are M×N */
  traceUpdateElem(M: number, N: number, a: Buf, u: Buf, v: Buf, e: Buf): void;
  /**
   * The complex eligibility trace of a diagonal complex recurrence, with the gradient it feeds, fused:
   *   e[i,j] ← a_i·e[i,j] + u_i·v_j          (a complex per row; u, v real; e = eRe + i·eIm, M×N)
   *   gRe[i,j] += dRe_i·eRe[i,j] + dIm_i·eIm[i,j];  gIm[i,j] += dIm_i·eRe[i,j] − dRe_i·eIm[i,j]
   * (the real and imaginary parts of the gradient of a parameter whose sensitivity is e, for the error
   * (dRe, dIm) = (∂L/∂Re h, ∂L/∂Im h)). One pass over the trace: read, update, write, accumulate.
   */
  complexTraceStep(
    M: number,
    N: number,
    aRe: Buf,
    aIm: Buf,
    u: Buf,
    v: Buf,
    dRe: Buf,
    dIm: Buf,
    eRe: Buf,
    eIm: Buf,
    gRe: Buf,
    gIm: Buf,
  ): void;
  /**
   * Unit steps run as the backend's fused cell kernels (gruStep) instead of the units' TypeScript loops: true for
   * the native backend. wasm and ts keep the TypeScript steps (float64 arithmetic, rounded at the store), whose
   * numbers checkpoints written before reproduce bit for bit; the kernel computes in float32 SIMD.
   */
  readonly fusedCells: boolean;
  /**
   * The GRU unit's step with its local partials, fused (units/gru.ts): r = σ(a_r), z = σ(a_z),
   * c = tanh(a_nx + r·a_nh), h' = (1 − z)·c + z·h; dfds = z; dfda = [(1−z)(1−c²)·a_nh·r(1−r), (h − c)·z(1−z),
   * (1−z)(1−c²), (1−z)(1−c²)·r]; dhds = 1. preIh, preHh are B × 3n; sPrev, sNext, y, dfds, dhds B × n; dfda B × 4n.
   */
  gruStep(B: number, n: number, sPrev: Buf, preIh: Buf, preHh: Buf, sNext: Buf, y: Buf, dfds: Buf, dfda: Buf, dhds: Buf): void;
  /** out[i,j] ← x[i,j]·v[j] + β·out[i,j]: every row of x scaled elementwise by v (x, out are M×N; v has N) */
  scaleColumns(M: number, N: number, x: Buf, v: Buf, beta: number, out: Buf): void;

  // ---- reductions over the rows of an M×N matrix
  rowSum(M: number, N: number, A: Buf, out: Buf): void;
  rowMax(M: number, N: number, A: Buf, out: Buf): void;
  /** out ← Σ_m A[m,:] + β·out (sum over the batch) */
  colSum(M: number, N: number, A: Buf, beta: number, out: Buf): void;
  /** row-wise softmax; out may alias A */
  softmax(M: number, N: number, A: Buf, out: Buf): void;
  /** row-wise log-softmax; out may alias A */
  logSoftmax(M: number, N: number, A: Buf, out: Buf): void;

  // ---- optimizer updates, in place on param (and on the moment buffers)
  /** PyTorch SGD: g = grad + wd·p; v ← μ·v + g (skipped when μ = 0); p ← p − lr·v */
  sgdStep(lr: number, momentum: number, weightDecay: number, grad: Buf, velocity: Buf | null, param: Buf): void;
  /**
   * Adam with bias corrections bc1 = 1 − β1^t, bc2 = 1 − β2^t: g = grad + l2·p; p ← (1 − lr·decay)·p;
   * m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; p ← p − lr·(m/bc1)/(√(v/bc2) + ε).
   * Adam's weight decay is `l2`; AdamW's decoupled decay is `decay`.
   */
  adamStep(
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    bc1: number,
    bc2: number,
    l2: number,
    decay: number,
    grad: Buf,
    m: Buf,
    v: Buf,
    param: Buf,
  ): void;
}
