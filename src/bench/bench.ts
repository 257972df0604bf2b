/**
 * `onward bench`: plan the suite, read what earlier invocations finished (results.jsonl), run the rest
 * on a pool of worker threads (or, with `queue`, as jobs on a Redis queue for workers anywhere: queue.ts),
 * append each run's records when it ends, then write report.md and the charts (each written whole to a
 * temporary file and renamed, so a reader never sees half a file).
 *
 * Safety of earlier results: the output folder is checked before anything runs; a damaged results file
 * stops the command with a FileFormatError before any write; the results file is only appended to.
 */
import { accessSync, constants } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { ensureDir } from '../core/files.js';
import { writeTextAtomic } from '../core/atomic-write.js';
import { benchCharts, renderSvg } from './charts.js';
import { planBench, type BenchOptions, type BenchPlan, type RunSpec } from './plan.js';
import { appendResults, doneRuns, lockResults, pairKey, readResults, runKey, type BenchRecord, type ErrorRecord } from './records.js';
import { runQueued, type QueueSweepOptions } from './queue.js';
import { machineDescription, reportMarkdown } from './report.js';
import { summarize, type BenchSummary } from './summary.js';
import { errorRecord, RunThread, type Outcome } from './threads.js';

export interface BenchRunOptions extends BenchOptions {
  out: string;
  /** worker threads (default: all cores) */
  workers?: number;
  /** how the command was invoked, for the report */
  command?: string;
  onProgress?: (event: ProgressEvent) => void;
  /**
   * run through a BullMQ queue on Redis instead of local threads only (queue.ts): the runs become jobs that
   * `onward worker` processes anywhere take; this process works on them too with `workers` threads unless
   * `queue.collect` is set, and writes every result here as it comes back
   */
  queue?: Omit<QueueSweepOptions, 'threads' | 'command'> & { collect?: boolean };
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
    ensureDir(dir); // one level at a time: a recursive mkdir spins forever on procfs
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new ConfigError(`cannot write to the output folder '${dir}': ${(e as Error).message}; pass a writable folder with --out`);
  }
}

async function runPool(specs: RunSpec[], workers: number, onRun: (spec: RunSpec, o: Outcome) => void): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    const thread = new RunThread();
    try {
      while (next < specs.length) {
        const spec = specs[next++]!;
        onRun(spec, await thread.run(spec));
      }
    } finally {
      await thread.close();
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, specs.length) }, lane));
}

export async function writeReport(
  dir: string,
  plan: BenchPlan,
  records: readonly BenchRecord[],
  ctx: { command: string; workers: number; machine?: string },
): Promise<{ summary: BenchSummary; reportPath: string; charts: string[] }> {
  const summary = summarize(plan, records);
  const charts = benchCharts(summary);
  for (const c of charts) writeTextAtomic(join(dir, c.file), await renderSvg(c.spec));
  const reportPath = join(dir, 'report.md');
  writeTextAtomic(
    reportPath,
    reportMarkdown(summary, charts, {
      command: ctx.command,
      machine: ctx.machine ?? machineDescription(),
      date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
      backend: `${plan.runs[0]?.config.train.backend ?? 'wasm'}/${plan.runs[0]?.config.train.dtype ?? 'float32'}`,
      workers: ctx.workers,
    }),
  );
  return { summary, reportPath, charts: charts.map((c) => join(dir, c.file)) };
}

export async function runBench(options: BenchRunOptions): Promise<BenchOutcome> {
  const plan = planBench(options);
  const workers = options.workers ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 1) throw new ConfigError(`bench: --workers must be a positive integer, got ${workers}`);
  prepareOutput(options.out);
  const resultsPath = join(options.out, 'results.jsonl');
  const unlock = lockResults(resultsPath); // one writer per folder (released when the suite ends, or at exit)
  try {
    return await runLocked(options, plan, workers, resultsPath);
  } finally {
    unlock();
  }
}

async function runLocked(options: BenchRunOptions, plan: BenchPlan, workers: number, resultsPath: string): Promise<BenchOutcome> {
  const existing = readResults(resultsPath);
  const done = doneRuns(existing);
  const knownPairs = new Set(existing.filter((r) => r.kind === 'n/a').map((r) => pairKey(r)));
  const records = [...existing];
  const newPairs = plan.notApplicable.filter((r) => !knownPairs.has(pairKey(r)));
  appendResults(resultsPath, newPairs);
  records.push(...newPairs);

  // a run two experiments share (the same config and seed, e.g. the 4-layer rows of the copy depth sweep and
  // of Table 1) runs once; both experiments read its records
  const planned = new Set<string>();
  const pending = plan.runs.filter((r) => {
    const k = runKey(r);
    if (done.has(k) || planned.has(k)) return false;
    planned.add(k);
    return true;
  });
  let finished = 0,
    failed = 0;
  const queueWorkers = new Set<string>();
  const onRun = (spec: RunSpec, outcome: Pick<Outcome, 'records' | 'error'> & { worker?: string }): void => {
    if (outcome.worker) queueWorkers.add(outcome.worker);
    let out: BenchRecord[] = outcome.records;
    let error: ErrorRecord | null = null;
    if (outcome.error) {
      error = errorRecord(spec, outcome.error);
      out = [error]; // the evaluations of a failed run are not kept: a rerun redoes it whole
      failed++;
    }
    appendResults(resultsPath, out);
    records.push(...out);
    finished++;
    options.onProgress?.({ done: finished, total: pending.length, spec, records: out, error });
  };
  const command = options.command ?? `onward bench --suite ${plan.suite.name}`;
  if (options.queue && pending.length > 0) {
    const { collect, ...queue } = options.queue;
    await runQueued(pending, { ...queue, threads: collect ? 0 : workers, command }, onRun);
  } else if (!options.queue) {
    await runPool(pending, workers, onRun);
  }
  // runs that came through the queue ran on the workers that sent them back, not (only) here
  const threads = options.queue?.collect ? 0 : workers;
  const machine =
    queueWorkers.size > 0 ? `queue workers ${[...queueWorkers].sort().join(', ')} (submitted from ${machineDescription()})` : undefined;
  const { summary, reportPath, charts } = await writeReport(options.out, plan, records, { command, workers: threads, machine });
  return {
    plan,
    summary,
    resultsPath,
    reportPath,
    charts,
    ran: pending.length - failed,
    reused: new Set(plan.runs.map(runKey).filter((k) => done.has(k))).size,
    failed,
  };
}
