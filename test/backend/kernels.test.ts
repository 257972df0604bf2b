/**
 * Every kernel on every backend against a straightforward float64 reference written here, on odd sizes
 * (not only multiples of the SIMD width or the 8-column panel), with accumulation on and off.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend, Buf } from '../../src/backend/backend.js';
import { ShapeError, ConfigError } from '../../src/core/errors.js';
import { backendCases, expectAllClose, f32, testData } from '../helpers.js';

const SIZES = [1, 3, 7, 33, 257];
const EPS32 = 2 ** -23;

/** Per-element bound for a sum of `terms` products whose absolute values sum to `absSum`. */
function sumBound(absSum: number, terms: number, exact: boolean): number {
  return exact ? 1e-12 * (absSum + 1) : 4 * EPS32 * Math.sqrt(Math.max(terms, 1)) * absSum + 1e-7;
}

function expectWithin(actual: ArrayLike<number>, expected: ArrayLike<number>, bound: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (!(d <= bound[i]!))
      assert.fail(
        `${what}[${i}]: got ${actual[i]}, expected ${expected[i]} (|diff| ${d.toExponential(3)} > ${bound[i]!.toExponential(3)})`,
      );
  }
}

/** a(m,k) of op(A) for a row-major A */
function at(A: ArrayLike<number>, trans: boolean, rows: number, cols: number, i: number, j: number): number {
  // op(A) is rows×cols; A itself is rows×cols, or cols×rows when trans
  return trans ? A[j * rows + i]! : A[i * cols + j]!;
}

