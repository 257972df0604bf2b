/**
 * The checked half of every backend: each public kernel validates its arguments, then calls the
 * backend's raw kernel. Checks are written so the common case is one cheap comparison chain that
 * TurboFan inlines (a separate call per operand measured 25 ns on a 60 ns gemv); the message is built
 * only when a check fails. Backends implement the raw kernels and nothing else.
 */
import type { Backend, BackendName, Buf, DType } from './backend.js';
import { ConfigError, ShapeError } from '../core/errors.js';

// ---- failure paths: build the message, throw

function dimsError(kernel: string, names: string, values: number[]): never {
  throw new ShapeError(`${kernel}: dimensions (${names}) must be non-negative integers, got (${values.join(', ')})`);
}

function lengthError(kernel: string, operands: [string, Buf, number, string][]): never {
  for (const [name, buf, expected, how] of operands) {
    if (buf.length !== expected) throw new ShapeError(`${kernel}: ${name} has ${buf.length} elements, expected ${how} = ${expected}`);
  }
  throw new ShapeError(`${kernel}: inconsistent operand lengths`);
}

function sameError(kernel: string, names: string, bufs: Buf[]): never {
  throw new ShapeError(`${kernel}: ${names} must have the same length, got ${bufs.map((x) => x.length).join(', ')}`);
}

function ownerError(backend: Backend, kernel: string, bufs: Buf[]): never {
  const other = bufs.find((x) => x.backend !== backend)?.backend;
  throw new ConfigError(
    `${kernel}: a buffer belongs to another backend (${other?.name}/${other?.dtype}); ` +
      `allocate it with this backend (${backend.name}/${backend.dtype})`,
  );
}

/** a non-negative integer below 2^32, in one comparison */
function isDim(v: number): boolean {
  return v >>> 0 === v;
}

export function checkView(buf: Buf, offset: number, length: number): void {
  if (!(isDim(offset) && isDim(length) && offset + length <= buf.length)) {
    throw new ShapeError(`view(${offset}, ${length}) does not fit in a buffer of ${buf.length} elements`);
  }
}

export abstract class BackendBase implements Backend {
  /**
   * Multiply-accumulates performed by the matrix kernels (gemm, gemv, ger, trace updates, scaleColumns)
   * since the backend was made; elementwise maps are not counted. For operation counts in `onward perf`.
   */
  macs = 0;
  private limitBytes = Infinity;
  /** see Backend.memoryLimit; createBackend lowers it to the user's maxMemory */
  get memoryLimit(): number {
    return this.limitBytes;
  }
  set memoryLimit(bytes: number) {
    this.limitBytes = bytes;
  }
  abstract readonly name: BackendName;
  abstract readonly dtype: DType;
  abstract alloc(length: number): Buf;
  abstract bytesInUse(): number;

  from(values: ArrayLike<number>): Buf {
    const buf = this.alloc(values.length);
    buf.data.set(values);
    return buf;
  }

