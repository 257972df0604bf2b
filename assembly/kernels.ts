// onward wasm kernels: float32, SIMD128, on buffers the JS side plans in this module's memory.
//
// Every pointer is a byte offset into linear memory; every matrix is row-major unless a kernel says
// otherwise. Nothing here allocates: the only scratch is the packing panel whose address the JS side
// hands over once through `init`.
//
// Why the shapes of the loops (measured in research/numeric-backend-measurements.md):
// - gemm packs the right operand into 8-column panels (k×8, contiguous) before the inner loop. With
//   row-major B the inner loop walks a column with a stride of n floats; at n=1024 that stride is 4 KiB
//   and the lines alias in the same cache sets, which halves throughput. A panel of KC×8 floats fits in L1.
// - the broadcast operand is loaded with v128.load32_splat (Binaryen does not fuse splat(load) itself).
// - exp / sigmoid / tanh are vectorised polynomials; calling Mathf per lane costs 2× on a GRU step.
//   Their loops take four vectors per step: each is one long dependency chain, and one at a time
//   leaves the core waiting on it (1.5–2× slower).
// - TurboFan (V8's wasm compiler) issues all the loads of one expression before its arithmetic and does
//   not hoist loop invariants; with 16 xmm registers that decides the tile shapes of gemv.

const KC: i32 = 512; // k-block of a packed panel: KC×8 floats = 16 KiB
let panel: usize = 0; // scratch for one packed panel, set by init()

export function init(scratch: usize): void {
  panel = scratch;
}

/** first byte after the module's static data; the JS allocator starts here */
export function heapBase(): usize {
  return __heap_base;
}

export function scratchBytes(): i32 {
  return KC * 8 * 4 + 32; // the panel, then 8 floats to spill a partial row of C
}

// ---------------------------------------------------------------------------------------------
// vector math

// @ts-ignore: decorator
@inline function vexp2n(xc: v128): v128 {
  // Cephes expf on a clamped argument (n = round(x·log2 e) within [-150, 254]): e^x = 2^n · e^r with
  // |r| ≤ ln2/2 and e^r by a degree-7 polynomial. Adding 1.5·2^23 rounds x·log2 e to an integer in the
  // low mantissa bits of t, so n is t − 1.5·2^23 as a float, and t's bits shifted left by 23 are n's
  // exponent field (the 1.5·2^23 part shifts out).
  const magic = f32x4.splat(12582912.0);
  const t = f32x4.add(f32x4.mul(xc, f32x4.splat(1.44269504088896341)), magic);
  const n = f32x4.sub(t, magic);
  const r = f32x4.sub(f32x4.sub(xc, f32x4.mul(n, f32x4.splat(0.693359375))), f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  const r2 = f32x4.mul(r, r);
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  const y = f32x4.add(f32x4.add(f32x4.mul(p, r2), r), f32x4.splat(1.0));
  // y·2^n in two halves, 2^n1 with n1 = ⌊n/2⌋ then 2^(n − n1), so neither factor leaves the exponent
  // range and the second product rounds to a denormal or overflows to +∞ as IEEE says. (Multiplied,
  // not added into y's exponent bits: that would turn a NaN with a payload into a number.)
  const a = i32x4.shl(i32x4.shr_s(t, 1), 23); // n1 << 23
  const bias = i32x4.splat(127 << 23);
  const s1 = i32x4.add(a, bias);
  const s2 = i32x4.add(i32x4.sub(i32x4.shl(t, 23), a), bias);
  return f32x4.mul(f32x4.mul(y, s1), s2);
}

// @ts-ignore: decorator
@inline function vexp(x: v128): v128 {
  // pmin/pmax are single instructions (min/max need a NaN-fixing sequence) and still pass NaN through
  // because x is their first operand. Clamping high at 170 (not at ln(FLT_MAX)) lets the scaling
  // overflow to +∞ by itself instead of selecting it.
  return vexp2n(f32x4.pmax(f32x4.pmin(x, f32x4.splat(170.0)), f32x4.splat(-103.97208)));
}

// @ts-ignore: decorator
@inline function vexpNeg(x: v128): v128 {
  // e^x for x ≤ 0 or NaN (sigmoid, softmax): only the low clamp
  return vexp2n(f32x4.pmax(x, f32x4.splat(-103.97208)));
}

// @ts-ignore: decorator
@inline function vtanh(x: v128): v128 {
  // Small |x|: odd polynomial (Cephes tanhf), accurate relative to x near 0 where 1 − 2/(e^{2x}+1)
  // would cancel. Large |x|: 1 − 2/(e^{2|x|}+1) with the sign put back; 2|x| is clamped at 40, where
  // tanh is 1 in float32 (NaN passes the pmin), so e^{2|x|} = 2^n·y with 0 ≤ n ≤ 58 and 2^n can go
  // straight into y's exponent.
  const sign = v128.and(x, i32x4.splat(0x80000000));
  const ax = v128.xor(x, sign);
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(-5.70498872745e-3);
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(2.06390887954e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-5.37397155531e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(1.33314422036e-1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-3.33332819422e-1));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), x), x);
  const a = f32x4.pmin(f32x4.add(ax, ax), f32x4.splat(40.0));
  const magic = f32x4.splat(12582912.0);
  const t = f32x4.add(f32x4.mul(a, f32x4.splat(1.44269504088896341)), magic);
  const n = f32x4.sub(t, magic);
  const r = f32x4.sub(f32x4.sub(a, f32x4.mul(n, f32x4.splat(0.693359375))), f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  const r2 = f32x4.mul(r, r);
  let q = f32x4.splat(1.9875691500e-4);
  q = f32x4.add(f32x4.mul(q, r), f32x4.splat(1.3981999507e-3));
  q = f32x4.add(f32x4.mul(q, r), f32x4.splat(8.3334519073e-3));
  q = f32x4.add(f32x4.mul(q, r), f32x4.splat(4.1665795894e-2));
  q = f32x4.add(f32x4.mul(q, r), f32x4.splat(1.6666665459e-1));
  q = f32x4.add(f32x4.mul(q, r), f32x4.splat(5.0000001201e-1));
  const one = f32x4.splat(1.0);
  const y = f32x4.add(f32x4.add(f32x4.mul(q, r2), r), one);
  const e = i32x4.add(y, i32x4.shl(t, 23)); // y·2^n (a NaN x takes the other branch)
  const big = v128.or(f32x4.sub(one, f32x4.div(f32x4.splat(2.0), f32x4.add(e, one))), sign);
  return v128.bitselect(big, small, f32x4.ge(ax, f32x4.splat(0.625)));
}

// @ts-ignore: decorator
@inline function vsigmoid(x: v128): v128 {
  // t = e^{-|x|} never overflows; σ(x) = 1/(1+t) for x ≥ 0 and t/(1+t) for x < 0 keeps relative accuracy.
  const t = vexpNeg(v128.or(x, i32x4.splat(0x80000000)));
  const s = f32x4.div(f32x4.splat(1.0), f32x4.add(f32x4.splat(1.0), t));
  return v128.bitselect(s, f32x4.mul(t, s), f32x4.ge(x, f32x4.splat(0.0)));
}

// scalar versions for the tails, written with the same formulas so a tail lane equals a vector lane
// @ts-ignore: decorator
@inline function sexp(x: f32): f32 { return f32x4.extract_lane(vexp(f32x4.splat(x)), 0); }
// @ts-ignore: decorator
@inline function stanh(x: f32): f32 { return f32x4.extract_lane(vtanh(f32x4.splat(x)), 0); }
// @ts-ignore: decorator
@inline function ssigmoid(x: f32): f32 { return f32x4.extract_lane(vsigmoid(f32x4.splat(x)), 0); }