for (const bc of backendCases) {
  describe(`kernels on ${bc.label}`, () => {
    const be: Backend = bc.make();
    const exact = be.dtype === 'float64';
    const round = (v: ArrayLike<number>): Float64Array => (exact ? Float64Array.from(v) : f32(v));
    const buf = (v: ArrayLike<number>): Buf => be.from(v);
    const tol = bc.tol;

    test('fill, copy, scale, axpby, axpy, add, mul', () => {
      for (const n of SIZES) {
        const x = round(testData(n, n)),
          y = round(testData(n, n + 1));
        const bx = buf(x),
          by = buf(y),
          out = be.alloc(n);
        be.fill(out, 2.5);
        expectAllClose(out.data, new Float64Array(n).fill(2.5), tol, 'fill');
        be.copy(bx, out);
        expectAllClose(out.data, x, { rtol: 0, atol: 0 }, 'copy');
        be.scale(-0.5, out);
        expectAllClose(
          out.data,
          x.map((v) => -0.5 * v),
          tol,
          'scale',
        );
        be.axpby(0.3, bx, 1.7, out);
        expectAllClose(
          out.data,
          x.map((v) => 0.3 * v + 1.7 * -0.5 * v),
          tol,
          'axpby',
        );
        out.data.fill(NaN); // β = 0 overwrites, NaN included
        be.axpby(2, bx, 0, out);
        expectAllClose(
          out.data,
          x.map((v) => 2 * v),
          tol,
          'axpby β=0',
        );
        be.axpy(-1.25, by, out);
        expectAllClose(
          out.data,
          x.map((v, i) => 2 * v - 1.25 * y[i]!),
          tol,
          'axpy',
        );
        be.add(bx, by, out);
        expectAllClose(
          out.data,
          x.map((v, i) => v + y[i]!),
          tol,
          'add',
        );
        be.mul(bx, by, out);
        expectAllClose(
          out.data,
          x.map((v, i) => v * y[i]!),
          tol,
          'mul',
        );
        be.mul(bx, by, out, true);
        expectAllClose(
          out.data,
          x.map((v, i) => 2 * v * y[i]!),
          tol,
          'mul accumulate',
        );
        be.mul(bx, bx, bx); // out may alias an input
        expectAllClose(
          bx.data,
          x.map((v) => v * v),
          tol,
          'mul in place',
        );
      }
    });

    test('axpbyAt works on the given ranges only, at any offset', () => {
      for (const n of SIZES) {
        const x = round(testData(n + 5, 11)),
          y = round(testData(n + 9, 12));
        const bx = buf(x),
          out = buf(y);
        be.axpbyAt(n, 0.75, bx, 3, 1, out, 7);
        const want = Float64Array.from(y);
        for (let i = 0; i < n; i++) want[7 + i] = 0.75 * x[3 + i]! + y[7 + i]!;
        expectAllClose(out.data, want, tol, 'axpbyAt β=1');
        out.data.fill(NaN, 1, 1 + n); // β = 0 overwrites, NaN included
        be.axpbyAt(n, -2, bx, 5, 0, out, 1);
        for (let i = 0; i < n; i++) want[1 + i] = -2 * x[5 + i]!;
        expectAllClose(out.data, want, tol, 'axpbyAt β=0');
      }
      const bx = be.alloc(4),
        by = be.alloc(4);
      assert.throws(() => be.axpbyAt(3, 1, bx, 2, 1, by, 0), /axpbyAt: ranges x\[2, 2\+3\)/);
      assert.throws(() => be.axpbyAt(2, 1, bx, 0, 1, by, -1), ShapeError);
    });

    test('dot and sum', () => {
      for (const n of [...SIZES, 1000]) {
        const x = round(testData(n, 3 * n)),
          y = round(testData(n, 3 * n + 1));
        let d = 0,
          s = 0,
          ad = 0,
          as = 0;
        for (let i = 0; i < n; i++) {
          d += x[i]! * y[i]!;
          ad += Math.abs(x[i]! * y[i]!);
          s += x[i]!;
          as += Math.abs(x[i]!);
        }
        expectWithin([be.dot(buf(x), buf(y))], [d], [sumBound(ad, n, exact)], `dot n=${n}`);
        expectWithin([be.sum(buf(x))], [s], [sumBound(as, n, exact)], `sum n=${n}`);
      }
    });

    test('activations and their derivatives match Math on a wide range and on special values', () => {
      const specials = [
        0,
        -0,
        1e-8,
        -1e-8,
        1e-3,
        -1e-3,
        0.6249,
        0.6251,
        -0.6251,
        5,
        -5,
        9.5,
        20,
        -20,
        40,
        -40,
        87,
        -87,
        88.5,
        89,
        -88,
        -100,
        -104,
        -110,
        1000,
        -1000,
        Infinity,
        -Infinity,
        NaN,
      ];
      const sig = (v: number): number => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));
      const c = Math.sqrt(2 / Math.PI);
      const gelu = (v: number): number => 0.5 * v * (1 + Math.tanh(c * (v + 0.044715 * v ** 3)));
      const geluD = (v: number): number => {
        const t = Math.tanh(c * (v + 0.044715 * v ** 3));
        return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * c * (1 + 3 * 0.044715 * v * v);
      };
      const relu = (v: number): number => (Number.isNaN(v) ? v : Math.max(v, 0));
      for (const n of SIZES) {
        const x = round([...testData(n, 7 * n, -12, 12), ...specials]);
        const bx = buf(x),
          out = be.alloc(x.length);
        const check = (name: string, f: (v: number) => number, r = tol.rtol, a = tol.atol): void => {
          expectAllClose(out.data, round(x.map(f)), { rtol: exact ? 1e-12 : r, atol: exact ? 1e-12 : a }, `${name} n=${n}`);
        };
        // float32 exp loses about |x|·2^-24 relative to its argument's rounding; 4 ulp is the budget
        be.exp(bx, out);
        check('exp', Math.exp, 4 * EPS32, 1e-37);
        be.tanh(bx, out);
        check('tanh', Math.tanh, 3 * EPS32, 1e-30);
        be.sigmoid(bx, out);
        check('sigmoid', sig, 4 * EPS32, 1e-37);
        be.relu(bx, out);
        check('relu', relu, 0, 0);
        be.gelu(bx, out);
        check('gelu', gelu, 1e-5, 1e-6);
        be.geluDeriv(bx, out);
        check('geluDeriv', geluD, 1e-5, 1e-6);
        be.reluDeriv(bx, out);
        check('reluDeriv', (v) => (Number.isNaN(v) ? v : v > 0 ? 1 : 0), 0, 0);
        const y = round(x.map(Math.tanh)),
          by = buf(y);
        be.tanhDeriv(by, out);
        expectAllClose(
          out.data,
          y.map((v) => 1 - v * v),
          tol,
          'tanhDeriv',
        );
        const s = round(x.map(sig)),
          bs = buf(s);
        be.sigmoidDeriv(bs, out);
        expectAllClose(
          out.data,
          s.map((v) => v * (1 - v)),
          tol,
          'sigmoidDeriv',
        );
        be.tanh(bx, bx); // in place
        expectAllClose(bx.data, x.map(Math.tanh), { rtol: exact ? 1e-12 : 3 * EPS32, atol: exact ? 1e-12 : 1e-30 }, 'tanh in place');
      }
    });

    test('gemv, plain and transposed, with α, β', () => {
      for (const M of SIZES)
        for (const N of SIZES)
          for (const trans of [false, true])
            for (const beta of [0, 1, 0.5]) {
              const A = round(testData(M * N, M * 31 + N)),
                x = round(testData(trans ? M : N, N + 5));
              const y0 = round(testData(trans ? N : M, M + 9));
              const alpha = 0.7;
              const out = trans ? N : M,
                inner = trans ? M : N;
              const want = new Float64Array(out),
                bound = new Float64Array(out);
              for (let o = 0; o < out; o++) {
                let s = 0,
                  a = 0;
                for (let i = 0; i < inner; i++) {
                  const p = (trans ? A[i * N + o]! : A[o * N + i]!) * x[i]!;
                  s += p;
                  a += Math.abs(p);
                }
                want[o] = alpha * s + beta * y0[o]!;
                bound[o] = sumBound(alpha * a + Math.abs(beta * y0[o]!), inner + 1, exact);
              }
              const by = buf(y0);
              if (beta === 0) by.data.fill(NaN);
              be.gemv(trans, M, N, alpha, buf(A), buf(x), beta, by);
              expectWithin(by.data, want, bound, `gemv trans=${trans} M=${M} N=${N} β=${beta}`);
            }
    });

    test('gemm in all four transpose forms, accumulate on and off, panels and k-blocks with tails', () => {
      const dims: [number, number, number][] = [];
      for (const M of [1, 3, 7, 33]) for (const N of [1, 3, 7, 33]) for (const K of [1, 3, 7, 33]) dims.push([M, N, K]);
      dims.push(
        [257, 33, 7],
        [7, 257, 33],
        [33, 7, 257],
        [4, 8, 1],
        [8, 16, 600],
        [5, 9, 1100],
        [64, 40, 64],
        [0, 3, 4],
        [3, 0, 4],
        [3, 4, 0],
      );
      for (const [M, N, K] of dims)
        for (const tA of [false, true])
          for (const tB of [false, true])
            for (const beta of [0, 1]) {
              const A = round(testData(M * K, M + 7 * K + 1)),
                B = round(testData(K * N, N + 3 * K + 2));
              const C0 = round(testData(M * N, M * N + 3));
              const alpha = 1.3;
              const want = new Float64Array(M * N),
                bound = new Float64Array(M * N);
              for (let m = 0; m < M; m++)
                for (let n = 0; n < N; n++) {
                  let s = 0,
                    a = 0;
                  for (let k = 0; k < K; k++) {
                    const p = at(A, tA, M, K, m, k) * at(B, tB, K, N, k, n);
                    s += p;
                    a += Math.abs(p);
                  }
                  want[m * N + n] = alpha * s + beta * C0[m * N + n]!;
                  bound[m * N + n] = sumBound(alpha * a + Math.abs(beta * C0[m * N + n]!), K + 1, exact);
                }
              const bC = buf(C0);
              if (beta === 0) bC.data.fill(NaN);
              be.gemm(tA, tB, M, N, K, alpha, buf(A), buf(B), beta, bC);
              expectWithin(bC.data, want, bound, `gemm tA=${tA} tB=${tB} M=${M} N=${N} K=${K} β=${beta}`);
            }
    });

    test('ger (rank-1 accumulate)', () => {
      for (const M of SIZES)
        for (const N of SIZES) {
          const x = round(testData(M, M)),
            y = round(testData(N, N + 1)),
            A = round(testData(M * N, M + N));
          const bA = buf(A);
          be.ger(M, N, -0.6, buf(x), buf(y), bA);
          expectAllClose(
            bA.data,
            A.map((v, i) => v - 0.6 * x[Math.floor(i / N)]! * y[i % N]!),
            tol,
            `ger ${M}×${N}`,
          );
        }
    });

    test('trace updates, row-scaled and element-scaled', () => {
      for (const M of SIZES)
        for (const N of SIZES) {
          const a = round(testData(M, M + 1, 0, 1)),
            ae = round(testData(M * N, M + N + 2, 0, 1));
          const u = round(testData(M, M + 3)),
            v = round(testData(N, N + 4)),
            e0 = round(testData(M * N, M * N));
          const e = buf(e0);
          be.traceUpdateRow(M, N, buf(a), buf(u), buf(v), e);
          const want = e0.map((x, i) => a[Math.floor(i / N)]! * x + u[Math.floor(i / N)]! * v[i % N]!);
          expectAllClose(e.data, want, tol, `traceUpdateRow ${M}×${N}`);
          const e2 = buf(e0);
          be.traceUpdateElem(M, N, buf(ae), buf(u), buf(v), e2);
          expectAllClose(
            e2.data,
            e0.map((x, i) => ae[i]! * x + u[Math.floor(i / N)]! * v[i % N]!),
            tol,
            `traceUpdateElem ${M}×${N}`,
          );
        }
    });

    test('rowsScaledAdd: each row of T gains its own multiple of the row of A its parameter feeds', () => {
      for (const [R, J, m, n] of [
        [1, 1, 1, 1],
        [6, 3, 2, 5],
        [8, 1, 4, 33],
        [3, 7, 3, 4],
      ] as const) {
        const y = round(testData(R * J, R + J)).map((v, i) => (i % 4 === 3 ? 0 : v));
        const A = round(testData(m * n, m + n)),
          T0 = round(testData(R * J * n, R * J * n));
        const T = buf(T0);
        be.rowsScaledAdd(R, J, m, n, buf(y), buf(A), T);
        const want = T0.map((t, i) => {
          const p = Math.floor(i / n);
          return t + y[p]! * A[(Math.floor(p / J) % m) * n + (i % n)]!;
        });
        expectAllClose(T.data, want, tol, `rowsScaledAdd ${R}×${J}, A ${m}×${n}`);
      }
    });

    test('traceUpdateRowAccumulate (trace step and gradient, fused) and accumulateRows, zero rows included', () => {
      for (const M of SIZES)
        for (const N of SIZES) {
          const a = round(testData(M, M + 1, 0, 1)),
            u = round(testData(M, M + 3)),
            v = round(testData(N, N + 4));
          const l = round(testData(M, M + 5)).map((x, i) => (i % 3 === 1 ? 0 : x)); // rows with no signal skip g
          const e0 = round(testData(M * N, M * N)),
            g0 = round(testData(M * N, M * N + 9));
          const e = buf(e0),
            g = buf(g0);
          be.traceUpdateRowAccumulate(M, N, buf(a), buf(u), buf(v), buf(l), e, g);
          const eNew = e0.map((x, i) => a[Math.floor(i / N)]! * x + u[Math.floor(i / N)]! * v[i % N]!);
          expectAllClose(e.data, eNew, tol, `traceUpdateRowAccumulate e ${M}×${N}`);
          expectAllClose(
            g.data,
            g0.map((x, i) => x + l[Math.floor(i / N)]! * round(eNew)[i]!),
            tol,
            `traceUpdateRowAccumulate g ${M}×${N}`,
          );
          const g2 = buf(g0);
          be.accumulateRows(M, N, buf(l), buf(e0), g2);
          expectAllClose(
            g2.data,
            g0.map((x, i) => x + l[Math.floor(i / N)]! * e0[i]!),
            tol,
            `accumulateRows ${M}×${N}`,
          );
        }
    });

    test('scaleColumns (every row times a vector), overwrite and accumulate', () => {
      for (const M of SIZES)
        for (const N of SIZES)
          for (const beta of [0, 1, -0.5]) {
            const x = round(testData(M * N, M + 2 * N)),
              v = round(testData(N, N + 7)),
              o0 = round(testData(M * N, M * N + 1));
            const out = buf(o0);
            if (beta === 0) out.data.fill(NaN);
            be.scaleColumns(M, N, buf(x), buf(v), beta, out);
            expectAllClose(
              out.data,
              x.map((xi, i) => xi * v[i % N]! + beta * o0[i]!),
              tol,
              `scaleColumns ${M}×${N} β=${beta}`,
            );
          }
    });

    test('row reductions: sum, max, column sum, softmax, log-softmax', () => {
      for (const M of [1, 3, 7])
        for (const N of SIZES) {
          const A = round(testData(M * N, M * N + 11, -6, 6));
          const bA = buf(A);
          const rs = be.alloc(M);
          be.rowSum(M, N, bA, rs);
          const row = (m: number): number[] => Array.from(A.subarray(m * N, (m + 1) * N));
          expectWithin(
            rs.data,
            Array.from({ length: M }, (_, m) => row(m).reduce((s, v) => s + v, 0)),
            Array.from({ length: M }, (_, m) =>
              sumBound(
                row(m).reduce((s, v) => s + Math.abs(v), 0),
                N,
                exact,
              ),
            ),
            'rowSum',
          );
          be.rowMax(M, N, bA, rs);
          expectAllClose(
            rs.data,
            Array.from({ length: M }, (_, m) => Math.max(...row(m))),
            { rtol: 0, atol: 0 },
            'rowMax',
          );
          const cs = buf(testData(N, 5));
          const cs0 = Float64Array.from(cs.data);
          be.colSum(M, N, bA, 1, cs);
          const colWant = cs0.map((v, n) => v + Array.from({ length: M }, (_, m) => A[m * N + n]!).reduce((s, x) => s + x, 0));
          expectAllClose(cs.data, colWant, { rtol: tol.rtol * 4, atol: tol.atol * 4 }, 'colSum β=1');
          be.colSum(M, N, bA, 0, cs);
          expectAllClose(
            cs.data,
            colWant.map((v, n) => v - cs0[n]!),
            { rtol: tol.rtol * 4, atol: tol.atol * 4 },
            'colSum β=0',
          );
          const out = be.alloc(M * N);
          const smWant = new Float64Array(M * N),
            lsmWant = new Float64Array(M * N);
          for (let m = 0; m < M; m++) {
            const r = row(m),
              mx = Math.max(...r);
            const z = r.reduce((s, v) => s + Math.exp(v - mx), 0);
            r.forEach((v, n) => {
              smWant[m * N + n] = Math.exp(v - mx) / z;
              lsmWant[m * N + n] = v - mx - Math.log(z);
            });
          }
          be.softmax(M, N, bA, out);
          expectAllClose(out.data, smWant, { rtol: exact ? 1e-12 : 1e-5, atol: exact ? 1e-14 : 1e-7 }, 'softmax');
          be.logSoftmax(M, N, bA, out);
          expectAllClose(out.data, lsmWant, { rtol: exact ? 1e-12 : 1e-5, atol: exact ? 1e-12 : 1e-5 }, 'logSoftmax');
          be.logSoftmax(M, N, bA, bA); // in place
          expectAllClose(bA.data, lsmWant, { rtol: exact ? 1e-12 : 1e-5, atol: exact ? 1e-12 : 1e-5 }, 'logSoftmax in place');
        }
    });

    test('sgd with momentum and weight decay, three steps', () => {
      for (const n of SIZES) {
        const p = Float64Array.from(round(testData(n, n))),
          v = new Float64Array(n);
        const bp = buf(p),
          bv = be.alloc(n);
        for (let step = 0; step < 3; step++) {
          const g = round(testData(n, 100 * step + n));
          be.sgdStep(0.1, 0.9, 0.01, buf(g), bv, bp);
          for (let i = 0; i < n; i++) {
            const gi = g[i]! + 0.01 * p[i]!;
            v[i] = 0.9 * v[i]! + gi;
            p[i] = p[i]! - 0.1 * v[i]!;
          }
          expectAllClose(bp.data, p, { rtol: tol.rtol * 4, atol: tol.atol * 4 }, `sgd step ${step}`);
          expectAllClose(bv.data, v, { rtol: tol.rtol * 4, atol: tol.atol * 4 }, `sgd velocity ${step}`);
        }
        // plain sgd never reads the velocity
        const q = buf(p);
        be.sgdStep(0.5, 0, 0, buf(p), null, q);
        expectAllClose(
          q.data,
          p.map((x) => x - 0.5 * x),
          tol,
          'sgd without momentum',
        );
      }
    });

    test('adam (l2) and adamw (decoupled), three steps', () => {
      for (const n of SIZES)
        for (const [l2, decay] of [
          [0.01, 0],
          [0, 0.1],
        ] as const) {
          const p = Float64Array.from(round(testData(n, n + 1))),
            m = new Float64Array(n),
            v = new Float64Array(n);
          const bp = buf(p),
            bm = be.alloc(n),
            bv = be.alloc(n);
          const lr = 0.01,
            b1 = 0.9,
            b2 = 0.999,
            eps = 1e-8;
          for (let t = 1; t <= 3; t++) {
            const g = round(testData(n, 7 * t + n));
            const bc1 = 1 - b1 ** t,
              bc2 = 1 - b2 ** t;
            be.adamStep(lr, b1, b2, eps, bc1, bc2, l2, decay, buf(g), bm, bv, bp);
            for (let i = 0; i < n; i++) {
              const gi = g[i]! + l2 * p[i]!;
              const pi = p[i]! * (1 - lr * decay);
              m[i] = b1 * m[i]! + (1 - b1) * gi;
              v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
              p[i] = pi - (lr * m[i]!) / bc1 / (Math.sqrt(v[i]! / bc2) + eps);
            }
            expectAllClose(bp.data, p, { rtol: tol.rtol * 8, atol: tol.atol * 8 }, `adam l2=${l2} decay=${decay} t=${t}`);
            expectAllClose(bm.data, m, { rtol: tol.rtol * 8, atol: tol.atol * 8 }, 'adam m');
            expectAllClose(bv.data, v, { rtol: tol.rtol * 8, atol: tol.atol * 8 }, 'adam v');
          }
        }
    });

    test('bad shapes and foreign buffers are refused with typed errors', () => {
      const a = be.alloc(6),
        b = be.alloc(6),
        c = be.alloc(4),
        x = be.alloc(3);
      be.gemm(false, false, 2, 2, 3, 1, a, b, 0, c); // M*K = 6, K*N = 6, M*N = 4: accepted
      assert.throws(() => be.gemm(false, false, 2, 2, 3, 1, a, b, 0, x), /gemm: C has 3 elements, expected M\*N = 4/);
      assert.throws(() => be.gemm(false, false, 2, 3, 3, 1, a, b, 0, c), /gemm: B has 6 elements, expected K\*N = 9/);
      assert.throws(() => be.gemv(false, 2, 3, 1, a, c, 0, x), /gemv: x has 4 elements, expected N = 3/);
      assert.throws(() => be.gemv(true, 2, 3, 1, a, x, 0, x), /gemv: x has 3 elements, expected M = 2/);
      assert.throws(() => be.ger(2, 3, 1, x, x, a), ShapeError);
      assert.throws(() => be.traceUpdateRow(2, 3, x, x, x, a), ShapeError);
      assert.throws(() => be.traceUpdateElem(2, 3, x, c, x, a), ShapeError);
      assert.throws(
        () => be.traceUpdateRowAccumulate(2, 3, x.view(0, 2), x.view(0, 2), x, x, a, c),
        /traceUpdateRowAccumulate: l has 3 elements, expected M = 2/,
      );
      assert.throws(() => be.accumulateRows(2, 3, x.view(0, 2), a, x), /accumulateRows: g has 3 elements, expected M\*N = 6/);
      assert.throws(() => be.mul(a, b, c), /mul: x, y and out must have the same length/);
      assert.throws(() => be.tanh(a, c), ShapeError);
      assert.throws(() => be.softmax(2, 3, a, c), ShapeError);
      assert.throws(() => be.rowSum(-1, 3, a, c), /non-negative integers/);
      assert.throws(() => be.gemm(false, false, 1.5, 2, 2, 1, a, b, 0, c), ShapeError);
      assert.throws(() => be.alloc(-1), ShapeError);
      assert.throws(() => a.view(4, 3), /does not fit/);
      assert.throws(() => be.adamStep(0.1, 0.9, 0.99, 1e-8, 1, 1, 0, 0, a, b, c, a), ShapeError);
      assert.throws(() => be.sgdStep(0.1, 0.9, 0, a, null, b), ConfigError);
      const other = backendCases[0]!.make() === be ? backendCases[1]!.make() : backendCases[0]!.make();
      assert.throws(() => be.copy(other.alloc(6), a), ConfigError);
    });

    test('views read and write the parent storage', () => {
      const parent = be.from([0, 1, 2, 3, 4, 5, 6, 7, 8]);
      const v = parent.view(3, 4);
      assert.deepEqual(Array.from(v.data), [3, 4, 5, 6]);
      be.scale(2, v);
      assert.deepEqual(Array.from(parent.data), [0, 1, 2, 6, 8, 10, 12, 7, 8]);
      const vv = v.view(1, 2);
      be.fill(vv, -1);
      assert.deepEqual(Array.from(parent.data), [0, 1, 2, 6, -1, -1, 12, 7, 8]);
    });
  });
}

