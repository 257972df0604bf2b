/**
 * Bench worker threads: one run at a time on a thread of its own, so the calling thread stays free (for the
 * local pool's bookkeeping, and for a queue worker to renew its job locks while a run computes). Both the
 * local pool (bench.ts) and the queue worker (queue.ts) run every spec through `RunThread`, so a run's
 * records are the same whichever way it was scheduled.
 */
import { Worker } from 'node:worker_threads';
import type { RunSpec } from './plan.js';
import type { BenchRecord, ErrorRecord } from './records.js';

/** what one run on a thread produced */
export interface Outcome {
  records: BenchRecord[];
  error: { error: string; message: string } | null;
  /** the worker died (or was stopped) and must be replaced */
  crashed: boolean;
}

/** a worker thread running the bench worker; from the TypeScript sources it loads them through tsx */
function spawnWorker(): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./worker.js', here));
  const tsx = import.meta.resolve('tsx/esm/api');
  const source = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(new URL('./worker.ts', here).href)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`));
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
        records: [
          {
            kind: 'skipped',
            suite,
            task,
            model,
            learner,
            seed,
            steps,
            configId,
            estimatedMacs: null,
            reason: `over the ${suite} suite's budget: estimating the cost (4 steps of one sequence) took more than ${spec.probeSeconds} s`,
          },
        ],
        error: null,
        crashed: true,
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
    const onExit = (code: number): void =>
      finish({ records, error: { error: 'WorkerExit', message: `the worker thread exited with code ${code}` }, crashed: true });
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage(spec);
  });
}

/** one lane of runs: a worker thread, started on first use and replaced after a crash */
export class RunThread {
  private worker: Worker | null = null;

  async run(spec: RunSpec): Promise<Outcome> {
    this.worker ??= spawnWorker();
    const outcome = await runOn(this.worker, spec);
    if (outcome.crashed) {
      await this.worker.terminate();
      this.worker = null;
    }
    return outcome;
  }

  async close(): Promise<void> {
    if (this.worker) await this.worker.terminate();
    this.worker = null;
  }
}

/** the records a run leaves in the results file: its own, or one error record (a failed run's evaluations are not kept: a rerun redoes it whole) */
export function errorRecord(spec: RunSpec, error: { error: string; message: string }): ErrorRecord {
  const { suite, task, model, learner, seed, steps, configId } = spec;
  return { kind: 'error', suite, task, model, learner, seed, steps, configId, ...error };
}
