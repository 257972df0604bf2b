/**
 * The native backend (wasm + OpenBLAS through koffi): its matrix products agree with the float64 oracle within
 * float32 rounding in all transpose forms, on views at offsets, with β = 0 overwriting NaN; large calls allocate
 * nothing; a GRU's BPTT gradient matches the wasm and float64 backends; without OpenBLAS 'native' is refused
 * with a MissingDependencyError naming the package. Skipped where koffi or OpenBLAS is missing (CI installs
 * libopenblas0-pthread: .ci/run). The fused GRU cell (Backend.gruStep, which the native backend runs instead of
 * the unit's TypeScript step) equals units/gru.ts's step within float32 rounding on every backend and checks its
 * shapes (its allocation check: alloc.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createBackend, nativeAvailable } from '../../src/backend/index.js';
import type { Backend } from '../../src/backend/backend.js';
import { TsBackend } from '../../src/backend/ts.js';
import { allocationCheck } from '../../src/perf/measure.js';
import { Network, type ModelConfig } from '../../src/model/network.js';
import { learnerGradient, randomSequence } from '../../src/check/oracle.js';
import { backendCases, testData } from '../helpers.js';
import { gruUnit } from '../../src/units/gru.js';
import { WasmBackend } from '../../src/backend/wasm.js';
import { ShapeError } from '../../src/core/errors.js';

const skip = nativeAvailable() ? false : 'koffi or libopenblas.so.0 is not installed';

/** C ← α·op(A)·op(B) + β·C in float64, the oracle */
function gemmRef(
  tA: boolean,
  tB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float64Array,
  B: Float64Array,
  beta: number,
  C: Float64Array,
): Float64Array {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += (tA ? A[k * M + i]! : A[i * K + k]!) * (tB ? B[j * K + k]! : B[k * N + j]!);
      out[i * N + j] = alpha * s + (beta === 0 ? 0 : beta * C[i * N + j]!);
    }
  return out;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!));
  return e;
}

test('native gemm and gemv: all transpose forms, views at offsets, β = 0 overwrites NaN, within float32 rounding', { skip }, () => {
  const be = createBackend({ backend: 'native' });
  assert.equal(be.name, 'native');
  const M = 37,
    N = 71,
    K = 45; // 118k multiply-adds: above the size where the product goes to OpenBLAS
  const A = testData(M * K, 1),
    B = testData(K * N, 2),
    C0 = testData(M * N, 3);
  for (const tA of [false, true])
    for (const tB of [false, true])
      for (const beta of [0, 1, -0.5]) {
        // operands as views at odd offsets inside larger buffers (pointer arithmetic into wasm memory)
        const hold = be.alloc(3 + M * K + 5 + K * N + 7 + M * N);
        const a = hold.view(3, M * K),
          b = hold.view(3 + M * K + 5, K * N),
          c = hold.view(3 + M * K + 5 + K * N + 7, M * N);
        a.data.set(A);
        b.data.set(B);
        if (beta === 0) be.fill(c, Number.NaN);
        else c.data.set(C0);
        be.gemm(tA, tB, M, N, K, 0.75, a, b, beta, c);
        const want = gemmRef(tA, tB, M, N, K, 0.75, A, B, beta, C0);
        assert.ok(maxDiff(c.data, want) < 1e-5 * K, `gemm tA=${tA} tB=${tB} β=${beta}: ${maxDiff(c.data, want)}`);
      }
  const R = 300,
    Cn = 257; // 77k: OpenBLAS's gemv
  const W = testData(R * Cn, 4);
  for (const trans of [false, true]) {
    const x = be.from(testData(trans ? R : Cn, 5)),
      y = be.alloc(trans ? Cn : R);
    be.fill(y, Number.NaN);
    be.gemv(trans, R, Cn, 1.5, be.from(W), x, 0, y);
    const want = gemmRef(trans, false, trans ? Cn : R, 1, trans ? R : Cn, 1.5, W, Float64Array.from(x.data), 0, new Float64Array(0));
    assert.ok(maxDiff(y.data, want) < 1e-4, `gemv trans=${trans}: ${maxDiff(y.data, want)}`);
  }
});