test('the backends agree with each other on a composite step (gemm → tanh → trace update)', () => {
  const outs = backendCases.map((bc) => {
    const be = bc.make();
    const B = 16,
      d = 33,
      n = 40;
    const x = be.from(f32(testData(B * d, 1))),
      W = be.from(f32(testData(n * d, 2, -0.3, 0.3)));
    const h = be.alloc(B * n);
    be.gemm(false, true, B, n, d, 1, x, W, 0, h);
    be.tanh(h, h);
    const e = be.from(f32(testData(n * d, 3)));
    const decay = be.from(f32(testData(n, 4, 0, 1)));
    be.traceUpdateRow(n, d, decay, h.view(0, n), x.view(0, d), e);
    return [...h.data, ...e.data];
  });
  expectAllClose(outs[2]!, outs[1]!, { rtol: 1e-5, atol: 1e-6 }, 'wasm vs ts/float32');
  expectAllClose(outs[1]!, outs[0]!, { rtol: 1e-5, atol: 1e-6 }, 'ts/float32 vs ts/float64');
});

for (const bc of backendCases) {
  test(`complexTraceStep matches complex arithmetic (${bc.label})`, () => {
    const be = bc.make();
    const exact = be.dtype === 'float64';
    const round = (v: ArrayLike<number>): Float64Array => (exact ? Float64Array.from(v) : f32(v));
    for (const [M, N] of [
      [1, 1],
      [3, 7],
      [5, 33],
      [2, 257],
    ] as const) {
      const aRe = round(testData(M, 1, -0.9, 0.9)),
        aIm = round(testData(M, 2, -0.4, 0.4)),
        u = round(testData(M, 3)),
        v = round(testData(N, 4));
      const dRe = round(testData(M, 5)),
        dIm = round(testData(M, 6));
      const eRe = round(testData(M * N, 7)),
        eIm = round(testData(M * N, 8)),
        gRe = round(testData(M * N, 9)),
        gIm = round(testData(M * N, 10));
      const wantE = [new Float64Array(M * N), new Float64Array(M * N)],
        wantG = [Float64Array.from(gRe), Float64Array.from(gIm)];
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          const k = i * N + j;
          const r = aRe[i]! * eRe[k]! - aIm[i]! * eIm[k]! + u[i]! * v[j]!,
            m = aRe[i]! * eIm[k]! + aIm[i]! * eRe[k]!;
          wantE[0]![k] = r;
          wantE[1]![k] = m;
          wantG[0]![k] = wantG[0]![k]! + dRe[i]! * r + dIm[i]! * m; // Re(δ·e) with δ = dRe − i·dIm
          wantG[1]![k] = wantG[1]![k]! + dIm[i]! * r - dRe[i]! * m; // −Im(δ·e)
        }
      const bufs = [eRe, eIm, gRe, gIm].map((x) => be.from(x));
      be.complexTraceStep(
        M,
        N,
        be.from(aRe),
        be.from(aIm),
        be.from(u),
        be.from(v),
        be.from(dRe),
        be.from(dIm),
        bufs[0]!,
        bufs[1]!,
        bufs[2]!,
        bufs[3]!,
      );
      const tol = exact ? { rtol: 1e-12, atol: 1e-12 } : { rtol: 1e-5, atol: 1e-6 };
      expectAllClose(bufs[0]!.data, wantE[0]!, tol, `eRe ${M}×${N}`);
      expectAllClose(bufs[1]!.data, wantE[1]!, tol, `eIm ${M}×${N}`);
      expectAllClose(bufs[2]!.data, wantG[0]!, tol, `gRe ${M}×${N}`);
      expectAllClose(bufs[3]!.data, wantG[1]!, tol, `gIm ${M}×${N}`);
    }
  });
}
