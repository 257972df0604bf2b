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
