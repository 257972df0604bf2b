// onward wasm kernels for complex eligibility traces (compiled into the same module as kernels.ts).
//
// The online-LRU rule keeps, per sample, a complex trace e (N×H) of the size of B and pairs it with the
// step's error at every step. Both happen in one pass over the trace, because at larger batches the trace
// (N·H complex per sample) no longer fits in cache and the step is bound by memory traffic.

/**
 * e[i,j] ← a_i·e[i,j] + u_i·v_j   (complex a per row, real u, v);
 * gRe[i,j] += dRe_i·eRe[i,j] + dIm_i·eIm[i,j];   gIm[i,j] += dIm_i·eRe[i,j] − dRe_i·eIm[i,j]   (with the new e)
 */
export function complexTraceStep(M: i32, N: i32, aRe: usize, aIm: usize, u: usize, v: usize, dRe: usize, dIm: usize,
  eRe: usize, eIm: usize, gRe: usize, gIm: usize): void {
  const rowBytes = <usize>N << 2;
  for (let i = 0; i < M; i++) {
    const o = <usize>i << 2;
    const ar = load<f32>(aRe + o), ai = load<f32>(aIm + o), ui = load<f32>(u + o);
    const d1 = load<f32>(dRe + o), d2 = load<f32>(dIm + o);
    const arv = f32x4.splat(ar), aiv = f32x4.splat(ai), uiv = f32x4.splat(ui);
    const d1v = f32x4.splat(d1), d2v = f32x4.splat(d2);
    const row = <usize>i * rowBytes;
    const pr = eRe + row, pi = eIm + row, qr = gRe + row, qi = gIm + row;
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const k = <usize>j << 2;
      const er = v128.load(pr + k), ei = v128.load(pi + k);
      const r = f32x4.add(f32x4.sub(f32x4.mul(arv, er), f32x4.mul(aiv, ei)), f32x4.mul(uiv, v128.load(v + k)));
      const m = f32x4.add(f32x4.mul(arv, ei), f32x4.mul(aiv, er));
      v128.store(pr + k, r);
      v128.store(pi + k, m);
      v128.store(qr + k, f32x4.add(v128.load(qr + k), f32x4.add(f32x4.mul(d1v, r), f32x4.mul(d2v, m))));
      v128.store(qi + k, f32x4.add(v128.load(qi + k), f32x4.sub(f32x4.mul(d2v, r), f32x4.mul(d1v, m))));
    }
    for (; j < N; j++) {
      const k = <usize>j << 2;
      const er = load<f32>(pr + k), ei = load<f32>(pi + k);
      const r = ar * er - ai * ei + ui * load<f32>(v + k);
      const m = ar * ei + ai * er;
      store<f32>(pr + k, r);
      store<f32>(pi + k, m);
      store<f32>(qr + k, load<f32>(qr + k) + (d1 * r + d2 * m));
      store<f32>(qi + k, load<f32>(qi + k) + (d2 * r - d1 * m));
    }
  }
}

// Per-synapse traces of the unit models (e-prop, OSTL, OSTTP, SnAp-1: learners/traces/diag.ts). A trace block
// is M×N (one row per gate row of a weight matrix); the step's decay and input factor are per row, and the
// gradient the step's learning signal makes from the trace is a per-row scaling of it. Fusing the update with
// the accumulation reads and writes each trace once per step: at B = 16, n = 256 the traces are 12.5 MiB and
// the step is bound by that traffic, not by the multiply-adds.

