/**
 * The `ts` backend: plain TypeScript loops over Float32Array or Float64Array.
 *
 * Written for clarity first: it is the oracle the wasm kernels are tested against and, in float64, the
 * path every gradient check runs on. V8 computes in double precision whatever the array type, so the
 * float32 variant rounds only when it stores, and float64 costs the same as float32 here.
 */
import type { Buf, DType, FloatArray } from './backend.js';
import { type Activation, BackendBase, type RowOp, checkView } from './base.js';
import { ConfigError, MemoryLimitError, ShapeError } from '../core/errors.js';
import { allocationError } from '../core/limits.js';

class TsBuf implements Buf {
  readonly ptr = 0;
  readonly length: number;
  constructor(
    readonly backend: TsBackend,
    readonly data: FloatArray,
    readonly root: TsBuf | null,
  ) {
    this.length = data.length;
  }
  view(offset: number, length: number): Buf {
    checkView(this, offset, length);
    return new TsBuf(this.backend, this.data.subarray(offset, offset + length), this.root ?? this);
  }
}

/** σ as units/unit.ts computes it (no closure per call: a kernel allocates nothing) */
function sig(v: number): number {
  const t = Math.exp(-Math.abs(v));
  return v >= 0 ? 1 / (1 + t) : t / (1 + t);
}

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

const live = new FinalizationRegistry<{ backend: TsBackend; bytes: number }>((held) => {
  held.backend.released(held.bytes);
});

export class TsBackend extends BackendBase {
  readonly name = 'ts' as const;
  private inUse = 0;

  constructor(readonly dtype: DType = 'float64') {
    super();
    if (dtype !== 'float32' && dtype !== 'float64')
      throw new ConfigError(`ts backend: dtype must be 'float32' or 'float64', got '${String(dtype)}'`);
  }

  alloc(length: number): Buf {
    if (!(length >>> 0 === length)) throw new ShapeError(`alloc: length must be a non-negative integer, got ${length}`);
    const bytes = length * (this.dtype === 'float64' ? 8 : 4);
    if (this.inUse + bytes > this.memoryLimit)
      throw new MemoryLimitError(`a buffer of ${length} numbers`, bytes, this.memoryLimit, this.inUse);
    let data: Float64Array | Float32Array;
    try {
      data = this.dtype === 'float64' ? new Float64Array(length) : new Float32Array(length);
    } catch (e) {
      throw allocationError(`ts backend: a buffer of ${length} ${this.dtype} numbers`, e); // the message is built only on failure
    }
    const buf = new TsBuf(this, data, null);
    this.inUse += data.byteLength;
    live.register(buf, { backend: this, bytes: data.byteLength });
    return buf;
  }

  bytesInUse(): number {
    return this.inUse;
  }

  /** @internal called by the finalization registry */
  released(bytes: number): void {
    this.inUse -= bytes;
  }

  // ---- level 1

  protected fillRaw(x: Buf, value: number): void {
    x.data.fill(value);
  }

  protected copyRaw(src: Buf, dst: Buf): void {
    dst.data.set(src.data);
  }

  protected scaleRaw(alpha: number, x: Buf): void {
    const d = x.data;
    for (let i = 0; i < d.length; i++) d[i] = alpha * d[i]!;
  }

  protected axpbyRaw(alpha: number, x: Buf, beta: number, y: Buf): void {
    const xd = x.data,
      yd = y.data;
    if (beta === 0) for (let i = 0; i < yd.length; i++) yd[i] = alpha * xd[i]!;
    else for (let i = 0; i < yd.length; i++) yd[i] = alpha * xd[i]! + beta * yd[i]!;
  }

  protected axpbyAtRaw(n: number, alpha: number, x: Buf, xOff: number, beta: number, y: Buf, yOff: number): void {
    const xd = x.data,
      yd = y.data;
    if (beta === 0) for (let i = 0; i < n; i++) yd[yOff + i] = alpha * xd[xOff + i]!;
    else for (let i = 0; i < n; i++) yd[yOff + i] = alpha * xd[xOff + i]! + beta * yd[yOff + i]!;
  }

  protected mulRaw(x: Buf, y: Buf, out: Buf, accumulate: boolean): void {
    const xd = x.data,
      yd = y.data,
      o = out.data;
    if (accumulate) for (let i = 0; i < o.length; i++) o[i] = o[i]! + xd[i]! * yd[i]!;
    else for (let i = 0; i < o.length; i++) o[i] = xd[i]! * yd[i]!;
  }

