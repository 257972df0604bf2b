/**
 * `onward perf --kernels | --learners | --sparse [--json]`: kernel throughput on both backends and the no-allocation
 * check; each learner's time, memory and work per step against inference; what sparse RTRL saves on an EGRU.
 */
import { parse } from './args.js';
import { defineCommand, type OptionTable } from './command.js';
import { printResult } from './json.js';
import { StatusLine } from './progress.js';
import { fmt, formatTable } from './table.js';
import { kernelAllocationChecks, runKernelPerf, type KernelRecord } from '../perf/kernels.js';
import { ConfigError, UnknownNameError, parseBytes } from '../core/errors.js';
import { backendNames, type BackendName } from '../backend/index.js';
import { runLearnerPerf, type LearnerPerfRecord } from '../perf/learners.js';
import { runSparsePerf, type SparsePerfRecord } from '../perf/sparse.js';

const perfOptions = {
  kernels: { type: 'boolean', help: 'kernel GFLOP/s and ns per call on both backends, the no-allocation check, the budgets' },
  learners: { type: 'boolean', help: "each learner's time, memory and multiply-adds per step, against inference" },
  sparse: { type: 'boolean', help: 'what sparse RTRL saves on an EGRU, against dense RTRL' },
  list: { type: 'string', value: 'A,B', help: '--learners: which learners', defaultText: 'all' },
  model: { type: 'string', value: 'NAME', help: '--learners: the model', defaultText: 'gru' },
  hidden: { type: 'string', value: 'N', help: '--learners: units per layer; --sparse: a list of widths' },
  layers: { type: 'string', value: 'L', help: '--learners: layers' },
  batch: { type: 'string', value: 'B,..', help: '--learners: batch sizes' },
  T: { type: 'string', value: 'T,..', help: '--learners: sequence lengths' },
  density: { type: 'string', value: 'X', help: '--sparse: recurrent weight density' },
  width: { type: 'string', value: 'X', help: '--sparse: pseudo-derivative half-width' },
  trained: { type: 'string', value: 'N', help: '--sparse: sparse-rtrl updates before measuring' },
  quick: { type: 'boolean', help: '--kernels: short timing (a smoke test, not a measurement)' },
  threads: {
    type: 'string',
    value: 'N',
    help: '--learners: split the batch over N threads (train/parallel.ts)',
    defaultText: 'the cores for batches ≥ 8, else 1',
  },
  backend: {
    type: 'string',
    value: 'NAME',
    help: "--learners: 'wasm', 'ts' or 'native' (wasm with OpenBLAS's matrix products; needs koffi and libopenblas0-pthread)",
    defaultText: 'wasm',
  },
  'max-memory': {
    type: 'string',
    value: 'BYTES',
    help: '--learners: refuse learners whose state exceeds this (e.g. 2G, 512M)',
    defaultText: 'wasm: 4G',
  },
  json: { type: 'boolean', help: 'print the result envelope: {kernels?, learners?, sparse?} arrays (docs/cli.md)' },
} as const satisfies OptionTable;

export const perfCommand = defineCommand({
  name: 'perf',
  summary: "measure: kernel GFLOP/s, learners' time/memory/work per step, sparse RTRL's savings",
  usage: '--kernels | --learners | --sparse [options]',
  options: perfOptions,
  run: perfRun,
});

