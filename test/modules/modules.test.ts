/**
 * The feed-forward modules (gelu, layernorm, dropout, residual) in float64 against central finite
 * differences: the VJP (backward) for the input and every parameter, the JVP (tangent) for the propagated
 * rows and the own-parameter rows of every sample, and the two against each other (⟨u, Jv⟩ = ⟨Jᵀu, v⟩).
 * Then dropout's mask, residual's naming and validation, the wasm float32 backend against float64, and that
 * a step allocates nothing.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend, Buf } from '../../src/backend/backend.js';
import { TsBackend } from '../../src/backend/ts.js';
import { WasmBackend } from '../../src/backend/wasm.js';
import { ConfigError, ShapeError } from '../../src/core/errors.js';
import { ParamStore } from '../../src/core/params.js';
import { Rng } from '../../src/core/rng.js';
import { Dense } from '../../src/modules/dense.js';
import { Dropout } from '../../src/modules/dropout.js';
import { Gelu } from '../../src/modules/gelu.js';
import { LayerNorm } from '../../src/modules/layernorm.js';
import type { Module, ModuleCache, StepContext } from '../../src/modules/module.js';
import { Residual } from '../../src/modules/residual.js';
import { allocationCheck } from '../../src/perf/measure.js';
import { expectAllClose, f32, testData } from '../helpers.js';

const B = 3,
  N = 5,
  EPS = 1e-6,
  RIN = 2;
const FD_TOL = { rtol: 1e-6, atol: 1e-8 };
const MASK_SEED = 99;

interface Case {
  label: string;
  make: () => Module;
  training: boolean;
}

const cases: Case[] = [
  { label: 'gelu', make: () => new Gelu(N), training: true },
  { label: 'layernorm', make: () => new LayerNorm(N), training: true },
  { label: 'dropout p=0.3, training', make: () => new Dropout(N, 0.3), training: true },
  { label: 'dropout p=0.3, eval', make: () => new Dropout(N, 0.3), training: false },
  {
    label: 'residual [layernorm, dense, gelu, dense]',
    make: () => new Residual([new LayerNorm(N), new Dense(N, 7), new Gelu(7), new Dense(7, N)]),
    training: true,
  },
  {
    label: 'residual [dense, dropout p=0.3], training',
    make: () => new Residual([new Dense(N, N), new Dropout(N, 0.3)]),
    training: true,
  },
];

/** One module with its own parameter store (prefix ''), a fixed input, and helpers to run it. */
class Harness {
  readonly m: Module;
  readonly params: ParamStore;
  readonly grads: ParamStore;
  readonly training: boolean;
  x: Float64Array;

  constructor(
    readonly be: Backend,
    c: Case,
    seed = 1,
  ) {
    this.m = c.make();
    this.training = c.training;
    this.params = new ParamStore(be, this.m.paramSpecs());
    this.grads = this.params.like();
    this.m.init(this.params, '', new Rng(seed));
    this.m.bind(this.params, this.grads, '');
    // move away from the init (layernorm's 1 and 0) so that every parameter matters
    const noise = testData(this.params.size, seed + 1, -0.5, 0.5);
    const p = this.params.flat.data;
    for (let i = 0; i < p.length; i++) p[i] = p[i]! + noise[i]!;
    this.x = testData(B * this.m.inSize, seed + 2, -2, 2);
  }

  /** a fresh generator with the same seed each run, so dropout draws the same mask every time */
  ctx(): StepContext {
    return { training: this.training, rng: new Rng(MASK_SEED) };
  }

  run(x: ArrayLike<number> = this.x): { y: Float64Array; cache: ModuleCache } {
    const xb = this.be.from(x),
      y = this.be.alloc(B * this.m.outSize);
    const cache = this.m.createCache(this.be, B);
    this.m.forward(xb, y, cache, this.ctx());
    return { y: Float64Array.from(y.data), cache };
  }

  /** VJP of dy at the fixed input: dx and the parameter gradients (accumulated onto zero) */
  vjp(dy: ArrayLike<number>): { dx: Float64Array; grad: Float64Array } {
    const { cache } = this.run();
    const dx = this.be.alloc(B * this.m.inSize);
    this.be.fill(this.grads.flat, 0);
    this.m.backward(cache, this.be.from(dy), dx);
    return { dx: Float64Array.from(dx.data), grad: Float64Array.from(this.grads.flat.data) };
  }