const GELU_C: f32 = 0.7978845608028654; // sqrt(2/pi)
const GELU_A: f32 = 0.044715;

// @ts-ignore: decorator
@inline function vgelu(x: v128): v128 {
  // tanh approximation (the default of JAX/Flax, used by the LRU paper)
  const x3 = f32x4.mul(f32x4.mul(x, x), x);
  const u = f32x4.mul(f32x4.splat(GELU_C), f32x4.add(x, f32x4.mul(f32x4.splat(GELU_A), x3)));
  const t = vtanh(u);
  return f32x4.mul(f32x4.mul(f32x4.splat(0.5), x), f32x4.add(f32x4.splat(1.0), t));
}

// @ts-ignore: decorator
@inline function vgeluDeriv(x: v128): v128 {
  const x2 = f32x4.mul(x, x);
  const u = f32x4.mul(f32x4.splat(GELU_C), f32x4.add(x, f32x4.mul(f32x4.splat(GELU_A), f32x4.mul(x2, x))));
  const t = vtanh(u);
  const du = f32x4.mul(f32x4.splat(GELU_C), f32x4.add(f32x4.splat(1.0), f32x4.mul(f32x4.splat(3.0 * GELU_A), x2)));
  const half = f32x4.splat(0.5);
  const left = f32x4.mul(half, f32x4.add(f32x4.splat(1.0), t));
  const right = f32x4.mul(f32x4.mul(half, x), f32x4.mul(f32x4.sub(f32x4.splat(1.0), f32x4.mul(t, t)), du));
  return f32x4.add(left, right);
}

// ---------------------------------------------------------------------------------------------
// elementwise maps: out[i] = f(x[i]); out may alias x

export function tanh(n: i32, x: usize, out: usize): void {
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = x + (<usize>i << 2), q = out + (<usize>i << 2);
    const a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 32), d = v128.load(p, 48);
    v128.store(q, vtanh(a));
    v128.store(q, vtanh(b), 16);
    v128.store(q, vtanh(c), 32);
    v128.store(q, vtanh(d), 48);
  }
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), vtanh(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), stanh(load<f32>(x + (<usize>i << 2))));
}

export function sigmoid(n: i32, x: usize, out: usize): void {
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = x + (<usize>i << 2), q = out + (<usize>i << 2);
    const a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 32), d = v128.load(p, 48);
    v128.store(q, vsigmoid(a));
    v128.store(q, vsigmoid(b), 16);
    v128.store(q, vsigmoid(c), 32);
    v128.store(q, vsigmoid(d), 48);
  }
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), vsigmoid(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), ssigmoid(load<f32>(x + (<usize>i << 2))));
}

export function exp(n: i32, x: usize, out: usize): void {
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = x + (<usize>i << 2), q = out + (<usize>i << 2);
    const a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 32), d = v128.load(p, 48);
    v128.store(q, vexp(a));
    v128.store(q, vexp(b), 16);
    v128.store(q, vexp(c), 32);
    v128.store(q, vexp(d), 48);
  }
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), vexp(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), sexp(load<f32>(x + (<usize>i << 2))));
}

export function relu(n: i32, x: usize, out: usize): void {
  const zero = f32x4.splat(0.0);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), f32x4.max(v128.load(x + (<usize>i << 2)), zero));
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    store<f32>(out + (<usize>i << 2), v != v ? v : v > 0 ? v : 0);
  }
}

export function gelu(n: i32, x: usize, out: usize): void {
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = x + (<usize>i << 2), q = out + (<usize>i << 2);
    const a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 32), d = v128.load(p, 48);
    v128.store(q, vgelu(a));
    v128.store(q, vgelu(b), 16);
    v128.store(q, vgelu(c), 32);
    v128.store(q, vgelu(d), 48);
  }
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), vgelu(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), f32x4.extract_lane(vgelu(f32x4.splat(load<f32>(x + (<usize>i << 2)))), 0));
}

/** 1 − y², from the output y = tanh(x) */
export function tanhDeriv(n: i32, y: usize, out: usize): void {
  const one = f32x4.splat(1.0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(y + (<usize>i << 2));
    v128.store(out + (<usize>i << 2), f32x4.sub(one, f32x4.mul(v, v)));
  }
  for (; i < n; i++) {
    const v = load<f32>(y + (<usize>i << 2));
    store<f32>(out + (<usize>i << 2), 1 - v * v);
  }
}

/** y(1 − y), from the output y = σ(x) */
export function sigmoidDeriv(n: i32, y: usize, out: usize): void {
  const one = f32x4.splat(1.0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(y + (<usize>i << 2));
    v128.store(out + (<usize>i << 2), f32x4.mul(v, f32x4.sub(one, v)));
  }
  for (; i < n; i++) {
    const v = load<f32>(y + (<usize>i << 2));
    store<f32>(out + (<usize>i << 2), v * (1 - v));
  }
}

/** 1 where x > 0, else 0 (NaN stays NaN), from the input x */
export function reluDeriv(n: i32, x: usize, out: usize): void {
  const one = f32x4.splat(1.0);
  const zero = f32x4.splat(0.0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    const d = v128.bitselect(one, zero, f32x4.gt(v, zero));
    v128.store(out + (<usize>i << 2), v128.bitselect(d, v, f32x4.eq(v, v)));
  }
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    store<f32>(out + (<usize>i << 2), v != v ? v : v > 0 ? 1 : 0);
  }
}

/** d gelu / dx, from the input x */
export function geluDeriv(n: i32, x: usize, out: usize): void {
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = x + (<usize>i << 2), q = out + (<usize>i << 2);
    const a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 32), d = v128.load(p, 48);
    v128.store(q, vgeluDeriv(a));
    v128.store(q, vgeluDeriv(b), 16);
    v128.store(q, vgeluDeriv(c), 32);
    v128.store(q, vgeluDeriv(d), 48);
  }
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), vgeluDeriv(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), f32x4.extract_lane(vgeluDeriv(f32x4.splat(load<f32>(x + (<usize>i << 2)))), 0));
}

// ---------------------------------------------------------------------------------------------
// level 1

export function fill(n: i32, value: f32, x: usize): void {
  const v = f32x4.splat(value);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(x + (<usize>i << 2), v);
  for (; i < n; i++) store<f32>(x + (<usize>i << 2), value);
}

export function copy(n: i32, x: usize, y: usize): void {
  memory.copy(y, x, <usize>n << 2);
}

/** x ← αx */
export function scale(n: i32, alpha: f32, x: usize): void {
  const a = f32x4.splat(alpha);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(x + (<usize>i << 2), f32x4.mul(a, v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(x + (<usize>i << 2), alpha * load<f32>(x + (<usize>i << 2)));
}

/** y ← αx + βy (β = 0 overwrites y, NaN in y included) */
export function axpby(n: i32, alpha: f32, x: usize, beta: f32, y: usize): void {
  const a = f32x4.splat(alpha);
  let i = 0;
  if (beta == 0) {
    for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), f32x4.mul(a, v128.load(x + (<usize>i << 2))));
    for (; i < n; i++) store<f32>(y + (<usize>i << 2), alpha * load<f32>(x + (<usize>i << 2)));
    return;
  }
  const b = f32x4.splat(beta);
  for (; i + 4 <= n; i += 4) {
    const p = y + (<usize>i << 2);
    v128.store(p, f32x4.add(f32x4.mul(a, v128.load(x + (<usize>i << 2))), f32x4.mul(b, v128.load(p))));
  }
  for (; i < n; i++) {
    const p = y + (<usize>i << 2);
    store<f32>(p, alpha * load<f32>(x + (<usize>i << 2)) + beta * load<f32>(p));
  }
}

