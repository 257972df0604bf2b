/** Nothing in a kernel allocates per call: a million calls run without a single garbage collection. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocationCheck } from '../src/perf/measure.js';
import { backendCases } from './helpers.js';

for (const bc of backendCases) {
  test(`a million kernel calls do not allocate (${bc.label})`, async () => {
    const be = bc.make();
    const n = 32;
    const A = be.alloc(n * n), x = be.alloc(n), y = be.alloc(n), e = be.alloc(n * n), a = be.alloc(n);
    const m = be.alloc(n), v = be.alloc(n), g = be.alloc(n);
    const C = be.alloc(4 * n), X = be.alloc(4 * n);
    let i = 0;
    // cycle through kernels of every family; the wasm and ts paths both go through the checked base
    const call = (): void => {
      switch (i++ & 7) {
        case 0: be.gemv(false, n, n, 1, A, x, 0, y); break;
        case 1: be.gemv(true, n, n, 1, A, x, 1, y); break;
        case 2: be.gemm(false, true, 4, n, n, 1, X, A, 0, C); break;
        case 3: be.traceUpdateRow(n, n, a, x, y, e); break;
        case 4: be.tanh(x, y); be.sigmoid(x, y); be.gelu(x, y); be.geluDeriv(x, y); break;
        case 5: be.adamStep(1e-3, 0.9, 0.999, 1e-8, 0.1, 0.01, 0, 0, g, m, v, x); break;
        case 6: be.mul(x, y, a, true); break;
        default: be.softmax(1, n, x, y);
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
