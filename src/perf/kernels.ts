/**
 * `onward perf --kernels`: each kernel on each backend at the sizes online learning runs at.
 * gemm is C(B×n) = A(B×n)·W(n×n) in the three forms the learners use: NN, NT (x·Wᵀ with PyTorch-layout
 * weights) and TN (a weight gradient δᵀ·x, n×n from B rows). gflops counts multiply and add separately.
 */
import type { Backend } from '../backend/backend.js';
import { TsBackend } from '../backend/ts.js';
import { WasmBackend } from '../backend/wasm.js';
import { Rng } from '../core/rng.js';
import { allocationCheck, measure, type AllocationReport, type MeasureOptions } from './measure.js';

export interface KernelRecord {
  kernel: string;
  backend: string;
  B: number;
  n: number;
  gflops: number;
  nsPerCall: number;
  flopsPerCall: number;
  p10: number;
  p90: number;
}

interface Case {
  kernel: string;
  B: number;
  n: number;
  flops: number;
  /** builds the buffers once and returns the call to time */
  setup: (be: Backend, rng: Rng) => () => void;
}

function random(be: Backend, rng: Rng, length: number, lo = -1, hi = 1) {
  const b = be.alloc(length);
  const d = b.data;
  for (let i = 0; i < length; i++) d[i] = rng.uniformIn(lo, hi);
  return b;
}

export function kernelCases(): Case[] {
  const cases: Case[] = [];
  for (const B of [1, 16, 64])
    for (const n of [64, 256, 1024]) {
      for (const [kernel, tA, tB] of [
        ['gemm', false, false],
        ['gemm_nt', false, true],
        ['gemm_tn', true, false],
      ] as const) {
        cases.push({
          kernel,
          B,
          n,
          flops: 2 * B * n * n,
          setup: (be, rng) => {
            if (kernel === 'gemm_tn') {
              const d = random(be, rng, B * n),
                x = random(be, rng, B * n),
                dW = be.alloc(n * n);
              return () => be.gemm(tA, tB, n, n, B, 1, d, x, 1, dW);
            }
            const A = random(be, rng, B * n),
              W = random(be, rng, n * n, -0.05, 0.05),
              C = be.alloc(B * n);
            return () => be.gemm(tA, tB, B, n, n, 1, A, W, 0, C);
          },
        });
      }
    }
  for (const n of [32, 256])
    for (const [kernel, trans] of [
      ['gemv', false],
      ['gemv_t', true],
    ] as const) {
      cases.push({
        kernel,
        B: 1,
        n,
        flops: 2 * n * n,
        setup: (be, rng) => {
          const A = random(be, rng, n * n),
            x = random(be, rng, n),
            y = be.alloc(n);
          return () => be.gemv(trans, n, n, 1, A, x, 0, y);
        },
      });
    }
  const n = 256;
  cases.push({
    kernel: 'ger',
    B: 1,
    n,
    flops: 2 * n * n,
    setup: (be, rng) => {
      const x = random(be, rng, n),
        y = random(be, rng, n),
        A = be.alloc(n * n);
      return () => be.ger(n, n, 1e-3, x, y, A);
    },
  });
  cases.push({
    kernel: 'trace_row',
    B: 1,
    n,
    flops: 3 * n * n,
    setup: (be, rng) => {
      const a = random(be, rng, n, 0.5, 1),
        u = random(be, rng, n),
        v = random(be, rng, n),
        e = be.alloc(n * n);
      return () => be.traceUpdateRow(n, n, a, u, v, e);
    },
  });
  cases.push({
    kernel: 'trace_elem',
    B: 1,
    n,
    flops: 3 * n * n,
    setup: (be, rng) => {
      const a = random(be, rng, n * n, 0.5, 1),
        u = random(be, rng, n),
        v = random(be, rng, n),
        e = be.alloc(n * n);
      return () => be.traceUpdateElem(n, n, a, u, v, e);
    },
  });
  for (const kernel of ['tanh', 'sigmoid', 'exp', 'gelu'] as const) {
    cases.push({
      kernel,
      B: 16,
      n,
      flops: 16 * n,
      setup: (be, rng) => {
        const x = random(be, rng, 16 * n, -4, 4),
          y = be.alloc(16 * n);
        return () => be[kernel](x, y);
      },
    });
  }
  cases.push({
    kernel: 'softmax',
    B: 16,
    n,
    flops: 16 * n,
    setup: (be, rng) => {
      const x = random(be, rng, 16 * n, -4, 4),
        y = be.alloc(16 * n);
      return () => be.softmax(16, n, x, y);
    },
  });
  const P = 65536;
  cases.push({
    kernel: 'axpy',
    B: 1,
    n: P,
    flops: 2 * P,
    setup: (be, rng) => {
      const x = random(be, rng, P),
        y = be.alloc(P);
      return () => be.axpy(1e-3, x, y);
    },
  });
  cases.push({
    kernel: 'adam',
    B: 1,
    n: P,
    flops: 12 * P,
    setup: (be, rng) => {
      const g = random(be, rng, P),
        m = be.alloc(P),
        v = be.alloc(P),
        p = random(be, rng, P);
      return () => be.adamStep(1e-9, 0.9, 0.999, 1e-8, 0.5, 0.5, 0, 0, g, m, v, p);
    },
  });
  cases.push({
    kernel: 'call',
    B: 1,
    n: 1,
    flops: 1,
    setup: (be) => {
      const x = be.alloc(1);
      return () => be.scale(1, x);
    },
  });
  return cases;
}

export function perfBackends(): { label: string; make: () => Backend }[] {
  return [
    { label: 'wasm', make: () => new WasmBackend() },
    { label: 'ts', make: () => new TsBackend('float32') },
  ];
}

export function runKernelPerf(
  options: MeasureOptions & { filter?: (c: Case) => boolean; onRecord?: (r: KernelRecord) => void } = {},
): KernelRecord[] {
  const records: KernelRecord[] = [];
  for (const c of kernelCases()) {
    if (options.filter && !options.filter(c)) continue;
    for (const { label, make } of perfBackends()) {
      const be = make();
      const call = c.setup(be, new Rng(1));
      const t = measure(call, options);
      const r: KernelRecord = {
        kernel: c.kernel,
        backend: label,
        B: c.B,
        n: c.n,
        gflops: c.flops / t.nsPerCall,
        nsPerCall: t.nsPerCall,
        flopsPerCall: c.flops,
        p10: t.p10,
        p90: t.p90,
      };
      records.push(r);
      options.onRecord?.(r);
    }
  }
  return records;
}

/** The million-call allocation check for the n=32 gemv on every backend. */
export async function kernelAllocationChecks(calls = 1_000_000): Promise<{ backend: string; kernel: string; report: AllocationReport }[]> {
  const out = [];
  for (const { label, make } of perfBackends()) {
    const be = make();
    const call = kernelCases()
      .find((c) => c.kernel === 'gemv' && c.n === 32)!
      .setup(be, new Rng(1));
    out.push({ backend: label, kernel: 'gemv n=32', report: await allocationCheck(call, calls) });
  }
  return out;
}