  /** JVP for sample b: tx (rows×in) → tyIn (rows×out), and the own rows tyOwn (P×out) */
  jvp(b: number, tx: Float64Array | null): { tyIn: Float64Array | null; tyOwn: Float64Array } {
    const { cache } = this.run();
    const out = this.m.outSize,
      rows = tx ? tx.length / this.m.inSize : 0;
    const tyIn = tx ? this.be.alloc(rows * out) : null;
    const tyOwn = this.be.alloc(this.params.size * out);
    this.m.tangent(b, cache, tx ? this.be.from(tx) : null, tyIn, tyOwn);
    return { tyIn: tyIn ? Float64Array.from(tyIn.data) : null, tyOwn: Float64Array.from(tyOwn.data) };
  }

  /** central difference of f(run) in parameter i */
  paramDiff(i: number, f: (y: Float64Array) => Float64Array): Float64Array {
    const p = this.params.flat.data,
      orig = p[i]!;
    p[i] = orig + EPS;
    const plus = f(this.run().y);
    p[i] = orig - EPS;
    const minus = f(this.run().y);
    p[i] = orig;
    return plus.map((v, k) => (v - minus[k]!) / (2 * EPS));
  }

  /** central difference of f(run) along direction d of the input */
  inputDiff(d: Float64Array, f: (y: Float64Array) => Float64Array): Float64Array {
    const plus = f(this.run(this.x.map((v, k) => v + EPS * d[k]!)).y);
    const minus = f(this.run(this.x.map((v, k) => v - EPS * d[k]!)).y);
    return plus.map((v, k) => (v - minus[k]!) / (2 * EPS));
  }
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function unit(n: number, i: number): Float64Array {
  const e = new Float64Array(n);
  e[i] = 1;
  return e;
}

/** a direction in the input that moves only sample b's row */
function sampleDirection(inSize: number, b: number, row: ArrayLike<number>): Float64Array {
  const d = new Float64Array(B * inSize);
  d.set(row, b * inSize);
  return d;
}

const sampleRow = (y: Float64Array, b: number, width: number): Float64Array => y.slice(b * width, (b + 1) * width);

for (const c of cases) {
  describe(c.label, () => {
    test('backward (VJP) matches central finite differences for the input and every parameter', () => {
      const h = new Harness(new TsBackend('float64'), c);
      const w = testData(B * h.m.outSize, 7);
      const L = (y: Float64Array): Float64Array => Float64Array.of(dot(w, y));
      const { dx, grad } = h.vjp(w);
      const fdX = Float64Array.from(h.x, (_, i) => h.inputDiff(unit(h.x.length, i), L)[0]!);
      expectAllClose(dx, fdX, FD_TOL, 'dx');
      const fdP = Float64Array.from({ length: h.params.size }, (_, i) => h.paramDiff(i, L)[0]!);
      expectAllClose(grad, fdP, FD_TOL, 'parameter gradients');
      assert.ok(
        dx.some((v) => Math.abs(v) > 1e-3),
        'dx is not trivially zero',
      );
    });

    test('backward accumulates parameter gradients (+=) and accepts dx = null', () => {
      const h = new Harness(new TsBackend('float64'), c);
      const w = testData(B * h.m.outSize, 8);
      const { grad } = h.vjp(w);
      const { cache } = h.run();
      h.be.fill(h.grads.flat, 0.25);
      h.m.backward(cache, h.be.from(w), h.be.alloc(B * h.m.inSize));
      h.m.backward(cache, h.be.from(w), null);
      expectAllClose(
        h.grads.flat.data,
        grad.map((g) => 0.25 + 2 * g),
        { rtol: 1e-12, atol: 1e-12 },
        'accumulated gradients',
      );
    });

    test('tangent (JVP) matches finite differences for every sample: propagated rows and own rows', () => {
      const h = new Harness(new TsBackend('float64'), c);
      const inp = h.m.inSize,
        out = h.m.outSize;
      for (let b = 0; b < B; b++) {
        const tx = testData(RIN * inp, 20 + b);
        const { tyIn, tyOwn } = h.jvp(b, tx);
        const rowB = (y: Float64Array): Float64Array => sampleRow(y, b, out);
        const fdIn = new Float64Array(RIN * out);
        for (let r = 0; r < RIN; r++) fdIn.set(h.inputDiff(sampleDirection(inp, b, tx.subarray(r * inp, (r + 1) * inp)), rowB), r * out);
        expectAllClose(tyIn!, fdIn, FD_TOL, `sample ${b}: tyIn`);
        const fdOwn = new Float64Array(h.params.size * out);
        for (let p = 0; p < h.params.size; p++) fdOwn.set(h.paramDiff(p, rowB), p * out);
        expectAllClose(tyOwn, fdOwn, FD_TOL, `sample ${b}: tyOwn`);
        // with no rows from below (the first module of a network) the own rows are the same
        const alone = h.jvp(b, null);
        expectAllClose(alone.tyOwn, tyOwn, { rtol: 1e-12, atol: 1e-12 }, `sample ${b}: tyOwn without tx`);
      }
    });

    test('VJP and JVP agree: ⟨u, J·v⟩ = ⟨Jᵀ·u, v⟩ for each sample, and samples do not mix', () => {
      const h = new Harness(new TsBackend('float64'), c);
      const inp = h.m.inSize,
        out = h.m.outSize,
        P = h.params.size;
      for (let b = 0; b < B; b++) {
        const u = testData(out, 30 + b),
          vx = testData(inp, 40 + b),
          vp = testData(P, 50 + b);
        const { tyIn, tyOwn } = h.jvp(b, vx);
        const Jv = Float64Array.from(tyIn!);
        for (let p = 0; p < P; p++) for (let k = 0; k < out; k++) Jv[k] = Jv[k]! + vp[p]! * tyOwn[p * out + k]!;
        const { dx, grad } = h.vjp(sampleDirection(out, b, u));
        const lhs = dot(u, Jv),
          rhs = dot(sampleRow(dx, b, inp), vx) + dot(grad, vp);
        expectAllClose([lhs], [rhs], { rtol: 1e-10, atol: 1e-12 }, `sample ${b}: ⟨u, Jv⟩ vs ⟨Jᵀu, v⟩`);
        for (let s = 0; s < B; s++)
          if (s !== b)
            assert.ok(
              sampleRow(dx, s, inp).every((v) => v === 0),
              `dx of sample ${s} ≠ 0`,
            );
      }
    });

    test('wasm float32 agrees with float64 on forward and backward (≤ 1e-5)', () => {
      const ref = new Harness(new TsBackend('float64'), c);
      const wasm = new Harness(new WasmBackend(), c);
      // both start from the same float32-representable parameters and input
      ref.params.flat.data.set(f32(ref.params.flat.data));
      wasm.params.flat.data.set(ref.params.flat.data);
      ref.x = wasm.x = f32(ref.x);
      const tol = { rtol: 1e-5, atol: 1e-5 };
      expectAllClose(wasm.run().y, ref.run().y, tol, 'y');
      const dy = f32(testData(B * ref.m.outSize, 9));
      const r = ref.vjp(dy),
        w = wasm.vjp(dy);
      expectAllClose(w.dx, r.dx, tol, 'dx');
      expectAllClose(w.grad, r.grad, tol, 'parameter gradients');
    });

    test('wasm float32 agrees with float64 on the tangent (≤ 1e-5)', () => {
      const ref = new Harness(new TsBackend('float64'), c);
      const wasm = new Harness(new WasmBackend(), c);
      ref.params.flat.data.set(f32(ref.params.flat.data));
      wasm.params.flat.data.set(ref.params.flat.data);
      ref.x = wasm.x = f32(ref.x);
      const tx = f32(testData(RIN * ref.m.inSize, 10));
      const r = ref.jvp(1, tx),
        w = wasm.jvp(1, tx);
      const tol = { rtol: 1e-5, atol: 1e-5 };
      expectAllClose(w.tyIn!, r.tyIn!, tol, 'tyIn');
      expectAllClose(w.tyOwn, r.tyOwn, tol, 'tyOwn');
    });
  });
}

describe('dropout', () => {
  const be = new TsBackend('float64');
  const run = (d: Dropout, Bn: number, ctx: StepContext, x?: Buf): { y: Float64Array; cache: ReturnType<Dropout['createCache']> } => {
    const xb = x ?? be.from(new Float64Array(Bn * d.size).fill(1)),
      y = be.alloc(Bn * d.size);
    const cache = d.createCache(be, Bn);
    d.forward(xb, y, cache, ctx);
    return { y: Float64Array.from(y.data), cache };
  };

  test('the mask: element i is dropped when the i-th uniform (row-major over B×size) is < p, kept ones scaled by 1/(1−p)', () => {
    const d = new Dropout(N, 0.3),
      rng = new Rng(5);
    const { y } = run(d, B, { training: true, rng });
    const ref = new Rng(5);
    const expected = Float64Array.from({ length: B * N }, () => (ref.uniform() < 0.3 ? 0 : 1 / 0.7));
    assert.deepEqual(y, expected);
    assert.deepEqual(rng.getState(), ref.getState(), 'one uniform per element, nothing more');
  });

  test('the same seed gives the same mask, another seed another', () => {
    const d = new Dropout(N, 0.3);
    const a = run(d, 8, { training: true, rng: new Rng(3) }).y;
    assert.deepEqual(run(d, 8, { training: true, rng: new Rng(3) }).y, a);
    assert.notDeepEqual(run(d, 8, { training: true, rng: new Rng(4) }).y, a);
  });

  test('the kept fraction is 1 − p on a large batch', () => {
    for (const p of [0.1, 0.3, 0.75]) {
      const d = new Dropout(50, p);
      const { y } = run(d, 2000, { training: true, rng: new Rng(11) });
      const kept = y.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0) / y.length;
      // 100 000 draws: the standard deviation of the fraction is ≤ 0.0016
      assert.ok(Math.abs(kept - (1 - p)) < 0.01, `p = ${p}: kept ${kept}`);
      assert.ok(
        y.every((v) => v === 0 || Math.abs(v - 1 / (1 - p)) < 1e-12),
        'kept elements are scaled by 1/(1 − p)',
      );
    }
  });

  test('evaluation mode and p = 0 are the identity (forward, backward, tangent) and draw nothing', () => {
    for (const [p, training] of [
      [0.3, false],
      [0, true],
    ] as const) {
      const d = new Dropout(N, p),
        rng = new Rng(6),
        before = rng.getState();
      const x = be.from(testData(B * N, 12));
      const { y, cache } = run(d, B, { training, rng }, x);
      assert.deepEqual(y, Float64Array.from(x.data));
      assert.deepEqual(rng.getState(), before, 'no draws');
      const dy = be.from(testData(B * N, 13)),
        dx = be.alloc(B * N);
      d.backward(cache, dy, dx);
      assert.deepEqual(Float64Array.from(dx.data), Float64Array.from(dy.data));
      const tx = be.from(testData(RIN * N, 14)),
        tyIn = be.alloc(RIN * N);
      d.tangent(1, cache, tx, tyIn, be.alloc(0));
      assert.deepEqual(Float64Array.from(tyIn.data), Float64Array.from(tx.data));
    }
  });

  test('p must be in [0, 1)', () => {
    for (const p of [1, -0.1, 1.5, NaN]) assert.throws(() => new Dropout(N, p), ConfigError, `p = ${p}`);
  });
});