/** out ← x ⊙ y (+ out when accumulate) */
export function mul(n: i32, x: usize, y: usize, accumulate: i32, out: usize): void {
  let i = 0;
  if (accumulate) {
    for (; i + 4 <= n; i += 4) {
      const o = out + (<usize>i << 2);
      v128.store(o, f32x4.add(v128.load(o), f32x4.mul(v128.load(x + (<usize>i << 2)), v128.load(y + (<usize>i << 2)))));
    }
    for (; i < n; i++) {
      const o = out + (<usize>i << 2);
      store<f32>(o, load<f32>(o) + load<f32>(x + (<usize>i << 2)) * load<f32>(y + (<usize>i << 2)));
    }
  } else {
    for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), f32x4.mul(v128.load(x + (<usize>i << 2)), v128.load(y + (<usize>i << 2))));
    for (; i < n; i++) store<f32>(out + (<usize>i << 2), load<f32>(x + (<usize>i << 2)) * load<f32>(y + (<usize>i << 2)));
  }
}

/** out ← x + y */
export function add(n: i32, x: usize, y: usize, out: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), f32x4.add(v128.load(x + (<usize>i << 2)), v128.load(y + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), load<f32>(x + (<usize>i << 2)) + load<f32>(y + (<usize>i << 2)));
}

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

export function dot(n: i32, x: usize, y: usize): f32 {
  let a0 = f32x4.splat(0.0);
  let a1 = f32x4.splat(0.0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const px = x + (<usize>i << 2);
    const py = y + (<usize>i << 2);
    a0 = f32x4.add(a0, f32x4.mul(v128.load(px), v128.load(py)));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(px, 16), v128.load(py, 16)));
  }
  let s = hsum(f32x4.add(a0, a1));
  for (; i < n; i++) s += load<f32>(x + (<usize>i << 2)) * load<f32>(y + (<usize>i << 2));
  return s;
}

export function sum(n: i32, x: usize): f32 {
  let a0 = f32x4.splat(0.0);
  let i = 0;
  for (; i + 4 <= n; i += 4) a0 = f32x4.add(a0, v128.load(x + (<usize>i << 2)));
  let s = hsum(a0);
  for (; i < n; i++) s += load<f32>(x + (<usize>i << 2));
  return s;
}

// ---------------------------------------------------------------------------------------------
// gemv: y ← α·op(A)·x + β·y, A is M×N row-major