  protected addRaw(x: Buf, y: Buf, out: Buf): void {
    const xd = x.data,
      yd = y.data,
      o = out.data;
    for (let i = 0; i < o.length; i++) o[i] = xd[i]! + yd[i]!;
  }

  protected dotRaw(x: Buf, y: Buf): number {
    const xd = x.data,
      yd = y.data;
    let s = 0;
    for (let i = 0; i < xd.length; i++) s += xd[i]! * yd[i]!;
    return s;
  }

  protected sumRaw(x: Buf): number {
    const d = x.data;
    let s = 0;
    for (let i = 0; i < d.length; i++) s += d[i]!;
    return s;
  }

  // ---- elementwise

  protected mapRaw(fn: Activation, x: Buf, out: Buf): void {
    // one loop per function, each calling a fixed function: a shared loop calling whichever function it is
    // handed turns polymorphic once several are used, and then boxes every result (one allocation per element)
    const xd = x.data,
      o = out.data,
      n = o.length;
    switch (fn) {
      case 'tanh':
        for (let i = 0; i < n; i++) o[i] = Math.tanh(xd[i]!);
        break;
      case 'exp':
        for (let i = 0; i < n; i++) o[i] = Math.exp(xd[i]!);
        break;
      case 'sigmoid':
        for (let i = 0; i < n; i++) o[i] = sigmoid(xd[i]!);
        break;
      case 'relu':
        for (let i = 0; i < n; i++) o[i] = relu(xd[i]!);
        break;
      case 'gelu':
        for (let i = 0; i < n; i++) o[i] = gelu(xd[i]!);
        break;
      case 'tanhDeriv':
        for (let i = 0; i < n; i++) o[i] = 1 - xd[i]! * xd[i]!;
        break;
      case 'sigmoidDeriv':
        for (let i = 0; i < n; i++) o[i] = xd[i]! * (1 - xd[i]!);
        break;
      case 'reluDeriv':
        for (let i = 0; i < n; i++) o[i] = reluDeriv(xd[i]!);
        break;
      case 'geluDeriv':
        for (let i = 0; i < n; i++) o[i] = geluDeriv(xd[i]!);
        break;
    }
  }

  // ---- level 2 / 3