describe('layernorm', () => {
  test('initialises weight to 1 and bias to 0 and normalises each sample (mean 0, biased variance 1 − eps)', () => {
    const be = new TsBackend('float64'),
      ln = new LayerNorm(N);
    const params = new ParamStore(be, ln.paramSpecs());
    ln.init(params, '', new Rng(1));
    ln.bind(params, params.like(), '');
    assert.deepEqual(params.get('weight'), new Float64Array(N).fill(1));
    assert.deepEqual(params.get('bias'), new Float64Array(N));
    const x = be.from(testData(B * N, 3, -4, 6)),
      y = be.alloc(B * N);
    ln.forward(x, y, ln.createCache(be, B), { training: true, rng: new Rng(0) });
    for (let b = 0; b < B; b++) {
      const row = sampleRow(Float64Array.from(y.data), b, N);
      const mean = row.reduce((s, v) => s + v, 0) / N;
      const v = row.reduce((s, t) => s + (t - mean) ** 2, 0) / N;
      const xr = sampleRow(Float64Array.from(x.data), b, N),
        xm = xr.reduce((s, t) => s + t, 0) / N;
      const xv = xr.reduce((s, t) => s + (t - xm) ** 2, 0) / N;
      expectAllClose([mean, v], [0, xv / (xv + 1e-5)], { rtol: 1e-12, atol: 1e-12 }, `sample ${b}`);
    }
  });
});