/** e[i,j] ← a_i·e[i,j] + u_i·v_j, then g[i,j] += l_i·e[i,j] (the new e); rows with l_i = 0 only update e */
export function traceRowAccumulate(M: i32, N: i32, a: usize, u: usize, v: usize, l: usize, e: usize, g: usize): void {
  const rowBytes = <usize>N << 2;
  for (let i = 0; i < M; i++) {
    const o = <usize>i << 2;
    const ai = load<f32>(a + o), ui = load<f32>(u + o), li = load<f32>(l + o);
    const av = f32x4.splat(ai), uv = f32x4.splat(ui), lv = f32x4.splat(li);
    const row = e + <usize>i * rowBytes, grow = g + <usize>i * rowBytes;
    let j = 0;
    if (li == 0) {
      for (; j + 4 <= N; j += 4) {
        const k = <usize>j << 2;
        v128.store(row + k, f32x4.add(f32x4.mul(av, v128.load(row + k)), f32x4.mul(uv, v128.load(v + k))));
      }
      for (; j < N; j++) {
        const k = <usize>j << 2;
        store<f32>(row + k, ai * load<f32>(row + k) + ui * load<f32>(v + k));
      }
      continue;
    }
    for (; j + 8 <= N; j += 8) {
      const k = <usize>j << 2;
      const e0 = f32x4.add(f32x4.mul(av, v128.load(row + k)), f32x4.mul(uv, v128.load(v + k)));
      const e1 = f32x4.add(f32x4.mul(av, v128.load(row + k, 16)), f32x4.mul(uv, v128.load(v + k, 16)));
      v128.store(row + k, e0);
      v128.store(row + k, e1, 16);
      v128.store(grow + k, f32x4.add(v128.load(grow + k), f32x4.mul(lv, e0)));
      v128.store(grow + k, f32x4.add(v128.load(grow + k, 16), f32x4.mul(lv, e1)), 16);
    }
    for (; j + 4 <= N; j += 4) {
      const k = <usize>j << 2;
      const e0 = f32x4.add(f32x4.mul(av, v128.load(row + k)), f32x4.mul(uv, v128.load(v + k)));
      v128.store(row + k, e0);
      v128.store(grow + k, f32x4.add(v128.load(grow + k), f32x4.mul(lv, e0)));
    }
    for (; j < N; j++) {
      const k = <usize>j << 2;
      const en = ai * load<f32>(row + k) + ui * load<f32>(v + k);
      store<f32>(row + k, en);
      store<f32>(grow + k, load<f32>(grow + k) + li * en);
    }
  }
}

/** g[i,j] += l_i·e[i,j] (rows with l_i = 0 skipped) */
export function accumulateRows(M: i32, N: i32, l: usize, e: usize, g: usize): void {
  const rowBytes = <usize>N << 2;
  for (let i = 0; i < M; i++) {
    const li = load<f32>(l + (<usize>i << 2));
    if (li == 0) continue;
    const lv = f32x4.splat(li);
    const row = e + <usize>i * rowBytes, grow = g + <usize>i * rowBytes;
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const k = <usize>j << 2;
      v128.store(grow + k, f32x4.add(v128.load(grow + k), f32x4.mul(lv, v128.load(row + k))));
    }
    for (; j < N; j++) {
      const k = <usize>j << 2;
      store<f32>(grow + k, load<f32>(grow + k) + li * load<f32>(row + k));
    }
  }
}

/**
 * Deep e-prop's cross-layer trace, the layer-below block: T[p, :] += y[p]·A[(p / J) mod m, :] for p < R·J
 * (T is R·J × n, A is m × n; trace row p belongs to parameter p, which feeds unit (p / J) mod m of its layer).
 * Rows with y[p] = 0 are skipped.
 */
export function rowsScaledAdd(R: i32, J: i32, m: i32, n: i32, y: usize, A: usize, T: usize): void {
  const rowBytes = <usize>n << 2;
  for (let r = 0; r < R; r++) {
    const arow = A + <usize>(r % m) * rowBytes;
    for (let j = 0; j < J; j++) {
      const p = r * J + j;
      const v = load<f32>(y + (<usize>p << 2));
      if (v == 0) continue;
      const vv = f32x4.splat(v);
      const trow = T + <usize>p * rowBytes;
      let u = 0;
      for (; u + 4 <= n; u += 4) {
        const k = <usize>u << 2;
        v128.store(trow + k, f32x4.add(v128.load(trow + k), f32x4.mul(vv, v128.load(arow + k))));
      }
      for (; u < n; u++) {
        const k = <usize>u << 2;
        store<f32>(trow + k, load<f32>(trow + k) + v * load<f32>(arow + k));
      }
    }
  }
}