// @ts-ignore: decorator
@inline function hsum4(c0: v128, c1: v128, c2: v128, c3: v128): v128 {
  // transpose-and-add: lane r of the result is the sum of the lanes of c_r
  const t0 = f32x4.add(v128.shuffle<f32>(c0, c1, 0, 4, 1, 5), v128.shuffle<f32>(c0, c1, 2, 6, 3, 7));
  const t1 = f32x4.add(v128.shuffle<f32>(c2, c3, 0, 4, 1, 5), v128.shuffle<f32>(c2, c3, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(t0, t1, 0, 1, 4, 5), v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
}

// @ts-ignore: decorator
@inline function storeScaled4(py: usize, alpha: f32, beta: f32, s: v128): void {
  let v = f32x4.mul(f32x4.splat(alpha), s);
  if (beta != 0) v = f32x4.add(v, f32x4.mul(f32x4.splat(beta), v128.load(py)));
  v128.store(py, v);
}

// @ts-ignore: decorator
@inline function storeScaled1(py: usize, alpha: f32, beta: f32, s: f32): void {
  store<f32>(py, beta != 0 ? alpha * s + beta * load<f32>(py) : alpha * s);
}

// @ts-ignore: decorator
@inline function dot16(p: usize, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  return f32x4.add(f32x4.add(f32x4.mul(v128.load(p), x0), f32x4.mul(v128.load(p, 16), x1)),
    f32x4.add(f32x4.mul(v128.load(p, 32), x2), f32x4.mul(v128.load(p, 48), x3)));
}

/**
 * y[m] ← α·Σ_n A[m,n]·x[n] + β·y[m]: dot products of contiguous rows, a 4-row × 16-column tile per step.
 * Each row's sum is its own loop variable: TurboFan issues all the loads of one expression before its
 * arithmetic, so one row per expression keeps the live registers under 16 (8 rows, or 32 columns, spill).
 * x is contiguous when incx = 1, else strided (a column of a row-major matrix); short rows and strided x
 * go to gemvNsmall.
 */
function gemvN(M: i32, N: i32, alpha: f32, A: usize, x: usize, incx: i32, beta: f32, y: usize): void {
  const rb = <usize>N << 2;
  let m = 0;
  if (incx == 1 && N >= 16) {
    const N16 = N & ~15;
    const N4 = N & ~3;
    // β = 0 must not read y (it may hold NaN), so β·y is masked rather than branched on per store; it is
    // subtracted as (−β)·y so that a masked +0 leaves α·s = −0 alone
    const av = f32x4.splat(alpha);
    const nbv = f32x4.splat(-beta);
    const bmask = i32x4.splat(beta != 0 ? -1 : 0);
    const rb4 = rb << 2;
    const yEnd = y + (<usize>(M & ~3) << 2);
    // pointers as the loop variables: fewer instructions per block than indexing by m
    for (let r0 = A, py = y; py < yEnd; r0 += rb4, py += 16) {
      // the first 16 columns start the sums (no zeroing)
      const x0 = v128.load(x), x1 = v128.load(x, 16), x2 = v128.load(x, 32), x3 = v128.load(x, 48);
      let c0 = dot16(r0, x0, x1, x2, x3);
      let c1 = dot16(r0 + rb, x0, x1, x2, x3);
      let c2 = dot16(r0 + rb * 2, x0, x1, x2, x3);
      let c3 = dot16(r0 + rb * 3, x0, x1, x2, x3);
      let n = 16;
      for (; n < N16; n += 16) {
        const off = <usize>n << 2;
        const px = x + off;
        const x0 = v128.load(px), x1 = v128.load(px, 16), x2 = v128.load(px, 32), x3 = v128.load(px, 48);
        let p = r0 + off;
        c0 = f32x4.add(c0, dot16(p, x0, x1, x2, x3));
        p += rb;
        c1 = f32x4.add(c1, dot16(p, x0, x1, x2, x3));
        p += rb;
        c2 = f32x4.add(c2, dot16(p, x0, x1, x2, x3));
        p += rb;
        c3 = f32x4.add(c3, dot16(p, x0, x1, x2, x3));
      }
      let s0: v128;
      if (N16 == N) {
        s0 = hsum4(c0, c1, c2, c3);
      } else {
        for (; n < N4; n += 4) {
          const off = <usize>n << 2;
          const xv = v128.load(x + off);
          let p = r0 + off;
          c0 = f32x4.add(c0, f32x4.mul(v128.load(p), xv));
          p += rb;
          c1 = f32x4.add(c1, f32x4.mul(v128.load(p), xv));
          p += rb;
          c2 = f32x4.add(c2, f32x4.mul(v128.load(p), xv));
          p += rb;
          c3 = f32x4.add(c3, f32x4.mul(v128.load(p), xv));
        }
        s0 = hsum4(c0, c1, c2, c3);
        for (; n < N; n++) {
          const off = <usize>n << 2;
          const pr = r0 + off;
          s0 = f32x4.add(s0, f32x4.mul(f32x4.splat(load<f32>(x + off)), f32x4(load<f32>(pr), load<f32>(pr + rb), load<f32>(pr + rb * 2), load<f32>(pr + rb * 3))));
        }
      }
      v128.store(py, f32x4.sub(f32x4.mul(av, s0), v128.and(f32x4.mul(nbv, v128.load(py)), bmask)));
    }
    m = M & ~3;
  }
  if (m < M) gemvNsmall(M - m, N, alpha, A + <usize>m * rb, x, incx, beta, y + (<usize>m << 2));
}

/**
 * gemvN for short rows (N < 16), strided x and the last 1–3 rows: eight rows at a time, each load of x
 * feeding eight rows, then one row at a time
 */
function gemvNsmall(M: i32, N: i32, alpha: f32, A: usize, x: usize, incx: i32, beta: f32, y: usize): void {
  const rb = <usize>N << 2;
  const N4 = N & ~3;
  let m = 0;
  if (incx == 1) {
    for (; m + 8 <= M; m += 8) {
      const r0 = A + <usize>m * rb;
      let c0 = f32x4.splat(0.0), c1 = f32x4.splat(0.0), c2 = f32x4.splat(0.0), c3 = f32x4.splat(0.0);
      let c4 = f32x4.splat(0.0), c5 = f32x4.splat(0.0), c6 = f32x4.splat(0.0), c7 = f32x4.splat(0.0);
      for (let n = 0; n < N4; n += 4) {
        const off = <usize>n << 2;
        const xv = v128.load(x + off);
        const pr = r0 + off;
        c0 = f32x4.add(c0, f32x4.mul(v128.load(pr), xv));
        c1 = f32x4.add(c1, f32x4.mul(v128.load(pr + rb), xv));
        c2 = f32x4.add(c2, f32x4.mul(v128.load(pr + rb * 2), xv));
        c3 = f32x4.add(c3, f32x4.mul(v128.load(pr + rb * 3), xv));
        c4 = f32x4.add(c4, f32x4.mul(v128.load(pr + rb * 4), xv));
        c5 = f32x4.add(c5, f32x4.mul(v128.load(pr + rb * 5), xv));
        c6 = f32x4.add(c6, f32x4.mul(v128.load(pr + rb * 6), xv));
        c7 = f32x4.add(c7, f32x4.mul(v128.load(pr + rb * 7), xv));
      }
      let s0 = hsum4(c0, c1, c2, c3);
      let s1 = hsum4(c4, c5, c6, c7);
      for (let n = N4; n < N; n++) {
        const off = <usize>n << 2;
        const xn = f32x4.splat(load<f32>(x + off));
        const pr = r0 + off;
        s0 = f32x4.add(s0, f32x4.mul(xn, f32x4(load<f32>(pr), load<f32>(pr + rb), load<f32>(pr + rb * 2), load<f32>(pr + rb * 3))));
        s1 = f32x4.add(s1, f32x4.mul(xn, f32x4(load<f32>(pr + rb * 4), load<f32>(pr + rb * 5), load<f32>(pr + rb * 6), load<f32>(pr + rb * 7))));
      }
      const py = y + (<usize>m << 2);
      storeScaled4(py, alpha, beta, s0);
      storeScaled4(py + 16, alpha, beta, s1);
    }
    for (; m + 4 <= M; m += 4) {
      const r0 = A + <usize>m * rb;
      let c0 = f32x4.splat(0.0), c1 = f32x4.splat(0.0), c2 = f32x4.splat(0.0), c3 = f32x4.splat(0.0);
      for (let n = 0; n < N4; n += 4) {
        const off = <usize>n << 2;
        const xv = v128.load(x + off);
        const pr = r0 + off;
        c0 = f32x4.add(c0, f32x4.mul(v128.load(pr), xv));
        c1 = f32x4.add(c1, f32x4.mul(v128.load(pr + rb), xv));
        c2 = f32x4.add(c2, f32x4.mul(v128.load(pr + rb * 2), xv));
        c3 = f32x4.add(c3, f32x4.mul(v128.load(pr + rb * 3), xv));
      }
      let s0 = hsum4(c0, c1, c2, c3);
      for (let n = N4; n < N; n++) {
        const off = <usize>n << 2;
        const pr = r0 + off;
        s0 = f32x4.add(s0, f32x4.mul(f32x4.splat(load<f32>(x + off)), f32x4(load<f32>(pr), load<f32>(pr + rb), load<f32>(pr + rb * 2), load<f32>(pr + rb * 3))));
      }
      storeScaled4(y + (<usize>m << 2), alpha, beta, s0);
    }
  }
  const xs = <usize>incx << 2;
  for (; m < M; m++) {
    const r = A + <usize>m * rb;
    let s: f32 = 0;
    let n = 0;
    if (incx == 1 && N >= 8) {
      // one vector dot product per row (the scalar loop is one long dependency chain)
      let c = f32x4.splat(0.0);
      for (; n + 16 <= N; n += 16) {
        const off = <usize>n << 2;
        const px = x + off;
        c = f32x4.add(c, dot16(r + off, v128.load(px), v128.load(px, 16), v128.load(px, 32), v128.load(px, 48)));
      }
      for (; n + 4 <= N; n += 4) c = f32x4.add(c, f32x4.mul(v128.load(r + (<usize>n << 2)), v128.load(x + (<usize>n << 2))));
      s = hsum(c);
    }
    for (; n < N; n++) s += load<f32>(r + (<usize>n << 2)) * load<f32>(x + <usize>n * xs);
    storeScaled1(y + (<usize>m << 2), alpha, beta, s);
  }
}

/**
 * y[n] ← α·Σ_m A[m,n]·x[m] + β·y[n]: rows of A scaled and summed, 16 outputs at a time in four
 * registers, two rows per step. (TurboFan loads everything a loop body loads before its arithmetic;
 * eight accumulators plus their loads would not fit in 16 registers and an accumulator spilled to
 * the stack puts a store-load round trip on the critical path.)
 */
function gemvT(M: i32, N: i32, alpha: f32, A: usize, x: usize, incx: i32, beta: f32, y: usize): void {
  if (N > 512) {
    gemvTwide(M, N, alpha, A, x, incx, beta, y);
    return;
  }
  const rowBytes = <usize>N << 2;
  const xStride = <usize>incx << 2;
  const M2 = M & ~1;
  // β·y masked for β = 0 (y may hold NaN) and subtracted as (−β)·y, as in gemvN
  const av = f32x4.splat(alpha);
  const nbv = f32x4.splat(-beta);
  const bmask = i32x4.splat(beta != 0 ? -1 : 0);
  let n = 0;
  for (; n + 16 <= N; n += 16) {
    let c0 = f32x4.splat(0.0), c1 = f32x4.splat(0.0), c2 = f32x4.splat(0.0), c3 = f32x4.splat(0.0);
    let pa = A + (<usize>n << 2);
    let px = x;
    let m = 0;
    for (; m < M2; m += 2) {
      const x0 = v128.load32_splat(px);
      const x1 = v128.load32_splat(px + xStride);
      const pb = pa + rowBytes;
      c0 = f32x4.add(c0, f32x4.add(f32x4.mul(x0, v128.load(pa)), f32x4.mul(x1, v128.load(pb))));
      c1 = f32x4.add(c1, f32x4.add(f32x4.mul(x0, v128.load(pa, 16)), f32x4.mul(x1, v128.load(pb, 16))));
      c2 = f32x4.add(c2, f32x4.add(f32x4.mul(x0, v128.load(pa, 32)), f32x4.mul(x1, v128.load(pb, 32))));
      c3 = f32x4.add(c3, f32x4.add(f32x4.mul(x0, v128.load(pa, 48)), f32x4.mul(x1, v128.load(pb, 48))));
      pa = pb + rowBytes;
      px += xStride << 1;
    }
    if (m < M) {
      const x0 = v128.load32_splat(px);
      c0 = f32x4.add(c0, f32x4.mul(x0, v128.load(pa)));
      c1 = f32x4.add(c1, f32x4.mul(x0, v128.load(pa, 16)));
      c2 = f32x4.add(c2, f32x4.mul(x0, v128.load(pa, 32)));
      c3 = f32x4.add(c3, f32x4.mul(x0, v128.load(pa, 48)));
    }
    const py = y + (<usize>n << 2);
    v128.store(py, f32x4.sub(f32x4.mul(av, c0), v128.and(f32x4.mul(nbv, v128.load(py)), bmask)));
    v128.store(py, f32x4.sub(f32x4.mul(av, c1), v128.and(f32x4.mul(nbv, v128.load(py, 16)), bmask)), 16);
    v128.store(py, f32x4.sub(f32x4.mul(av, c2), v128.and(f32x4.mul(nbv, v128.load(py, 32)), bmask)), 32);
    v128.store(py, f32x4.sub(f32x4.mul(av, c3), v128.and(f32x4.mul(nbv, v128.load(py, 48)), bmask)), 48);
  }
  for (; n + 4 <= N; n += 4) {
    let c = f32x4.splat(0.0);
    let pa = A + (<usize>n << 2);
    let px = x;
    for (let m = 0; m < M; m++) {
      c = f32x4.add(c, f32x4.mul(v128.load32_splat(px), v128.load(pa)));
      pa += rowBytes;
      px += xStride;
    }
    storeScaled4(y + (<usize>n << 2), alpha, beta, c);
  }
  for (; n < N; n++) {
    let s: f32 = 0;
    for (let m = 0; m < M; m++) s += load<f32>(A + <usize>m * rowBytes + (<usize>n << 2)) * load<f32>(x + <usize>m * xStride);
    storeScaled1(y + (<usize>n << 2), alpha, beta, s);
  }
}

/**
 * gemvT for long rows (N > 512, rows ≥ 2 KiB apart): 32 columns per pass, so each visit to a row fetches two
 * cache lines (row strides that large defeat the prefetchers; one line per visit halves the memory parallelism).
 */
function gemvTwide(M: i32, N: i32, alpha: f32, A: usize, x: usize, incx: i32, beta: f32, y: usize): void {
  const rowBytes = <usize>N << 2;
  const xStride = <usize>incx << 2;
  let n = 0;
  for (; n + 32 <= N; n += 32) {
    let c0 = f32x4.splat(0.0), c1 = f32x4.splat(0.0), c2 = f32x4.splat(0.0), c3 = f32x4.splat(0.0);
    let c4 = f32x4.splat(0.0), c5 = f32x4.splat(0.0), c6 = f32x4.splat(0.0), c7 = f32x4.splat(0.0);
    let pa = A + (<usize>n << 2);
    let px = x;
    for (let m = 0; m < M; m++) {
      const xv = v128.load32_splat(px);
      c0 = f32x4.add(c0, f32x4.mul(xv, v128.load(pa, 0)));
      c1 = f32x4.add(c1, f32x4.mul(xv, v128.load(pa, 16)));
      c2 = f32x4.add(c2, f32x4.mul(xv, v128.load(pa, 32)));
      c3 = f32x4.add(c3, f32x4.mul(xv, v128.load(pa, 48)));
      c4 = f32x4.add(c4, f32x4.mul(xv, v128.load(pa, 64)));
      c5 = f32x4.add(c5, f32x4.mul(xv, v128.load(pa, 80)));
      c6 = f32x4.add(c6, f32x4.mul(xv, v128.load(pa, 96)));
      c7 = f32x4.add(c7, f32x4.mul(xv, v128.load(pa, 112)));
      pa += rowBytes;
      px += xStride;
    }
    const py = y + (<usize>n << 2);
    storeScaled4(py, alpha, beta, c0);
    storeScaled4(py + 16, alpha, beta, c1);
    storeScaled4(py + 32, alpha, beta, c2);
    storeScaled4(py + 48, alpha, beta, c3);
    storeScaled4(py + 64, alpha, beta, c4);
    storeScaled4(py + 80, alpha, beta, c5);
    storeScaled4(py + 96, alpha, beta, c6);
    storeScaled4(py + 112, alpha, beta, c7);
  }
  for (; n + 4 <= N; n += 4) {
    let c = f32x4.splat(0.0);
    let pa = A + (<usize>n << 2);
    let px = x;
    for (let m = 0; m < M; m++) {
      c = f32x4.add(c, f32x4.mul(v128.load32_splat(px), v128.load(pa)));
      pa += rowBytes;
      px += xStride;
    }
    storeScaled4(y + (<usize>n << 2), alpha, beta, c);
  }
  for (; n < N; n++) {
    let s: f32 = 0;
    for (let m = 0; m < M; m++) s += load<f32>(A + <usize>m * rowBytes + (<usize>n << 2)) * load<f32>(x + <usize>m * xStride);
    storeScaled1(y + (<usize>n << 2), alpha, beta, s);
  }
}

// @ts-ignore: decorator
@inline function scaleOrZero(n: i32, beta: f32, y: usize): void {
  if (beta == 0) fill(n, 0, y);
  else if (beta != 1) scale(n, beta, y);
}

export function gemv(trans: i32, M: i32, N: i32, alpha: f32, A: usize, x: usize, beta: f32, y: usize): void {
  if (trans) gemvT(M, N, alpha, A, x, 1, beta, y);
  else gemvN(M, N, alpha, A, x, 1, beta, y);
}

// ---------------------------------------------------------------------------------------------
// gemm: C ← α·op(A)·op(B) + β·C; op(A) is M×K, op(B) is K×N, C is M×N, all row-major.

/** Copy op(B)[k0:k0+kc, j0:j0+8] into the panel as kc rows of 8 floats, zero past column N. */
function packPanel(transB: i32, N: i32, K: i32, B: usize, k0: i32, kc: i32, j0: i32): void {
  const cols = min(8, N - j0);
  if (!transB) {
    const rowBytes = <usize>N << 2;
    let src = B + <usize>k0 * rowBytes + (<usize>j0 << 2);
    let dst = panel;
    if (cols == 8) {
      for (let k = 0; k < kc; k++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        src += rowBytes;
        dst += 32;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let c = 0; c < 8; c++) store<f32>(dst + (<usize>c << 2), c < cols ? load<f32>(src + (<usize>c << 2)) : 0);
        src += rowBytes;
        dst += 32;
      }
    }
  } else {
    // op(B) = Bᵀ with B N×K: column j of op(B) is row j of B, contiguous over k
    const rowBytes = <usize>K << 2;
    for (let c = 0; c < 8; c++) {
      let dst = panel + (<usize>c << 2);
      if (c < cols) {
        let src = B + <usize>(j0 + c) * rowBytes + (<usize>k0 << 2);
        for (let k = 0; k < kc; k++) {
          store<f32>(dst, load<f32>(src));
          src += 4;
          dst += 32;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          store<f32>(dst, 0);
          dst += 32;
        }
      }
    }
  }
}

/** C[m0:m0+4, j0:j0+8] += α · Σ_k a(m,k)·panel[k,:]; a(m,k) at A + m·rs + k·ks (bytes) */
// @ts-ignore: decorator
@inline function micro4x8(kc: i32, alpha: f32, pa: usize, rs: usize, ks: usize, pc: usize, ldc: usize, cols: i32): void {
  let c00 = f32x4.splat(0.0), c01 = f32x4.splat(0.0);
  let c10 = f32x4.splat(0.0), c11 = f32x4.splat(0.0);
  let c20 = f32x4.splat(0.0), c21 = f32x4.splat(0.0);
  let c30 = f32x4.splat(0.0), c31 = f32x4.splat(0.0);
  let pb = panel;
  const rs2 = rs + rs;
  const rs3 = rs2 + rs;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    const a0 = v128.load32_splat(pa);
    c00 = f32x4.add(c00, f32x4.mul(a0, b0));
    c01 = f32x4.add(c01, f32x4.mul(a0, b1));
    const a1 = v128.load32_splat(pa + rs);
    c10 = f32x4.add(c10, f32x4.mul(a1, b0));
    c11 = f32x4.add(c11, f32x4.mul(a1, b1));
    const a2 = v128.load32_splat(pa + rs2);
    c20 = f32x4.add(c20, f32x4.mul(a2, b0));
    c21 = f32x4.add(c21, f32x4.mul(a2, b1));
    const a3 = v128.load32_splat(pa + rs3);
    c30 = f32x4.add(c30, f32x4.mul(a3, b0));
    c31 = f32x4.add(c31, f32x4.mul(a3, b1));
    pa += ks;
    pb += 32;
  }
  storeRow(pc, alpha, c00, c01, cols);
  storeRow(pc + ldc, alpha, c10, c11, cols);
  storeRow(pc + ldc * 2, alpha, c20, c21, cols);
  storeRow(pc + ldc * 3, alpha, c30, c31, cols);
}

