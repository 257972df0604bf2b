/**
 * Nothing in a kernel allocates per call: a million calls run without a single garbage collection (every backend
 * of helpers.ts, the native one where OpenBLAS is installed; its large products: native.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocationCheck } from '../../src/perf/measure.js';
import { backendCases } from '../helpers.js';
import { WasmBackend } from '../../src/backend/wasm.js';
import { DiagTraces } from '../../src/learners/traces/diag.js';
import { DeepDiagTraces } from '../../src/learners/traces/deep.js';
import { ForwardPass } from '../../src/model/forward.js';
import { Network } from '../../src/model/network.js';
import { RecurrentLayer, type RecCache } from '../../src/modules/recurrent.js';

for (const bc of backendCases) {
  test(`a million kernel calls do not allocate (${bc.label})`, async () => {
    const be = bc.make();
    const n = 32;
    const A = be.alloc(n * n),
      x = be.alloc(n),
      y = be.alloc(n),
      e = be.alloc(n * n),
      a = be.alloc(n);
    const m = be.alloc(n),
      v = be.alloc(n),
      g = be.alloc(n);
    const C = be.alloc(4 * n),
      X = be.alloc(4 * n);
    const pre3 = C.view(0, 3 * n),
      preX3 = X.view(0, 3 * n);
    let i = 0;
    // cycle through kernels of every family; the wasm and ts paths both go through the checked base
    const call = (): void => {
      switch (i++ & 7) {
        case 0:
          be.gemv(false, n, n, 1, A, x, 0, y);
          break;
        case 1:
          be.gemv(true, n, n, 1, A, x, 1, y);
          break;
        case 2:
          be.gemm(false, true, 4, n, n, 1, X, A, 0, C);
          break;
        case 3:
          be.traceUpdateRow(n, n, a, x, y, e);
          be.traceUpdateRowAccumulate(n, n, a, x, y, m, e, A);
          be.accumulateRows(n, n, m, e, A);
          break;
        case 4:
          be.tanh(x, y);
          be.sigmoid(x, y);
          be.gelu(x, y);
          be.geluDeriv(x, y);
          break;
        case 5:
          be.adamStep(1e-3, 0.9, 0.999, 1e-8, 0.1, 0.01, 0, 0, g, m, v, x);
          break;
        case 6:
          be.mul(x, y, a, true);
          be.gruStep(1, n, x, pre3, preX3, y, a, m, C, v);
          break;
        default:
          be.softmax(1, n, x, y);
      }
    };
    const calls = 1_000_000;
    const report = await allocationCheck(call, calls);
    assert.equal(report.gcCount, 0, `${report.gcCount} garbage collections during ${calls} calls`);
    // the smallest JS allocation is 8+ bytes, so per-call allocation would grow the heap by 8 MB or more (and
    // collect it); a few hundred KB is compiled code and feedback, independent of the number of calls
    assert.ok(report.heapGrowthBytes < 2 * 1024 * 1024, `heap grew by ${report.heapGrowthBytes} bytes over ${calls} calls`);
  });
}

// the trace engines on their fused kernels: a step (forward, trace step, accumulation; every third step without
// a signal, so the trace step is applied alone) allocates nothing. All engines step in one loop, so the JIT sees
// every shape while it warms up (a second closure measured later re-optimises shared code mid-round).
test('a step of the diag, snap1 and deep trace engines does not allocate (wasm): 100k steps, no collection', async () => {
  const steps: (() => void)[] = [];
  let t = 0;
  for (const [rule, model, layers] of [
    ['diag', 'gru', 1],
    ['snap1', 'gru', 1],
    ['diag', 'lif', 1],
    ['deep', 'gru', 2],
  ] as const) {
    const net = new Network({ model, inputSize: 3, hidden: 8, layers, outputSize: 2, loss: { kind: 'mse' } }, new WasmBackend(), 1);
    const be = net.backend,
      B = 2;
    const fwd = new ForwardPass(net, B, 0);
    const caches = net.modules.map((m) => m.createCache(be, B));
    const recurrent = net.modules.filter((m): m is RecurrentLayer => m instanceof RecurrentLayer);
    const recCaches = caches.filter((_, i) => net.modules[i] instanceof RecurrentLayer) as RecCache[];
    const signal = be.from(Array.from({ length: B * 8 }, (_, i) => Math.sin(i)));
    const x = Float64Array.from([0.3, -0.2, 0.1, 0.5, 0.2, -0.4]);
    if (rule === 'deep') {
      const deep = new DeepDiagTraces(recurrent, be, B);
      steps.push(() => {
        fwd.load(x);
        fwd.run(caches);
        deep.step(recCaches);
        if (t % 3 !== 2) deep.accumulate(recCaches, signal);
      });
    } else {
      const tr = new DiagTraces(recurrent[0]!, be, B, rule);
      steps.push(() => {
        fwd.load(x);
        fwd.run(caches);
        tr.step(recCaches[0]!);
        if (t % 3 !== 2) tr.accumulate(recCaches[0]!, signal);
      });
    }
  }
  (globalThis as { gc?: () => void }).gc?.();
  const report = await allocationCheck(() => {
    for (let k = 0; k < steps.length; k++) steps[k]!();
    t++;
  }, 50_000);
  assert.equal(report.gcCount, 0, `${report.gcCount} garbage collections`);
  assert.ok(report.heapGrowthBytes < 2 * 1024 * 1024, `heap grew by ${report.heapGrowthBytes} bytes over ${report.calls} steps`);
});
