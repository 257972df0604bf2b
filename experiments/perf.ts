/**
 * The performance benchmark: kernels and learner steps on both backends, written as one JSON file, with
 * the budgets of docs/design.md §9 checked against it. It runs the same measurements as `onward perf`
 * (src/perf/kernels.ts, src/perf/learners.ts) so the numbers agree with the command line.
 *
 *   npm run bench:perf -- [--quick] [--out experiments/results/perf.json] [--compare older.json]
 *
 * --quick: shorter timing and the small sizes only (about a minute); --compare prints each kernel's and
 * learner's time against an earlier file, to see what a change did. Budgets are reported, never asserted:
 * timings belong to the machine, not to the test suite.
 */
import { cpus, availableParallelism, loadavg, platform, arch } from 'node:os';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { learnerTable } from '../src/learners/index.js';
import { runKernelPerf, type KernelRecord } from '../src/perf/kernels.js';
import { perfDefaults, runLearnerPerf, type LearnerPerfRecord } from '../src/perf/learners.js';

export interface Budget {
  budget: string;
  value: number;
  limit: number;
  unit: string;
  ok: boolean;
}

export interface PerfFile {
  format: 'onward.perf';
  version: 1;
  machine: string;
  /** the 1-minute load average when the measurements ended: timings taken on a busy machine say so */
  loadAverage: number;
  date: string;
  quick: boolean;
  kernels: KernelRecord[];
  learners: (LearnerPerfRecord & { backend: string })[];
  budgets: Budget[];
}

/** docs/design.md §9, from the measurements: kernel throughput and call overhead, and the online-LRU cost bounds */
export function checkBudgets(kernels: KernelRecord[], learners: PerfFile['learners']): Budget[] {
  const out: Budget[] = [];
  const add = (budget: string, value: number | undefined, limit: number, unit: string, atMost: boolean): void => {
    if (value === undefined || !Number.isFinite(value)) return;
    out.push({ budget, value, limit, unit, ok: atMost ? value <= limit : value >= limit });
  };
  const k = (kernel: string, B: number, n: number) =>
    kernels.find((r) => r.kernel === kernel && r.backend === 'wasm' && r.B === B && r.n === n);
  add('wasm gemm B=64 n=1024', k('gemm', 64, 1024)?.gflops, 45, 'GFLOP/s', false);
  add('wasm gemm B=16 n=256', k('gemm', 16, 256)?.gflops, 40, 'GFLOP/s', false);
  add('wasm gemv n=32 per call', k('gemv', 1, 32)?.nsPerCall, 50, 'ns', true);
  const lru = learners.filter((r) => r.model === 'lru' && r.backend === 'wasm');
  for (const o of lru.filter((r) => r.learner === 'online-lru')) {
    const at = (name: string) => lru.find((r) => r.learner === name && r.B === o.B && r.T === o.T);
    const where = `B=${o.B} T=${o.T}`;
    // traces are kept per sequence of the batch; the budget is for one sequence
    add(`online-lru traces per sequence ≤ parameter memory (${where})`, o.stateBytes / o.B / o.paramBytes, 1, '× params', true);
    const spatial = at('spatial'),
      bptt = at('bptt');
    if (spatial) add(`online-lru step ≤ 1.3× spatial (${where})`, o.usPerStep / spatial.usPerStep, 1.3, '×', true);
    if (bptt) add(`online-lru step ≤ 1.25× bptt per step (${where})`, o.usPerStep / bptt.usPerStep, 1.25, '×', true);
  }
  return out;
}

export function machine(): string {
  return `${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${availableParallelism()} cores, ${platform()} ${arch()}, Node ${process.version}`;
}

/**
 * wasm at the sizes of `onward perf` (gru: every learner of the table that runs a gru, so new learners join
 * by themselves; lru: the online-LRU paper's copy model with the learners its budgets compare); ts, the
 * reference backend, at the smallest of them (it is an order of magnitude slower).
 */
function measureLearners(quick: boolean): PerfFile['learners'] {
  const out: PerfFile['learners'] = [];
  const gru = learnerTable.filter((l) => l.models.includes('gru')).map((l) => l.name);
  const lru = perfDefaults('lru');
  const plan = [
    { backend: 'wasm' as const, model: 'gru', learners: gru, B: [1], T: quick ? [100] : [100, 1000] },
    { backend: 'wasm' as const, model: 'lru', learners: lru.learners, B: quick ? [1] : lru.B, T: quick ? [48] : lru.T },
    { backend: 'ts' as const, model: 'gru', learners: gru, B: [1], T: [100] },
    ...(quick ? [] : [{ backend: 'ts' as const, model: 'lru', learners: lru.learners, B: [1], T: [48] }]),
  ];
  for (const p of plan) for (const r of runLearnerPerf(p)) out.push({ ...r, backend: p.backend });
  return out;
}

function compare(current: PerfFile, older: PerfFile): string[] {
  const lines = [`against ${older.date} (${older.machine}): time now ÷ time then`];
  for (const r of current.kernels) {
    const o = older.kernels.find((x) => x.kernel === r.kernel && x.backend === r.backend && x.B === r.B && x.n === r.n);
    if (o) lines.push(`  kernel ${r.kernel} ${r.backend} B=${r.B} n=${r.n}: ${(r.nsPerCall / o.nsPerCall).toFixed(2)}×`);
  }
  for (const r of current.learners) {
    const o = older.learners.find(
      (x) => x.learner === r.learner && x.model === r.model && x.backend === r.backend && x.B === r.B && x.T === r.T,
    );
    if (o) lines.push(`  learner ${r.learner} ${r.model} ${r.backend} B=${r.B} T=${r.T}: ${(r.usPerStep / o.usPerStep).toFixed(2)}×`);
  }
  return lines;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, out: { type: 'string' }, compare: { type: 'string' } } });
  const quick = values.quick === true;
  const out = values.out ?? 'experiments/results/perf.json';
  const timing = quick ? { warmupMs: 30, batchMs: 3, batches: 5 } : {};
  console.error(`experiments/perf: kernels on wasm and ts${quick ? ' (quick)' : ''} …`);
  const kernels = runKernelPerf({ ...timing, ...(quick ? { filter: (c: { n: number }) => c.n <= 256 || c.n === 65536 } : {}) });
  console.error('experiments/perf: learner steps …');
  const learners = measureLearners(quick);
  const file: PerfFile = {
    format: 'onward.perf',
    version: 1,
    machine: machine(),
    loadAverage: loadavg()[0]!,
    date: new Date().toISOString(),
    quick,
    kernels,
    learners,
    budgets: checkBudgets(kernels, learners),
  };
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(file, null, 1) + '\n');
  renameSync(tmp, out);
  for (const b of file.budgets)
    console.log(`${b.ok ? 'ok  ' : 'MISS'} ${b.budget}: ${b.value.toPrecision(3)} ${b.unit} (budget ${b.limit})`);
  if (typeof values.compare === 'string')
    console.log(compare(file, JSON.parse(readFileSync(values.compare, 'utf8')) as PerfFile).join('\n'));
  console.log(
    `experiments/perf: ${kernels.length} kernel and ${learners.length} learner measurements → ${out} ` +
      `(load average ${file.loadAverage.toFixed(1)} on ${availableParallelism()} cores${file.loadAverage > availableParallelism() ? ': the machine was busy, timings are pessimistic' : ''})`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