// @ts-ignore: decorator
@inline function micro1x8(kc: i32, alpha: f32, pa: usize, ks: usize, pc: usize, cols: i32): void {
  let c0 = f32x4.splat(0.0), c1 = f32x4.splat(0.0);
  let pb = panel;
  for (let k = 0; k < kc; k++) {
    const a0 = v128.load32_splat(pa);
    c0 = f32x4.add(c0, f32x4.mul(a0, v128.load(pb)));
    c1 = f32x4.add(c1, f32x4.mul(a0, v128.load(pb, 16)));
    pa += ks;
    pb += 32;
  }
  storeRow(pc, alpha, c0, c1, cols);
}

// @ts-ignore: decorator
@inline function storeRow(pc: usize, alpha: f32, v0: v128, v1: v128, cols: i32): void {
  const a = f32x4.splat(alpha);
  if (cols == 8) {
    v128.store(pc, f32x4.add(v128.load(pc), f32x4.mul(a, v0)));
    v128.store(pc, f32x4.add(v128.load(pc, 16), f32x4.mul(a, v1)), 16);
  } else {
    const spill = panel + <usize>(KC * 32);
    v128.store(spill, v0);
    v128.store(spill, v1, 16);
    for (let c = 0; c < cols; c++) {
      const p = pc + (<usize>c << 2);
      store<f32>(p, load<f32>(p) + alpha * load<f32>(spill + (<usize>c << 2)));
    }
  }
}