  // ---- raw kernels: arguments already checked
  protected abstract fillRaw(x: Buf, value: number): void;
  protected abstract copyRaw(src: Buf, dst: Buf): void;
  protected abstract scaleRaw(alpha: number, x: Buf): void;
  protected abstract axpbyRaw(alpha: number, x: Buf, beta: number, y: Buf): void;
  protected abstract axpbyAtRaw(n: number, alpha: number, x: Buf, xOff: number, beta: number, y: Buf, yOff: number): void;
  protected abstract mulRaw(x: Buf, y: Buf, out: Buf, accumulate: boolean): void;
  protected abstract addRaw(x: Buf, y: Buf, out: Buf): void;
  protected abstract dotRaw(x: Buf, y: Buf): number;
  protected abstract sumRaw(x: Buf): number;
  protected abstract mapRaw(fn: Activation, x: Buf, out: Buf): void;
  protected abstract gemvRaw(trans: boolean, M: number, N: number, alpha: number, A: Buf, x: Buf, beta: number, y: Buf): void;
  protected abstract gemmRaw(
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
  ): void;
  protected abstract gerRaw(M: number, N: number, alpha: number, x: Buf, y: Buf, A: Buf): void;
  protected abstract traceRowRaw(M: number, N: number, a: Buf, u: Buf, v: Buf, e: Buf): void;
  protected abstract traceRowAccumulateRaw(M: number, N: number, a: Buf, u: Buf, v: Buf, l: Buf, e: Buf, g: Buf): void;
  protected abstract accumulateRowsRaw(M: number, N: number, l: Buf, e: Buf, g: Buf): void;
  protected abstract rowsScaledAddRaw(R: number, J: number, m: number, n: number, y: Buf, A: Buf, T: Buf): void;
  protected abstract traceElemRaw(M: number, N: number, a: Buf, u: Buf, v: Buf, e: Buf): void;
  protected abstract complexTraceStepRaw(
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
  protected abstract gruStepRaw(
    B: number,
    n: number,
    sPrev: Buf,
    preIh: Buf,
    preHh: Buf,
    sNext: Buf,
    y: Buf,
    dfds: Buf,
    dfda: Buf,
    dhds: Buf,
  ): void;
  protected abstract scaleColumnsRaw(M: number, N: number, x: Buf, v: Buf, beta: number, out: Buf): void;
  protected abstract rowReduceRaw(op: RowOp, M: number, N: number, A: Buf, out: Buf): void;
  protected abstract colSumRaw(M: number, N: number, A: Buf, beta: number, out: Buf): void;
  protected abstract sgdRaw(lr: number, momentum: number, weightDecay: number, grad: Buf, velocity: Buf | null, param: Buf): void;
  protected abstract adamRaw(
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

  // ---- checks

  private own(kernel: string, a: Buf, b: Buf = a, c: Buf = a, d: Buf = a): void {
    if (a.backend !== this || b.backend !== this || c.backend !== this || d.backend !== this) ownerError(this, kernel, [a, b, c, d]);
  }

  private same(kernel: string, names: string, a: Buf, b: Buf, c: Buf = a, d: Buf = a): void {
    const n = a.length;
    if (b.length !== n || c.length !== n || d.length !== n) sameError(kernel, names, [a, b, c, d]);
  }

  // ---- level 1

  fill(x: Buf, value: number): void {
    this.own('fill', x);
    this.fillRaw(x, value);
  }
  copy(src: Buf, dst: Buf): void {
    this.own('copy', src, dst);
    this.same('copy', 'src and dst', src, dst);
    this.copyRaw(src, dst);
  }
  scale(alpha: number, x: Buf): void {
    this.own('scale', x);
    this.scaleRaw(alpha, x);
  }
  axpby(alpha: number, x: Buf, beta: number, y: Buf): void {
    this.own('axpby', x, y);
    this.same('axpby', 'x and y', x, y);
    this.axpbyRaw(alpha, x, beta, y);
  }
  axpy(alpha: number, x: Buf, y: Buf): void {
    this.own('axpy', x, y);
    this.same('axpy', 'x and y', x, y);
    this.axpbyRaw(alpha, x, 1, y);
  }
  axpbyAt(n: number, alpha: number, x: Buf, xOff: number, beta: number, y: Buf, yOff: number): void {
    this.own('axpbyAt', x, y);
    if (!(isDim(n) && isDim(xOff) && isDim(yOff) && xOff + n <= x.length && yOff + n <= y.length)) {
      throw new ShapeError(
        `axpbyAt: ranges x[${xOff}, ${xOff}+${n}) and y[${yOff}, ${yOff}+${n}) must lie in buffers of ${x.length} and ${y.length} elements`,
      );
    }
    this.macs += n;
    this.axpbyAtRaw(n, alpha, x, xOff, beta, y, yOff);
  }
  mul(x: Buf, y: Buf, out: Buf, accumulate = false): void {
    this.own('mul', x, y, out);
    this.same('mul', 'x, y and out', x, y, out);
    this.mulRaw(x, y, out, accumulate);
  }
  add(x: Buf, y: Buf, out: Buf): void {
    this.own('add', x, y, out);
    this.same('add', 'x, y and out', x, y, out);
    this.addRaw(x, y, out);
  }
  dot(x: Buf, y: Buf): number {
    this.own('dot', x, y);
    this.same('dot', 'x and y', x, y);
    return this.dotRaw(x, y);
  }
  sum(x: Buf): number {
    this.own('sum', x);
    return this.sumRaw(x);
  }

  // ---- elementwise

  private map(fn: Activation, x: Buf, out: Buf): void {
    this.own(fn, x, out);
    this.same(fn, 'x and out', x, out);
    this.mapRaw(fn, x, out);
  }
  tanh(x: Buf, out: Buf): void {
    this.map('tanh', x, out);
  }
  sigmoid(x: Buf, out: Buf): void {
    this.map('sigmoid', x, out);
  }
  exp(x: Buf, out: Buf): void {
    this.map('exp', x, out);
  }
  relu(x: Buf, out: Buf): void {
    this.map('relu', x, out);
  }
  gelu(x: Buf, out: Buf): void {
    this.map('gelu', x, out);
  }
  tanhDeriv(y: Buf, out: Buf): void {
    this.map('tanhDeriv', y, out);
  }
  sigmoidDeriv(y: Buf, out: Buf): void {
    this.map('sigmoidDeriv', y, out);
  }
  reluDeriv(x: Buf, out: Buf): void {
    this.map('reluDeriv', x, out);
  }
  geluDeriv(x: Buf, out: Buf): void {
    this.map('geluDeriv', x, out);
  }

  // ---- level 2 / 3

  gemv(trans: boolean, M: number, N: number, alpha: number, A: Buf, x: Buf, beta: number, y: Buf): void {
    this.own('gemv', A, x, y);
    if (!(isDim(M) && isDim(N))) dimsError('gemv', 'M, N', [M, N]);
    const xn = trans ? M : N,
      yn = trans ? N : M;
    if (A.length !== M * N || x.length !== xn || y.length !== yn) {
      lengthError('gemv', [
        ['A', A, M * N, 'M*N'],
        ['x', x, xn, trans ? 'M' : 'N'],
        ['y', y, yn, trans ? 'N' : 'M'],
      ]);
    }
    this.macs += M * N;
    this.gemvRaw(trans, M, N, alpha, A, x, beta, y);
  }

  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number, A: Buf, B: Buf, beta: number, C: Buf): void {
    this.own('gemm', A, B, C);
    if (!(isDim(M) && isDim(N) && isDim(K))) dimsError('gemm', 'M, N, K', [M, N, K]);
    if (A.length !== M * K || B.length !== K * N || C.length !== M * N) {
      lengthError('gemm', [
        ['A', A, M * K, 'M*K'],
        ['B', B, K * N, 'K*N'],
        ['C', C, M * N, 'M*N'],
      ]);
    }
    this.macs += M * N * K;
    this.gemmRaw(transA, transB, M, N, K, alpha, A, B, beta, C);
  }

  ger(M: number, N: number, alpha: number, x: Buf, y: Buf, A: Buf): void {
    this.own('ger', x, y, A);
    if (!(isDim(M) && isDim(N))) dimsError('ger', 'M, N', [M, N]);
    if (x.length !== M || y.length !== N || A.length !== M * N) {
      lengthError('ger', [
        ['x', x, M, 'M'],
        ['y', y, N, 'N'],
        ['A', A, M * N, 'M*N'],
      ]);
    }
    this.macs += M * N;
    this.gerRaw(M, N, alpha, x, y, A);
  }

  traceUpdateRow(M: number, N: number, a: Buf, u: Buf, v: Buf, e: Buf): void {
    this.own('traceUpdateRow', a, u, v, e);
    if (!(isDim(M) && isDim(N))) dimsError('traceUpdateRow', 'M, N', [M, N]);
    if (a.length !== M || u.length !== M || v.length !== N || e.length !== M * N) {
      lengthError('traceUpdateRow', [
        ['a', a, M, 'M'],
        ['u', u, M, 'M'],
        ['v', v, N, 'N'],
        ['e', e, M * N, 'M*N'],
      ]);
    }
    this.macs += 2 * M * N;
    this.traceRowRaw(M, N, a, u, v, e);
  }

  traceUpdateRowAccumulate(M: number, N: number, a: Buf, u: Buf, v: Buf, l: Buf, e: Buf, g: Buf): void {
    this.own('traceUpdateRowAccumulate', a, u, v, l);
    this.own('traceUpdateRowAccumulate', e, g);
    if (!(isDim(M) && isDim(N))) dimsError('traceUpdateRowAccumulate', 'M, N', [M, N]);
    if (a.length !== M || u.length !== M || l.length !== M || v.length !== N || e.length !== M * N || g.length !== M * N) {
      lengthError('traceUpdateRowAccumulate', [
        ['a', a, M, 'M'],
        ['u', u, M, 'M'],
        ['l', l, M, 'M'],
        ['v', v, N, 'N'],
        ['e', e, M * N, 'M*N'],
        ['g', g, M * N, 'M*N'],
      ]);
    }
    this.macs += 3 * M * N;
    this.traceRowAccumulateRaw(M, N, a, u, v, l, e, g);
  }

  accumulateRows(M: number, N: number, l: Buf, e: Buf, g: Buf): void {
    this.own('accumulateRows', l, e, g);
    if (!(isDim(M) && isDim(N))) dimsError('accumulateRows', 'M, N', [M, N]);
    if (l.length !== M || e.length !== M * N || g.length !== M * N) {
      lengthError('accumulateRows', [
        ['l', l, M, 'M'],
        ['e', e, M * N, 'M*N'],
        ['g', g, M * N, 'M*N'],
      ]);
    }
    this.macs += M * N;
    this.accumulateRowsRaw(M, N, l, e, g);
  }

  rowsScaledAdd(R: number, J: number, m: number, n: number, y: Buf, A: Buf, T: Buf): void {
    this.own('rowsScaledAdd', y, A, T);
    if (!(isDim(R) && isDim(J) && isDim(m) && m > 0 && isDim(n))) dimsError('rowsScaledAdd', 'R, J, m > 0, n', [R, J, m, n]);
    if (y.length !== R * J || A.length !== m * n || T.length !== R * J * n) {
      lengthError('rowsScaledAdd', [
        ['y', y, R * J, 'R*J'],
        ['A', A, m * n, 'm*n'],
        ['T', T, R * J * n, 'R*J*n'],
      ]);
    }
    this.macs += R * J * n;
    this.rowsScaledAddRaw(R, J, m, n, y, A, T);
  }

  traceUpdateElem(M: number, N: number, a: Buf, u: Buf, v: Buf, e: Buf): void {
    this.own('traceUpdateElem', a, u, v, e);
    if (!(isDim(M) && isDim(N))) dimsError('traceUpdateElem', 'M, N', [M, N]);
    if (a.length !== M * N || u.length !== M || v.length !== N || e.length !== M * N) {
      lengthError('traceUpdateElem', [
        ['a', a, M * N, 'M*N'],
        ['u', u, M, 'M'],
        ['v', v, N, 'N'],
        ['e', e, M * N, 'M*N'],
      ]);
    }
    this.macs += 2 * M * N;
    this.traceElemRaw(M, N, a, u, v, e);
  }

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
  ): void {
    this.own('complexTraceStep', aRe, aIm, u, v);
    this.own('complexTraceStep', dRe, dIm, eRe, eIm);
    this.own('complexTraceStep', gRe, gIm);
    if (!(isDim(M) && isDim(N))) dimsError('complexTraceStep', 'M, N', [M, N]);
    const MN = M * N;
    if (
      aRe.length !== M ||
      aIm.length !== M ||
      u.length !== M ||
      dRe.length !== M ||
      dIm.length !== M ||
      v.length !== N ||
      eRe.length !== MN ||
      eIm.length !== MN ||
      gRe.length !== MN ||
      gIm.length !== MN
    ) {
      lengthError('complexTraceStep', [
        ['aRe', aRe, M, 'M'],
        ['aIm', aIm, M, 'M'],
        ['u', u, M, 'M'],
        ['dRe', dRe, M, 'M'],
        ['dIm', dIm, M, 'M'],
        ['v', v, N, 'N'],
        ['eRe', eRe, MN, 'M*N'],
        ['eIm', eIm, MN, 'M*N'],
        ['gRe', gRe, MN, 'M*N'],
        ['gIm', gIm, MN, 'M*N'],
      ]);
    }
    this.macs += 9 * MN;
    this.complexTraceStepRaw(M, N, aRe, aIm, u, v, dRe, dIm, eRe, eIm, gRe, gIm);
  }

