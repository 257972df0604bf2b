/**
 * The trace engines of snap2 (the full influence with its pattern), uoro and kf-rtrl allocate nothing per step
 * (DESIGN §1.4). In a file of its own: a process that first ran the engines on float64 arrays (the other
 * learner tests) re-optimises them for float32 mid-measurement, as test/backend/alloc.test.ts avoids too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocationCheck } from '../../src/perf/measure.js';
import { WasmBackend } from '../../src/backend/wasm.js';
import { Network } from '../../src/model/network.js';
import { ForwardPass } from '../../src/model/forward.js';
import { createTrace } from '../../src/learners/compose.js';

// the engines alone (forward, trace advance, accumulation), as test/backend/alloc.test.ts does for diag, snap1, deep
test('a step of the uoro, kf-rtrl and snap2 trace engines does not allocate (wasm): 10k steps, no collection', async () => {
  const steps: (() => void)[] = [];
  for (const [kind, model] of [
    ['uoro', 'alif'],
    ['kf-rtrl', 'lstm'],
    ['snap2', 'gru'],
  ] as const) {
    const net = new Network(
      { model, inputSize: 3, hidden: 4, layers: 1, outputSize: 2, loss: { kind: 'mse' }, ...(kind === 'snap2' ? { density: 0.5 } : {}) },
      new WasmBackend(),
      1,
    );
    const be = net.backend,
      B = 2;
    const fwd = new ForwardPass(net, B, 0);
    const caches = net.modules.map((m) => m.createCache(be, B));
    const trace = createTrace(kind, net, B, 3);
    const signal = be.from(Array.from({ length: B * 4 }, (_, i) => Math.sin(i))),
      dOut = be.from([0.1, -0.2, 0.3, 0.4]),
      dx = be.alloc(B * 3);
    const x = Float64Array.from([0.3, -0.2, 0.1, 0.5, 0.2, -0.4]);
    trace.reset();
    steps.push(() => {
      fwd.load(x);
      fwd.run(caches);
      trace.advance(caches, null);
      if (trace.takes === 'output') trace.accumulate(caches, null, dOut, null);
      else trace.accumulate(caches, 0, signal, dx);
    });
  }
  const all = (): void => {
    for (let k = 0; k < steps.length; k++) steps[k]!();
  };
  // the engines' loops are plain TypeScript: give the optimising compiler time (a loaded machine delays it)
  for (let i = 0; i < 10_000; i++) all();
  (globalThis as { gc?: () => void }).gc?.();
  const report = await allocationCheck(all, 10_000);
  assert.equal(report.gcCount, 0, `${report.gcCount} garbage collections`);
  assert.ok(report.heapGrowthBytes < 2 * 1024 * 1024, `heap grew by ${report.heapGrowthBytes} bytes over ${report.calls} steps`);
});