async function perfRun(argv: string[]): Promise<void> {
  const { values } = parse('perf', argv, perfOptions);
  if (!values.kernels && !values.learners && !values.sparse)
    throw new ConfigError('say what to measure: --kernels, --learners and/or --sparse');
  const json = values.json === true;
  const result: { sparse?: SparsePerfRecord[]; learners?: LearnerPerfRecord[]; kernels?: unknown[] } = {};
  const status = json ? null : new StatusLine('onward perf');
  if (values.sparse) {
    const num = (name: string, v: unknown): number | undefined => {
      if (typeof v !== 'string') return undefined;
      const x = Number(v);
      if (!Number.isFinite(x)) throw new ConfigError(`--${name} must be a number, got '${v}'`);
      return x;
    };
    const hidden = typeof values.hidden === 'string' ? values.hidden.split(',').map((v) => num('hidden', v)!) : undefined;
    status?.update('sparse: measuring the first width');
    const records = runSparsePerf(
      { hidden, density: num('density', values.density), width: num('width', values.width), trained: num('trained', values.trained) },
      (r) => {
        status?.update(`sparse: measured n=${r.n}`);
      },
    );
    status?.done();
    if (json) result.sparse = records;
    else console.log(sparseTable(records));
  }
  if (values.learners) {
    const num = (v: unknown): number | undefined => (typeof v === 'string' ? Number(v) : undefined);
    let measured = 0;
    status?.update('learners: measuring the first learner');
    const records = runLearnerPerf(
      {
        learners: typeof values.list === 'string' ? values.list.split(',') : undefined,
        model: typeof values.model === 'string' ? values.model : undefined,
        hidden: num(values.hidden),
        layers: num(values.layers),
        B: typeof values.batch === 'string' ? values.batch.split(',').map(Number) : undefined,
        T: typeof values.T === 'string' ? values.T.split(',').map(Number) : undefined,
        maxMemory: typeof values['max-memory'] === 'string' ? parseBytes(values['max-memory'], '--max-memory') : undefined,
        threads: typeof values.threads === 'string' ? threadCount(values.threads) : undefined,
        backend: typeof values.backend === 'string' ? backendName(values.backend) : undefined,
      },
      (r) => {
        status?.update(`learners: measured ${++measured} (${r.learner} B=${r.B} T=${r.T})`);
      },
    );
    status?.done();
    if (json) result.learners = records;
    else console.log(learnerTable(records));
  }
  if (!values.kernels) {
    if (json) printResult('perf', result);
    return;
  }
  const timing = values.quick ? { warmupMs: 30, batchMs: 3, batches: 5 } : {};
  let done = 0;
  status?.update('kernels: warming up');
  const records = runKernelPerf({
    ...timing,
    onRecord: (r) => {
      status?.update(`kernels: measured ${++done} (${r.kernel} ${r.backend} B=${r.B} n=${r.n})`);
    },
  });
  status?.done();
  if (json) {
    result.kernels = records.map(({ kernel, backend, B, n, gflops, nsPerCall, flopsPerCall }) => ({
      kernel,
      backend,
      B,
      n,
      gflops: round(gflops),
      nsPerCall: round(nsPerCall),
      flopsPerCall,
    }));
    printResult('perf', result);
    return;
  }
  console.log(kernelTable(records));
  console.log();
  for (const c of await kernelAllocationChecks()) {
    console.log(
      `allocation check (${c.backend}, ${c.kernel}): ${c.report.calls} calls, ${c.report.gcCount} garbage collections, ` +
        `heap ${c.report.heapGrowthBytes >= 0 ? '+' : ''}${(c.report.heapGrowthBytes / 1024).toFixed(0)} KiB`,
    );
  }
  console.log();
  console.log(budgetLines(records).join('\n'));
}

function backendName(text: string): BackendName {
  const known = backendNames as readonly string[];
  if (!known.includes(text)) throw new UnknownNameError('backend', text, backendNames);
  return text as BackendName;
}

function threadCount(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`--threads must be a whole number ≥ 1, got '${text}'`);
  return n;
}

function round(v: number): number {
  return Number(v.toPrecision(4));
}

export function kernelTable(records: KernelRecord[]): string {
  const keys = [...new Set(records.map((r) => `${r.kernel}|${r.B}|${r.n}`))];
  const rows = keys.map((k) => {
    const [kernel, B, n] = k.split('|');
    const w = records.find((r) => `${r.kernel}|${r.B}|${r.n}` === k && r.backend === 'wasm');
    const t = records.find((r) => `${r.kernel}|${r.B}|${r.n}` === k && r.backend === 'ts');
    return [
      kernel!,
      B!,
      n!,
      w ? fmt(w.gflops) : '-',
      w ? fmt(w.nsPerCall) : '-',
      t ? fmt(t.gflops) : '-',
      t ? fmt(t.nsPerCall) : '-',
      w && t ? `${fmt(t.nsPerCall / w.nsPerCall)}x` : '-',
    ];
  });
  return formatTable(['kernel', 'B', 'n', 'wasm GFLOP/s', 'wasm ns/call', 'ts GFLOP/s', 'ts ns/call', 'wasm speed-up'], rows);
}