  /** see Backend.fusedCells: false here, the native backend says true */
  get fusedCells(): boolean {
    return false;
  }

  gruStep(B: number, n: number, sPrev: Buf, preIh: Buf, preHh: Buf, sNext: Buf, y: Buf, dfds: Buf, dfda: Buf, dhds: Buf): void {
    this.own('gruStep', sPrev, preIh, preHh, sNext);
    this.own('gruStep', y, dfds, dfda, dhds);
    if (!(isDim(B) && isDim(n))) dimsError('gruStep', 'B, n', [B, n]);
    const Bn = B * n;
    if (
      sPrev.length !== Bn ||
      preIh.length !== 3 * Bn ||
      preHh.length !== 3 * Bn ||
      sNext.length !== Bn ||
      y.length !== Bn ||
      dfds.length !== Bn ||
      dfda.length !== 4 * Bn ||
      dhds.length !== Bn
    ) {
      lengthError('gruStep', [
        ['sPrev', sPrev, Bn, 'B*n'],
        ['preIh', preIh, 3 * Bn, '3*B*n'],
        ['preHh', preHh, 3 * Bn, '3*B*n'],
        ['sNext', sNext, Bn, 'B*n'],
        ['y', y, Bn, 'B*n'],
        ['dfds', dfds, Bn, 'B*n'],
        ['dfda', dfda, 4 * Bn, '4*B*n'],
        ['dhds', dhds, Bn, 'B*n'],
      ]);
    }
    this.gruStepRaw(B, n, sPrev, preIh, preHh, sNext, y, dfds, dfda, dhds);
  }