describe('residual', () => {
  test("parameters are the inner modules' own, prefixed inner.<j>., and init/bind pass the prefix through", () => {
    const r = new Residual([new LayerNorm(8), new Dense(8, 8)]);
    assert.deepEqual(
      r.paramSpecs().map((s) => s.name),
      ['inner.0.weight', 'inner.0.bias', 'inner.1.weight', 'inner.1.bias'],
    );
    const be = new TsBackend('float64');
    const params = new ParamStore(
      be,
      r.paramSpecs().map((s) => ({ name: 'layers.1.' + s.name, shape: s.shape })),
    );
    r.init(params, 'layers.1.', new Rng(2));
    r.bind(params, params.like(), 'layers.1.');
    assert.deepEqual(params.get('layers.1.inner.0.weight'), new Float64Array(8).fill(1));
    assert.ok(
      params.get('layers.1.inner.1.weight').some((v) => v !== 0),
      'the dense weight is initialised',
    );
  });

  test('the inner sizes must chain and return to the input size', () => {
    assert.throws(() => new Residual([new Dense(5, 4)]), ShapeError);
    assert.throws(() => new Residual([new Dense(5, 4), new Dense(3, 5)]), ShapeError);
    assert.throws(() => new Residual([]), ConfigError);
    assert.doesNotThrow(() => new Residual([new Dense(5, 4), new Gelu(4), new Dense(4, 5)]));
  });
});