  protected gemvRaw(trans: boolean, M: number, N: number, alpha: number, A: Buf, x: Buf, beta: number, y: Buf): void {
    const a = A.data,
      xd = x.data,
      yd = y.data;
    if (!trans) {
      for (let m = 0; m < M; m++) {
        let s = 0;
        for (let n = 0, r = m * N; n < N; n++) s += a[r + n]! * xd[n]!;
        yd[m] = alpha * s + (beta === 0 ? 0 : beta * yd[m]!);
      }
    } else {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let m = 0; m < M; m++) s += a[m * N + n]! * xd[m]!;
        yd[n] = alpha * s + (beta === 0 ? 0 : beta * yd[n]!);
      }
    }
  }

  protected gemmRaw(
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
    const a = A.data,
      b = B.data,
      c = C.data;
    // a(m,k) = a[m·ams + k·aks]; loops ordered so the innermost one walks contiguous memory
    const ams = transA ? 1 : K,
      aks = transA ? M : 1;
    for (let m = 0; m < M; m++) {
      const row = m * N;
      if (!transB) {
        // c[m,:] = β·c[m,:] + Σ_k α·a(m,k)·B[k,:]
        for (let n = 0; n < N; n++) c[row + n] = beta === 0 ? 0 : beta * c[row + n]!;
        for (let k = 0; k < K; k++) {
          const s = alpha * a[m * ams + k * aks]!;
          for (let n = 0, r = k * N; n < N; n++) c[row + n] = c[row + n]! + s * b[r + n]!;
        }
      } else {
        // c[m,n] = β·c[m,n] + α·Σ_k a(m,k)·B[n,k]
        for (let n = 0; n < N; n++) {
          let s = 0;
          for (let k = 0, r = n * K; k < K; k++) s += a[m * ams + k * aks]! * b[r + k]!;
          c[row + n] = alpha * s + (beta === 0 ? 0 : beta * c[row + n]!);
        }
      }
    }
  }

  protected gerRaw(M: number, N: number, alpha: number, x: Buf, y: Buf, A: Buf): void {
    const xd = x.data,
      yd = y.data,
      a = A.data;
    for (let m = 0; m < M; m++) {
      const s = alpha * xd[m]!;
      for (let n = 0, r = m * N; n < N; n++) a[r + n] = a[r + n]! + s * yd[n]!;
    }
  }

  protected traceRowRaw(M: number, N: number, a: Buf, u: Buf, v: Buf, e: Buf): void {
    const ad = a.data,
      ud = u.data,
      vd = v.data,
      ed = e.data;
    for (let i = 0; i < M; i++) {
      const ai = ad[i]!,
        ui = ud[i]!;
      for (let j = 0, r = i * N; j < N; j++) ed[r + j] = ai * ed[r + j]! + ui * vd[j]!;
    }
  }

  protected traceRowAccumulateRaw(M: number, N: number, a: Buf, u: Buf, v: Buf, l: Buf, e: Buf, g: Buf): void {
    const ad = a.data,
      ud = u.data,
      vd = v.data,
      ld = l.data,
      ed = e.data,
      gd = g.data;
    for (let i = 0; i < M; i++) {
      const ai = ad[i]!,
        ui = ud[i]!,
        li = ld[i]!;
      if (li === 0) {
        for (let j = 0, r = i * N; j < N; j++) ed[r + j] = ai * ed[r + j]! + ui * vd[j]!;
        continue;
      }
      for (let j = 0, r = i * N; j < N; j++) {
        const en = (ed[r + j] = ai * ed[r + j]! + ui * vd[j]!);
        gd[r + j] = gd[r + j]! + li * en;
      }
    }
  }

  protected accumulateRowsRaw(M: number, N: number, l: Buf, e: Buf, g: Buf): void {
    const ld = l.data,
      ed = e.data,
      gd = g.data;
    for (let i = 0; i < M; i++) {
      const li = ld[i]!;
      if (li === 0) continue;
      for (let j = 0, r = i * N; j < N; j++) gd[r + j] = gd[r + j]! + li * ed[r + j]!;
    }
  }

  protected rowsScaledAddRaw(R: number, J: number, m: number, n: number, y: Buf, A: Buf, T: Buf): void {
    const yd = y.data,
      a = A.data,
      t = T.data;
    for (let r = 0; r < R; r++) {
      const ai = (r % m) * n;
      for (let j = 0; j < J; j++) {
        const p = r * J + j,
          v = yd[p]!;
        if (v === 0) continue;
        const tr = p * n;
        for (let u = 0; u < n; u++) t[tr + u] = t[tr + u]! + v * a[ai + u]!;
      }
    }
  }

  protected traceElemRaw(M: number, N: number, a: Buf, u: Buf, v: Buf, e: Buf): void {
    const ad = a.data,
      ud = u.data,
      vd = v.data,
      ed = e.data;
    for (let i = 0; i < M; i++) {
      const ui = ud[i]!;
      for (let j = 0, r = i * N; j < N; j++) ed[r + j] = ad[r + j]! * ed[r + j]! + ui * vd[j]!;
    }
  }

  protected complexTraceStepRaw(
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
    const ar = aRe.data,
      ai = aIm.data,
      ud = u.data,
      vd = v.data,
      dr = dRe.data,
      di = dIm.data;
    const er = eRe.data,
      ei = eIm.data,
      gr = gRe.data,
      gi = gIm.data;
    for (let i = 0; i < M; i++) {
      const a = ar[i]!,
        b = ai[i]!,
        ui = ud[i]!,
        d1 = dr[i]!,
        d2 = di[i]!;
      for (let j = 0, k = i * N; j < N; j++, k++) {
        const r = a * er[k]! - b * ei[k]! + ui * vd[j]!;
        const m = a * ei[k]! + b * er[k]!;
        er[k] = r;
        ei[k] = m;
        gr[k] = gr[k]! + d1 * r + d2 * m;
        gi[k] = gi[k]! + d2 * r - d1 * m;
      }
    }
  }

  protected gruStepRaw(
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
  ): void {
    const hs = sPrev.data,
      pi = preIh.data,
      ph = preHh.data,
      so = sNext.data,
      yo = y.data,
      fs = dfds.data,
      fa = dfda.data,
      hd = dhds.data;
    for (let b = 0; b < B; b++) {
      const g = b * 3 * n,
        s = b * n,
        a = b * 4 * n;
      for (let i = 0; i < n; i++) {
        const r = sig(pi[g + i]! + ph[g + i]!);
        const z = sig(pi[g + n + i]! + ph[g + n + i]!);
        const anh = ph[g + 2 * n + i]!;
        const c = Math.tanh(pi[g + 2 * n + i]! + r * anh);
        const h = hs[s + i]!;
        const hNew = (1 - z) * c + z * h;
        so[s + i] = hNew;
        yo[s + i] = hNew;
        const dc = (1 - z) * (1 - c * c);
        fs[s + i] = z;
        fa[a + i] = dc * anh * r * (1 - r);
        fa[a + n + i] = (h - c) * z * (1 - z);
        fa[a + 2 * n + i] = dc;
        fa[a + 3 * n + i] = dc * r;
        hd[s + i] = 1;
      }
    }
  }

  protected scaleColumnsRaw(M: number, N: number, x: Buf, v: Buf, beta: number, out: Buf): void {
    const xd = x.data,
      vd = v.data,
      o = out.data;
    for (let i = 0; i < M; i++) {
      for (let j = 0, r = i * N; j < N; j++) o[r + j] = xd[r + j]! * vd[j]! + (beta === 0 ? 0 : beta * o[r + j]!);
    }
  }

  // ---- reductions

  protected rowReduceRaw(op: RowOp, M: number, N: number, A: Buf, out: Buf): void {
    const a = A.data,
      o = out.data;
    for (let m = 0; m < M; m++) {
      const r = m * N;
      if (op === 'rowSum') {
        let s = 0;
        for (let n = 0; n < N; n++) s += a[r + n]!;
        o[m] = s;
        continue;
      }
      let mx = -Infinity;
      for (let n = 0; n < N; n++) mx = Math.max(mx, a[r + n]!);
      if (op === 'rowMax') {
        o[m] = mx;
        continue;
      }
      let s = 0;
      for (let n = 0; n < N; n++) s += Math.exp(a[r + n]! - mx);
      if (op === 'softmax') for (let n = 0; n < N; n++) o[r + n] = Math.exp(a[r + n]! - mx) / s;
      else {
        const shift = mx + Math.log(s);
        for (let n = 0; n < N; n++) o[r + n] = a[r + n]! - shift;
      }
    }
  }

  protected colSumRaw(M: number, N: number, A: Buf, beta: number, out: Buf): void {
    const a = A.data,
      o = out.data;
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let m = 0; m < M; m++) s += a[m * N + n]!;
      o[n] = s + (beta === 0 ? 0 : beta * o[n]!);
    }
  }

  // ---- optimizers

  protected sgdRaw(lr: number, momentum: number, weightDecay: number, grad: Buf, velocity: Buf | null, param: Buf): void {
    const g = grad.data,
      p = param.data,
      v = velocity?.data;
    for (let i = 0; i < p.length; i++) {
      let gi = g[i]! + weightDecay * p[i]!;
      if (v) {
        gi = momentum * v[i]! + gi;
        v[i] = gi;
      }
      p[i] = p[i]! - lr * gi;
    }
  }

  protected adamRaw(
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
    const g = grad.data,
      md = m.data,
      vd = v.data,
      p = param.data;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i]! + l2 * p[i]!;
      const pi = p[i]! * (1 - lr * decay);
      const mi = (md[i] = beta1 * md[i]! + (1 - beta1) * gi);
      const vi = (vd[i] = beta2 * vd[i]! + (1 - beta2) * gi * gi);
      p[i] = pi - ((lr / bc1) * mi) / (Math.sqrt(vi / bc2) + eps);
    }
  }
}

// the scalar functions live at module level so that a kernel call creates no closure

/** e^{-|v|} never overflows; both branches keep relative accuracy */
function sigmoid(v: number): number {
  const t = Math.exp(-Math.abs(v));
  return v >= 0 ? 1 / (1 + t) : t / (1 + t);
}

function relu(v: number): number {
  return v > 0 ? v : Number.isNaN(v) ? v : 0; // NaN stays NaN
}

function reluDeriv(v: number): number {
  return v > 0 ? 1 : Number.isNaN(v) ? v : 0;
}

function gelu(v: number): number {
  return 0.5 * v * (1 + Math.tanh(GELU_C * (v + GELU_A * v * v * v)));
}

function geluDeriv(v: number): number {
  const t = Math.tanh(GELU_C * (v + GELU_A * v * v * v));
  return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * GELU_C * (1 + 3 * GELU_A * v * v);
}