/** The numeric-core budgets of docs/design.md §9, checked against this run. */
export function budgetLines(records: KernelRecord[]): string[] {
  const get = (kernel: string, backend: string, B: number, n: number) =>
    records.find((r) => r.kernel === kernel && r.backend === backend && r.B === B && r.n === n);
  const lines: string[] = ['budgets (docs/design.md §9):'];
  const check = (label: string, value: number | undefined, ok: (v: number) => boolean, unit: string): void => {
    if (value === undefined) return;
    lines.push(`  ${ok(value) ? 'ok  ' : 'MISS'} ${label}: ${fmt(value)} ${unit}`);
  };
  check('wasm gemm B=64 n=1024 ≥ 45 GFLOP/s', get('gemm', 'wasm', 64, 1024)?.gflops, (v) => v >= 45, 'GFLOP/s');
  check('wasm gemm B=16 n=256 ≥ 40 GFLOP/s', get('gemm', 'wasm', 16, 256)?.gflops, (v) => v >= 40, 'GFLOP/s');
  check('wasm gemv n=32 ≤ 50 ns per call', get('gemv', 'wasm', 1, 32)?.nsPerCall, (v) => v <= 50, 'ns');
  const tw = get('trace_row', 'wasm', 1, 256),
    tt = get('trace_row', 'ts', 1, 256);
  if (tw && tt) check('wasm trace update 256×256 ≥ 4× ts', tt.nsPerCall / tw.nsPerCall, (v) => v >= 4, '×');
  return lines;
}

function kb(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

export function learnerTable(records: LearnerPerfRecord[]): string {
  const rows = records.map((r) => [
    r.learner,
    r.model,
    String(r.B),
    String(r.threads ?? 1),
    String(r.T),
    fmt(r.usPerStep),
    fmt(r.inferenceUsPerStep),
    `${fmt(r.usPerStep / r.inferenceUsPerStep)}x`,
    kb(r.stateBytes),
    kb(r.inferenceStateBytes),
    kb(r.paramBytes),
    fmt(r.macsPerStep),
    `${fmt(r.macsPerStep / r.inferenceMacsPerStep)}x`,
  ]);
  return (
    formatTable(
      [
        'learner',
        'model',
        'B',
        'threads',
        'T',
        'µs/step',
        'inference µs/step',
        'time ratio',
        'learner state',
        'inference state',
        'params',
        'MACs/step',
        'MAC ratio',
      ],
      rows,
    ) +
    "\n\nthreads: the learner's batch split over them (inference on one)\nlearner state: what the rule keeps to compute its gradient (BPTT: the stored sequence; RTRL: influence matrices)"
  );
}

export function sparseTable(records: SparsePerfRecord[]): string {
  const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;
  const rows = records.map((r) => [
    String(r.n),
    String(r.density),
    String(r.width),
    String(r.trained),
    Number.isNaN(r.accuracy) ? '-' : pct(r.accuracy),
    fmt(r.rtrlMacsPerStep),
    fmt(r.sparseMacsPerStep),
    fmt(r.opRatio),
    fmt(r.rtrlUsPerStep),
    fmt(r.sparseUsPerStep),
    fmt(r.timeRatio),
    pct(r.savingShown),
    pct(r.forwardActivity),
    pct(r.backwardActive),
    pct(r.influenceDensity),
    kb(r.rtrlStateBytes),
    kb(r.sparseStateBytes),
  ]);
  return (
    formatTable(
      [
        'n',
        'density',
        'width',
        'trained',
        'accuracy',
        'rtrl MACs/step',
        'sparse MACs/step',
        'op ratio',
        'rtrl µs/step',
        'sparse µs/step',
        'time ratio',
        'saving shown',
        'fwd activity',
        'bwd active',
        'dy/dθ density',
        'rtrl state',
        'sparse state',
      ],
      rows,
    ) +
    '\n\nEGRU on spiral inputs (T = 17, B = 1) at initialisation or after `trained` sparse-rtrl updates; op ratio = sparse-rtrl / rtrl multiply-adds of the learning rule' +
    '\n(forward pass excluded), time ratio measured in the same run; saving shown = (1 − time ratio) / (1 − op ratio)'
  );
}
