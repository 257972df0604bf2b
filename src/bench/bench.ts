/**
 * `onward bench`: plan the suite, read what earlier invocations finished (results.jsonl), run the rest
 * on a pool of worker threads, append each run's records when it ends, then write report.md and the
 * charts (each written whole to a temporary file and renamed, so a reader never sees half a file).
 *
 * Safety of earlier results: the output folder is checked before anything runs; a damaged results file
 * stops the command with a FileFormatError before any write; the results file is only appended to.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ConfigError } from '../core/errors.js';
import { writeTextAtomic } from '../core/atomic-write.js';
import { benchCharts, renderSvg } from './charts.js';
import { planBench, type BenchOptions, type BenchPlan, type RunSpec } from './plan.js';
import { appendResults, doneRuns, pairKey, readResults, runKey, type BenchRecord, type ErrorRecord } from './records.js';
import { machineDescription, reportMarkdown } from './report.js';
import { summarize, type BenchSummary } from './summary.js';

export interface BenchRunOptions extends BenchOptions {
  out: string;
  /** worker threads (default: all cores) */
  workers?: number;
  /** how the command was invoked, for the report */
  command?: string;
  onProgress?: (event: ProgressEvent) => void;
}

export interface ProgressEvent {
  done: number;
  total: number;
  spec: RunSpec;
  records: BenchRecord[];
  error: ErrorRecord | null;
}

export interface BenchOutcome {
  plan: BenchPlan;
  summary: BenchSummary;
  resultsPath: string;
  reportPath: string;
  charts: string[];
  /** runs done by this invocation, runs found finished in the results file, runs that failed */
  ran: number;
  reused: number;
  failed: number;
}

function prepareOutput(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new ConfigError(`cannot write to the output folder '${dir}': ${(e as Error).message}; pass a writable folder with --out`);
  }
}

/** a worker thread running the bench worker; from the TypeScript sources it loads them through tsx */
function spawnWorker(): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./worker.js', here));
  const tsx = import.meta.resolve('tsx/esm/api');
  const source = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(new URL('./worker.ts', here).href)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`));
}

interface Outcome {
  records: BenchRecord[];
  error: { error: string; message: string } | null;
  /** the worker died and must be replaced */
  crashed: boolean;
}

function runOn(worker: Worker, spec: RunSpec): Promise<Outcome> {
  return new Promise((resolve) => {
    const records: BenchRecord[] = [];
    let timer: ReturnType<typeof setTimeout> | null = null;
    const finish = (o: Outcome): void => {
      if (timer) clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      resolve(o);
    };
    // a cost estimate that does not finish in time: the run is over budget, and the worker is stopped
    const probeTimeout = (): void => {
      const { suite, task, model, learner, seed, steps, configId } = spec;
      finish({
        records: [{
          kind: 'skipped', suite, task, model, learner, seed, steps, configId, estimatedMacs: null,
          reason: `over the ${suite} suite's budget: estimating the cost (4 steps of one sequence) took more than ${spec.probeSeconds} s`,
        }],
        error: null, crashed: true,
      });
    };
    const onMessage = (m: { type: string; record?: BenchRecord; error?: string; message?: string; probing?: boolean }): void => {
      if (m.type === 'probe') {
        if (timer) clearTimeout(timer);
        timer = m.probing ? setTimeout(probeTimeout, spec.probeSeconds * 1000) : null;
      } else if (m.type === 'record') records.push(m.record!);
      else if (m.type === 'done') finish({ records, error: null, crashed: false });
      else finish({ records, error: { error: m.error ?? 'Error', message: m.message ?? '' }, crashed: false });
    };
    const onError = (e: Error): void => finish({ records, error: { error: e.name, message: e.message }, crashed: true });
    const onExit = (code: number): void => finish({ records, error: { error: 'WorkerExit', message: `the worker thread exited with code ${code}` }, crashed: true });
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage(spec);
  });
}

async function runPool(specs: RunSpec[], workers: number, onRun: (spec: RunSpec, o: Outcome) => void): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    let worker: Worker | null = null;
    try {
      while (next < specs.length) {
        const spec = specs[next++]!;
        worker ??= spawnWorker();
        const outcome = await runOn(worker, spec);
        if (outcome.crashed) {
          await worker.terminate();
          worker = null;
        }
        onRun(spec, outcome);
      }
    } finally {
      if (worker) await worker.terminate();
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, specs.length) }, lane));
}

export async function writeReport(dir: string, plan: BenchPlan, records: readonly BenchRecord[], ctx: { command: string; workers: number }):
  Promise<{ summary: BenchSummary; reportPath: string; charts: string[] }> {
  const summary = summarize(plan, records);
  const charts = benchCharts(summary);
  for (const c of charts) writeTextAtomic(join(dir, c.file), await renderSvg(c.spec));
  const reportPath = join(dir, 'report.md');
  writeTextAtomic(reportPath, reportMarkdown(summary, charts, {
    command: ctx.command, machine: machineDescription(), date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    backend: `${plan.runs[0]?.config.train.backend ?? 'wasm'}/${plan.runs[0]?.config.train.dtype ?? 'float32'}`, workers: ctx.workers,
  }));
  return { summary, reportPath, charts: charts.map((c) => join(dir, c.file)) };
}

export async function runBench(options: BenchRunOptions): Promise<BenchOutcome> {
  const plan = planBench(options);
  const workers = options.workers ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 1) throw new ConfigError(`bench: --workers must be a positive integer, got ${workers}`);
  prepareOutput(options.out);
  const resultsPath = join(options.out, 'results.jsonl');
  const existing = readResults(resultsPath);
  const done = doneRuns(existing);
  const knownPairs = new Set(existing.filter((r) => r.kind === 'n/a').map((r) => pairKey(r)));
  const records = [...existing];
  const newPairs = plan.notApplicable.filter((r) => !knownPairs.has(pairKey(r)));
  appendResults(resultsPath, newPairs);
  records.push(...newPairs);

  const pending = plan.runs.filter((r) => !done.has(runKey(r)));
  let finished = 0, failed = 0;
  await runPool(pending, workers, (spec, outcome) => {
    let out: BenchRecord[] = outcome.records;
    let error: ErrorRecord | null = null;
    if (outcome.error) {
      const { suite, task, model, learner, seed, steps, configId } = spec;
      error = { kind: 'error', suite, task, model, learner, seed, steps, configId, ...outcome.error };
      out = [error]; // the evaluations of a failed run are not kept: a rerun redoes it whole
      failed++;
    }
    appendResults(resultsPath, out);
    records.push(...out);
    finished++;
    options.onProgress?.({ done: finished, total: pending.length, spec, records: out, error });
  });
  const command = options.command ?? `onward bench --suite ${plan.suite.name}`;
  const { summary, reportPath, charts } = await writeReport(options.out, plan, records, { command, workers });
  return { plan, summary, resultsPath, reportPath, charts, ran: pending.length - failed, reused: plan.runs.length - pending.length, failed };
}