export function gemm(transA: i32, transB: i32, M: i32, N: i32, K: i32, alpha: f32, A: usize, B: usize, beta: f32, C: usize): void {
  // a(m,k) lives at A + m·rs + k·ks
  const rs: usize = transA ? 4 : <usize>K << 2;
  const ks: usize = transA ? <usize>M << 2 : 4;
  const ldc = <usize>N << 2;
  if (M < 4 && K > 0) {
    // too few rows to amortise packing: one gemv per row of C
    for (let m = 0; m < M; m++) {
      const xa = A + <usize>m * rs;
      const incx = <i32>(ks >> 2);
      const cRow = C + <usize>m * ldc;
      if (transB) gemvN(N, K, alpha, B, xa, incx, beta, cRow); // c[n] = Σ_k B[n,k]·a(m,k)
      else gemvT(K, N, alpha, B, xa, incx, beta, cRow); //        c[n] = Σ_k a(m,k)·B[k,n]
    }
    return;
  }
  scaleOrZero(M * N, beta, C);
  if (K == 0 || alpha == 0) return;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    for (let j0 = 0; j0 < N; j0 += 8) {
      packPanel(transB, N, K, B, k0, kc, j0);
      const cols = min(8, N - j0);
      const aK = A + <usize>k0 * ks;
      const cJ = C + (<usize>j0 << 2);
      let m = 0;
      for (; m + 4 <= M; m += 4) micro4x8(kc, alpha, aK + <usize>m * rs, rs, ks, cJ + <usize>m * ldc, ldc, cols);
      for (; m < M; m++) micro1x8(kc, alpha, aK + <usize>m * rs, ks, cJ + <usize>m * ldc, cols);
    }
  }
}