/**
 * A residual holding every module, stepped many times, allocates nothing. Two exclusions, both V8 rather than
 * the modules: the ts backend's activation maps (gelu, geluDeriv, …) box their results once more than one of
 * them is in use, so this runs on wasm; and dropout's draw goes through Rng methods that return numbers, which
 * box whenever V8 runs out of inlining budget (it depends on what got inlined where), so forward runs in
 * evaluation mode, while backward and tangent use a cache whose mask was drawn in training.
 */
test('forward, backward and tangent allocate nothing (wasm)', async () => {
  const be = new WasmBackend();
  const m = new Residual([new LayerNorm(N), new Dense(N, 7), new Gelu(7), new Dropout(7, 0.3), new Dense(7, N)]);
  const params = new ParamStore(be, m.paramSpecs());
  m.init(params, '', new Rng(1));
  m.bind(params, params.like(), '');
  const x = be.from(testData(B * N, 1)),
    y = be.alloc(B * N),
    dy = be.from(testData(B * N, 2)),
    dx = be.alloc(B * N);
  const tx = be.from(testData(RIN * N, 3)),
    tyIn = be.alloc(RIN * N),
    tyOwn = be.alloc(params.size * N);
  const evalCache = m.createCache(be, B),
    trainCache = m.createCache(be, B);
  const evalCtx: StepContext = { training: false, rng: new Rng(2) };
  m.forward(x, y, trainCache, { training: true, rng: new Rng(2) });
  let b = 0;
  const step = (): void => {
    m.forward(x, y, evalCache, evalCtx);
    m.backward(trainCache, dy, dx);
    m.tangent(b, trainCache, tx, tyIn, tyOwn);
    b = (b + 1) % B;
  };
  // collect the earlier tests' garbage first, so that no collection of it falls inside the measured loop
  (globalThis as { gc?: () => void }).gc?.();
  const calls = 300_000;
  const report = await allocationCheck(step, calls);
  assert.equal(report.gcCount, 0, `${report.gcCount} garbage collections during ${calls} steps`);
  assert.ok(report.heapGrowthBytes < 2 * 1024 * 1024, `heap grew by ${report.heapGrowthBytes} bytes over ${calls} steps`);
});