test('native: large gemm and gemv calls allocate nothing', { skip }, async () => {
  const be = createBackend({ backend: 'native' });
  const n = 96,
    Bn = 16;
  const W = be.alloc(3 * n * n),
    x = be.alloc(Bn * n),
    y = be.alloc(Bn * 3 * n),
    v = be.alloc(n),
    w = be.alloc(3 * n);
  be.fill(W, 0.01);
  let i = 0;
  const report = await allocationCheck(() => {
    if (i++ & 1) be.gemm(false, true, Bn, 3 * n, n, 1, x, W, 0, y);
    else be.gemv(false, 3 * n, n, 1, W, v, 1, w);
  }, 20_000);
  assert.equal(report.gcCount, 0, `${report.gcCount} garbage collections`);
});

test("native: a GRU's BPTT gradient matches the wasm and float64 backends (float32 tolerance)", { skip }, () => {
  const config: ModelConfig = { model: 'gru', inputSize: 8, hidden: 64, layers: 1, outputSize: 4, loss: { kind: 'mse' } };
  const grads = (be: Backend): Float64Array => {
    const net = new Network(config, be, 3);
    const seq = randomSequence(net, 6, 16, 7, 1);
    return Float64Array.from(learnerGradient('bptt', net, seq, 16));
  };
  const ref = grads(new TsBackend('float64')),
    wasm = grads(createBackend({ backend: 'wasm' })),
    native = grads(createBackend({ backend: 'native' }));
  const scale = Math.max(...ref.map(Math.abs));
  assert.ok(maxDiff(native, ref) < 1e-4 * scale, `native vs float64: ${maxDiff(native, ref)} (scale ${scale})`);
  assert.ok(maxDiff(native, wasm) < 1e-4 * scale, `native vs wasm: ${maxDiff(native, wasm)}`);
});

test("without OpenBLAS, backend 'native' is refused with a MissingDependencyError naming libopenblas0-pthread", () => {
  const code = [
    "import { createBackend } from './src/backend/index.ts';",
    "try { createBackend({ backend: 'native' }); console.log('made'); }",
    'catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, dependency: e.dependency, message: e.message })); }',
  ].join('\n');
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    encoding: 'utf8',
    env: { ...process.env, ONWARD_OPENBLAS: '/nonexistent/libopenblas.so.0' },
  });
  const out = JSON.parse(res.stdout.trim().split('\n').pop()!) as { name: string; code: string; dependency: string; message: string };
  assert.equal(out.name, 'MissingDependencyError');
  assert.equal(out.code, 'MISSING_DEPENDENCY');
  // without koffi the package named is koffi; with it, the library
  assert.ok(out.dependency === 'libopenblas0-pthread' || out.dependency === 'koffi', out.dependency);
  assert.match(out.message, /apt-get install libopenblas0-pthread|npm install koffi/);
});

test("gruStep (the fused GRU cell) equals the unit's TypeScript step within float32 rounding on every backend", () => {
  const B = 3,
    n = 13; // a SIMD body and a scalar tail
  const sPrev = testData(B * n, 11),
    preIh = testData(3 * B * n, 12, -3, 3),
    preHh = testData(3 * B * n, 13, -3, 3);
  const want = {
    sNext: new Float64Array(B * n),
    y: new Float64Array(B * n),
    dfds: new Float64Array(B * n),
    dfda: new Float64Array(4 * B * n),
    dhds: new Float64Array(B * n),
  };
  gruUnit.step(B, n, { sPrev, preIh, preHh, phi: [], ...want, dfdphi: null, dhdphi: null });
  for (const bc of backendCases) {
    const be = bc.make();
    const out = { sNext: be.alloc(B * n), y: be.alloc(B * n), dfds: be.alloc(B * n), dfda: be.alloc(4 * B * n), dhds: be.alloc(B * n) };
    be.gruStep(B, n, be.from(sPrev), be.from(preIh), be.from(preHh), out.sNext, out.y, out.dfds, out.dfda, out.dhds);
    for (const k of ['sNext', 'y', 'dfds', 'dfda', 'dhds'] as const) {
      const e = maxDiff(out[k].data, want[k]);
      assert.ok(e < (bc.label === 'ts/float64' ? 1e-15 : 3e-6), `${bc.label} ${k}: ${e}`);
    }
  }
  const be = new WasmBackend();
  const b = (len: number) => be.alloc(len);
  assert.throws(
    () => be.gruStep(B, n, b(B * n), b(3 * B * n), b(3 * B * n - 1), b(B * n), b(B * n), b(B * n), b(4 * B * n), b(B * n)),
    ShapeError,
  );
});