/** A ← A + α·x·yᵀ, A is M×N */
export function ger(M: i32, N: i32, alpha: f32, x: usize, y: usize, A: usize): void {
  const rowBytes = <usize>N << 2;
  for (let m = 0; m < M; m++) {
    const s = alpha * load<f32>(x + (<usize>m << 2));
    const sv = f32x4.splat(s);
    const row = A + <usize>m * rowBytes;
    let n = 0;
    for (; n + 4 <= N; n += 4) {
      const p = row + (<usize>n << 2);
      v128.store(p, f32x4.add(v128.load(p), f32x4.mul(sv, v128.load(y + (<usize>n << 2)))));
    }
    for (; n < N; n++) {
      const p = row + (<usize>n << 2);
      store<f32>(p, load<f32>(p) + s * load<f32>(y + (<usize>n << 2)));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// eligibility-trace updates, e is M×N

/** e[i,j] ← a[i]·e[i,j] + u[i]·v[j] (a decay per row) */
export function traceUpdateRow(M: i32, N: i32, a: usize, u: usize, v: usize, e: usize): void {
  const rowBytes = <usize>N << 2;
  for (let i = 0; i < M; i++) {
    const ai = load<f32>(a + (<usize>i << 2));
    const ui = load<f32>(u + (<usize>i << 2));
    const av = f32x4.splat(ai);
    const uv = f32x4.splat(ui);
    const row = e + <usize>i * rowBytes;
    let j = 0;
    for (; j + 8 <= N; j += 8) {
      const p = row + (<usize>j << 2);
      const q = v + (<usize>j << 2);
      v128.store(p, f32x4.add(f32x4.mul(av, v128.load(p)), f32x4.mul(uv, v128.load(q))));
      v128.store(p, f32x4.add(f32x4.mul(av, v128.load(p, 16)), f32x4.mul(uv, v128.load(q, 16))), 16);
    }
    for (; j + 4 <= N; j += 4) {
      const p = row + (<usize>j << 2);
      v128.store(p, f32x4.add(f32x4.mul(av, v128.load(p)), f32x4.mul(uv, v128.load(v + (<usize>j << 2)))));
    }
    for (; j < N; j++) {
      const p = row + (<usize>j << 2);
      store<f32>(p, ai * load<f32>(p) + ui * load<f32>(v + (<usize>j << 2)));
    }
  }
}

/** e[i,j] ← a[i,j]·e[i,j] + u[i]·v[j] (a decay per element) */
export function traceUpdateElem(M: i32, N: i32, a: usize, u: usize, v: usize, e: usize): void {
  const rowBytes = <usize>N << 2;
  for (let i = 0; i < M; i++) {
    const ui = load<f32>(u + (<usize>i << 2));
    const uv = f32x4.splat(ui);
    const row = e + <usize>i * rowBytes;
    const arow = a + <usize>i * rowBytes;
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const off = <usize>j << 2;
      v128.store(row + off, f32x4.add(f32x4.mul(v128.load(arow + off), v128.load(row + off)), f32x4.mul(uv, v128.load(v + off))));
    }
    for (; j < N; j++) {
      const off = <usize>j << 2;
      store<f32>(row + off, load<f32>(arow + off) * load<f32>(row + off) + ui * load<f32>(v + off));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// row reductions over an M×N matrix

export function rowSum(M: i32, N: i32, A: usize, out: usize): void {
  for (let m = 0; m < M; m++) store<f32>(out + (<usize>m << 2), sum(N, A + <usize>m * (<usize>N << 2)));
}

export function rowMax(M: i32, N: i32, A: usize, out: usize): void {
  for (let m = 0; m < M; m++) store<f32>(out + (<usize>m << 2), maxOf(N, A + <usize>m * (<usize>N << 2)));
}

function maxOf(N: i32, x: usize): f32 {
  let best: f32 = -Infinity;
  let n = 0;
  if (N >= 4) {
    let v = v128.load(x);
    n = 4;
    if (N >= 16) {
      // four independent chains: f32x4.max is a long NaN-propagating sequence on x64, and max is
      // exact and order-free, so splitting the chain changes no result
      let v1 = v128.load(x, 16), v2 = v128.load(x, 32), v3 = v128.load(x, 48);
      for (n = 16; n + 16 <= N; n += 16) {
        const p = x + (<usize>n << 2);
        v = f32x4.max(v, v128.load(p));
        v1 = f32x4.max(v1, v128.load(p, 16));
        v2 = f32x4.max(v2, v128.load(p, 32));
        v3 = f32x4.max(v3, v128.load(p, 48));
      }
      v = f32x4.max(f32x4.max(v, v1), f32x4.max(v2, v3));
    }
    for (; n + 4 <= N; n += 4) v = f32x4.max(v, v128.load(x + (<usize>n << 2)));
    best = max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
  }
  for (; n < N; n++) best = max(best, load<f32>(x + (<usize>n << 2)));
  return best; // Mathf max and f32x4.max both propagate NaN
}

/** out ← Σ_m A[m,:] + β·out (sum over the batch, e.g. a bias gradient) */
export function colSum(M: i32, N: i32, A: usize, beta: f32, out: usize): void {
  scaleOrZero(N, beta, out);
  const rowBytes = <usize>N << 2;
  for (let m = 0; m < M; m++) {
    const row = A + <usize>m * rowBytes;
    let n = 0;
    for (; n + 4 <= N; n += 4) {
      const p = out + (<usize>n << 2);
      v128.store(p, f32x4.add(v128.load(p), v128.load(row + (<usize>n << 2))));
    }
    for (; n < N; n++) {
      const p = out + (<usize>n << 2);
      store<f32>(p, load<f32>(p) + load<f32>(row + (<usize>n << 2)));
    }
  }
}

/** row-wise softmax (log = 0) or log-softmax (log = 1); out may alias A */
export function softmax(M: i32, N: i32, A: usize, log: i32, out: usize): void {
  const rowBytes = <usize>N << 2;
  for (let m = 0; m < M; m++) {
    const row = A + <usize>m * rowBytes;
    const dst = out + <usize>m * rowBytes;
    const mx = maxOf(N, row);
    const mv = f32x4.splat(mx);
    // first pass: dst = exp(x − max), accumulate the sum (x − max ≤ 0 or NaN: vexpNeg). Four vectors
    // per step for the exp chains to overlap; the sum still adds them one by one, in order.
    let acc = f32x4.splat(0.0);
    let n = 0;
    for (; n + 16 <= N; n += 16) {
      const p = row + (<usize>n << 2);
      const a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 32), d = v128.load(p, 48);
      const ea = vexpNeg(f32x4.sub(a, mv)), eb = vexpNeg(f32x4.sub(b, mv));
      const ec = vexpNeg(f32x4.sub(c, mv)), ed = vexpNeg(f32x4.sub(d, mv));
      acc = f32x4.add(f32x4.add(f32x4.add(f32x4.add(acc, ea), eb), ec), ed);
      if (!log) {
        const q = dst + (<usize>n << 2);
        v128.store(q, ea);
        v128.store(q, eb, 16);
        v128.store(q, ec, 32);
        v128.store(q, ed, 48);
      }
    }
    for (; n + 4 <= N; n += 4) {
      const e = vexpNeg(f32x4.sub(v128.load(row + (<usize>n << 2)), mv));
      acc = f32x4.add(acc, e);
      if (!log) v128.store(dst + (<usize>n << 2), e);
    }
    let s = hsum(acc);
    for (; n < N; n++) {
      const e = f32x4.extract_lane(vexpNeg(f32x4.splat(load<f32>(row + (<usize>n << 2)) - mx)), 0);
      s += e;
      if (!log) store<f32>(dst + (<usize>n << 2), e);
    }
    if (log) {
      const shift = f32x4.splat(mx + Mathf.log(s));
      n = 0;
      for (; n + 4 <= N; n += 4) v128.store(dst + (<usize>n << 2), f32x4.sub(v128.load(row + (<usize>n << 2)), shift));
      const sh = mx + Mathf.log(s);
      for (; n < N; n++) store<f32>(dst + (<usize>n << 2), load<f32>(row + (<usize>n << 2)) - sh);
    } else {
      scale(N, 1 / s, dst);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// optimizer updates, in place

/**
 * SGD with momentum (PyTorch's form): g = grad + wd·p; v ← μ·v + g; p ← p − lr·v.
 * With μ = 0 the velocity buffer is not touched (pass any pointer).
 */
export function sgdStep(n: i32, lr: f32, momentum: f32, weightDecay: f32, grad: usize, velocity: usize, param: usize): void {
  const lrv = f32x4.splat(lr);
  const mu = f32x4.splat(momentum);
  const wd = f32x4.splat(weightDecay);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    const p = v128.load(param + off);
    let g = f32x4.add(v128.load(grad + off), f32x4.mul(wd, p));
    if (momentum != 0) {
      g = f32x4.add(f32x4.mul(mu, v128.load(velocity + off)), g);
      v128.store(velocity + off, g);
    }
    v128.store(param + off, f32x4.sub(p, f32x4.mul(lrv, g)));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    const p = load<f32>(param + off);
    let g = load<f32>(grad + off) + weightDecay * p;
    if (momentum != 0) {
      g = momentum * load<f32>(velocity + off) + g;
      store<f32>(velocity + off, g);
    }
    store<f32>(param + off, p - lr * g);
  }
}

/**
 * Adam / AdamW. l2 adds l2·p to the gradient (Adam's weight_decay); decay multiplies p by (1 − lr·decay)
 * first (AdamW). bc1 = 1 − β1^t and bc2 = 1 − β2^t are computed once per step by the caller.
 * m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; p ← p − lr·(m/bc1)/(√(v/bc2) + ε)
 */
export function adamStep(n: i32, lr: f32, beta1: f32, beta2: f32, eps: f32, bc1: f32, bc2: f32, l2: f32, decay: f32,
  grad: usize, m: usize, v: usize, param: usize): void {
  const b1 = f32x4.splat(beta1), ob1 = f32x4.splat(1 - beta1);
  const b2 = f32x4.splat(beta2), ob2 = f32x4.splat(1 - beta2);
  const stepSize = f32x4.splat(lr / bc1);
  const ibc2 = f32x4.splat(1 / bc2);
  const epsv = f32x4.splat(eps);
  const l2v = f32x4.splat(l2);
  const shrink = f32x4.splat(1 - lr * decay);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    let p = v128.load(param + off);
    const g = f32x4.add(v128.load(grad + off), f32x4.mul(l2v, p));
    p = f32x4.mul(p, shrink);
    const mv = f32x4.add(f32x4.mul(b1, v128.load(m + off)), f32x4.mul(ob1, g));
    const vv = f32x4.add(f32x4.mul(b2, v128.load(v + off)), f32x4.mul(ob2, f32x4.mul(g, g)));
    v128.store(m + off, mv);
    v128.store(v + off, vv);
    const denom = f32x4.add(f32x4.sqrt(f32x4.mul(vv, ibc2)), epsv);
    v128.store(param + off, f32x4.sub(p, f32x4.div(f32x4.mul(stepSize, mv), denom)));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    let p = load<f32>(param + off);
    const g = load<f32>(grad + off) + l2 * p;
    p = p * (1 - lr * decay);
    const mv = beta1 * load<f32>(m + off) + (1 - beta1) * g;
    const vv = beta2 * load<f32>(v + off) + (1 - beta2) * g * g;
    store<f32>(m + off, mv);
    store<f32>(v + off, vv);
    store<f32>(param + off, p - ((lr / bc1) * mv) / (Mathf.sqrt(vv * (1 / bc2)) + eps));
  }
}

// ---------------------------------------------------------------------------------------------
// broadcasting

/** out[i,j] ← x[i,j]·v[j] + β·out[i,j]: every row of x scaled elementwise by v (RTRL's per-unit factors) */
export function scaleColumns(M: i32, N: i32, x: usize, v: usize, beta: f32, out: usize): void {
  const rowBytes = <usize>N << 2;
  const bv = f32x4.splat(beta);
  for (let i = 0; i < M; i++) {
    const xr = x + <usize>i * rowBytes;
    const orow = out + <usize>i * rowBytes;
    let j = 0;
    if (beta == 0) {
      for (; j + 4 <= N; j += 4) {
        const off = <usize>j << 2;
        v128.store(orow + off, f32x4.mul(v128.load(xr + off), v128.load(v + off)));
      }
      for (; j < N; j++) {
        const off = <usize>j << 2;
        store<f32>(orow + off, load<f32>(xr + off) * load<f32>(v + off));
      }
    } else {
      for (; j + 4 <= N; j += 4) {
        const off = <usize>j << 2;
        v128.store(orow + off, f32x4.add(f32x4.mul(v128.load(xr + off), v128.load(v + off)), f32x4.mul(bv, v128.load(orow + off))));
      }
      for (; j < N; j++) {
        const off = <usize>j << 2;
        store<f32>(orow + off, load<f32>(xr + off) * load<f32>(v + off) + beta * load<f32>(orow + off));
      }
    }
  }
}

// ---- fused cells: a unit model's step (nonlinearities and local partials) in one pass after the two gemms

// @ts-ignore: decorator
@inline function gruLanes(ihr: v128, ihz: v128, ihn: v128, hhr: v128, hhz: v128, anh: v128, h: v128,
  sNext: usize, y: usize, dfds: usize, d0: usize, d1: usize, d2: usize, d3: usize, dhds: usize, full: bool): void {
  const one = f32x4.splat(1.0);
  const r = vsigmoid(f32x4.add(ihr, hhr));
  const z = vsigmoid(f32x4.add(ihz, hhz));
  const c = vtanh(f32x4.add(ihn, f32x4.mul(r, anh)));
  const hNew = f32x4.add(c, f32x4.mul(z, f32x4.sub(h, c))); // (1 − z)·c + z·h
  const omz = f32x4.sub(one, z);
  const dc = f32x4.mul(omz, f32x4.sub(one, f32x4.mul(c, c)));
  const a0 = f32x4.mul(f32x4.mul(dc, anh), f32x4.mul(r, f32x4.sub(one, r)));
  const a1 = f32x4.mul(f32x4.sub(h, c), f32x4.mul(z, omz));
  const a3 = f32x4.mul(dc, r);
  if (full) {
    v128.store(sNext, hNew);
    v128.store(y, hNew);
    v128.store(dfds, z);
    v128.store(d0, a0);
    v128.store(d1, a1);
    v128.store(d2, dc);
    v128.store(d3, a3);
    v128.store(dhds, one);
  } else {
    const v = f32x4.extract_lane(hNew, 0);
    store<f32>(sNext, v);
    store<f32>(y, v);
    store<f32>(dfds, f32x4.extract_lane(z, 0));
    store<f32>(d0, f32x4.extract_lane(a0, 0));
    store<f32>(d1, f32x4.extract_lane(a1, 0));
    store<f32>(d2, f32x4.extract_lane(dc, 0));
    store<f32>(d3, f32x4.extract_lane(a3, 0));
    store<f32>(dhds, 1.0);
  }
}

/**
 * The GRU unit's step for B samples (units/gru.ts, PyTorch's gate order r, z, n), with its local partials:
 *   r = σ(a_r), z = σ(a_z), c = tanh(a_nx + r·a_nh), h' = (1 − z)·c + z·h;
 *   dfds = z, dfda = [(1−z)(1−c²)·a_nh·r(1−r), (h − c)·z(1−z), (1−z)(1−c²), (1−z)(1−c²)·r], dhds = 1.
 * preIh, preHh are B × 3n; sPrev, sNext, y, dfds, dhds B × n; dfda B × 4n.
 */
export function gruStep(B: i32, n: i32, sPrev: usize, preIh: usize, preHh: usize, sNext: usize, y: usize,
  dfds: usize, dfda: usize, dhds: usize): void {
  const nb = <usize>n << 2;
  for (let b = 0; b < B; b++) {
    const g = <usize>b * 3 * nb, s = <usize>b * nb, a = <usize>b * 4 * nb;
    const pi = preIh + g, ph = preHh + g, hs = sPrev + s;
    const so = sNext + s, yo = y + s, fo = dfds + s, ho = dhds + s, ao = dfda + a;
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      gruLanes(v128.load(pi + o), v128.load(pi + nb + o), v128.load(pi + 2 * nb + o),
        v128.load(ph + o), v128.load(ph + nb + o), v128.load(ph + 2 * nb + o), v128.load(hs + o),
        so + o, yo + o, fo + o, ao + o, ao + nb + o, ao + 2 * nb + o, ao + 3 * nb + o, ho + o, true);
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      gruLanes(f32x4.splat(load<f32>(pi + o)), f32x4.splat(load<f32>(pi + nb + o)), f32x4.splat(load<f32>(pi + 2 * nb + o)),
        f32x4.splat(load<f32>(ph + o)), f32x4.splat(load<f32>(ph + nb + o)), f32x4.splat(load<f32>(ph + 2 * nb + o)),
        f32x4.splat(load<f32>(hs + o)),
        so + o, yo + o, fo + o, ao + o, ao + nb + o, ao + 2 * nb + o, ao + 3 * nb + o, ho + o, false);
    }
  }
}