  scaleColumns(M: number, N: number, x: Buf, v: Buf, beta: number, out: Buf): void {
    this.own('scaleColumns', x, v, out);
    if (!(isDim(M) && isDim(N))) dimsError('scaleColumns', 'M, N', [M, N]);
    if (x.length !== M * N || v.length !== N || out.length !== M * N) {
      lengthError('scaleColumns', [
        ['x', x, M * N, 'M*N'],
        ['v', v, N, 'N'],
        ['out', out, M * N, 'M*N'],
      ]);
    }
    this.macs += M * N;
    this.scaleColumnsRaw(M, N, x, v, beta, out);
  }

  // ---- reductions

  private rows(op: RowOp, M: number, N: number, A: Buf, out: Buf, outLength: number, how: string): void {
    this.own(op, A, out);
    if (!(isDim(M) && isDim(N))) dimsError(op, 'M, N', [M, N]);
    if (A.length !== M * N || out.length !== outLength)
      lengthError(op, [
        ['A', A, M * N, 'M*N'],
        ['out', out, outLength, how],
      ]);
  }
  rowSum(M: number, N: number, A: Buf, out: Buf): void {
    this.rows('rowSum', M, N, A, out, M, 'M');
    this.rowReduceRaw('rowSum', M, N, A, out);
  }
  rowMax(M: number, N: number, A: Buf, out: Buf): void {
    this.rows('rowMax', M, N, A, out, M, 'M');
    this.rowReduceRaw('rowMax', M, N, A, out);
  }
  softmax(M: number, N: number, A: Buf, out: Buf): void {
    this.rows('softmax', M, N, A, out, M * N, 'M*N');
    this.rowReduceRaw('softmax', M, N, A, out);
  }
  logSoftmax(M: number, N: number, A: Buf, out: Buf): void {
    this.rows('logSoftmax', M, N, A, out, M * N, 'M*N');
    this.rowReduceRaw('logSoftmax', M, N, A, out);
  }
  colSum(M: number, N: number, A: Buf, beta: number, out: Buf): void {
    this.own('colSum', A, out);
    if (!(isDim(M) && isDim(N))) dimsError('colSum', 'M, N', [M, N]);
    if (A.length !== M * N || out.length !== N)
      lengthError('colSum', [
        ['A', A, M * N, 'M*N'],
        ['out', out, N, 'N'],
      ]);
    this.colSumRaw(M, N, A, beta, out);
  }

  // ---- optimizers

  sgdStep(lr: number, momentum: number, weightDecay: number, grad: Buf, velocity: Buf | null, param: Buf): void {
    this.own('sgdStep', grad, param);
    this.same('sgdStep', 'grad and param', grad, param);
    if (momentum !== 0) {
      if (velocity === null) throw new ConfigError('sgdStep: momentum ≠ 0 needs a velocity buffer');
      this.own('sgdStep', velocity);
      this.same('sgdStep', 'velocity and param', velocity, param);
    }
    this.sgdRaw(lr, momentum, weightDecay, grad, momentum !== 0 ? velocity : null, param);
  }

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
  ): void {
    this.own('adamStep', grad, m, v, param);
    this.same('adamStep', 'grad, m, v and param', grad, m, v, param);
    this.adamRaw(lr, beta1, beta2, eps, bc1, bc2, l2, decay, grad, m, v, param);
  }
}

export type Activation = 'tanh' | 'sigmoid' | 'exp' | 'relu' | 'gelu' | 'tanhDeriv' | 'sigmoidDeriv' | 'reluDeriv' | 'geluDeriv';
export type RowOp = 'rowSum' | 'rowMax' | 'softmax' | 'logSoftmax';
