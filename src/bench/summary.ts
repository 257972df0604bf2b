/**
 * From the records of a suite to the numbers its report shows: for every task × learner cell of the plan,
 * its status (ran, not applicable, over budget, failed, not run yet), the final metric over seeds, the
 * cost per time step against inference, and the alignment with BPTT. The report and the charts both read
 * this, never the raw records.
 */
import { learnerTable } from '../learners/index.js';
import { higherIsBetter } from '../tasks/task.js';
import type { BenchPlan } from './plan.js';
import { pairKey, runKey, type BenchRecord, type EvalRecord } from './records.js';

export type CellStatus = 'ok' | 'n/a' | 'over budget' | 'error' | 'missing';

export interface Stats {
  mean: number;
  /** sample standard deviation over seeds (0 for one seed) */
  sd: number;
  n: number;
}

export interface Cell {
  task: string;
  model: string;
  learner: string;
  status: CellStatus;
  /** why: the n/a, budget or error message */
  reason: string;
  metric: string;
  /** final metric over the seeds that finished with a finite value */
  final: Stats | null;
  diverged: number;
  /** seeds finished and planned */
  seeds: number;
  planned: number;
  /** mean over evaluation points and seeds */
  usPerStep: number | null;
  inferenceUsPerStep: number | null;
  macsPerStep: number | null;
  inferenceMacsPerStep: number | null;
  /** peak learner state over the run, bytes */
  stateBytes: number | null;
  paramBytes: number | null;
  batch: number | null;
  seqLength: number | null;
  /** cosine to BPTT per parameter group at the final evaluation, mean over seeds */
  finalCosine: Record<string, number | null>;
  /** cosine of the whole gradient, mean over all evaluation points and seeds */
  meanCosine: number | null;
  /** all evaluation records of the cell's finished runs, for the charts */
  evals: EvalRecord[];
}

export interface TaskSummary {
  task: string;
  model: string;
  metric: string;
  higherIsBetter: boolean;
  steps: number;
  /**
   * the inference baseline of the task's model: the median over all its runs' warm evaluations (every
   * learner's runs time the same forward pass, so pooling them steadies the ratio on a busy machine)
   */
  inferenceUsPerStep: number | null;
  inferenceMacsPerStep: number | null;
  cells: Cell[];
}

export interface BenchSummary {
  suite: string;
  seeds: number;
  tasks: TaskSummary[];
  learners: string[];
  problems: { task: string; message: string }[];
}

export function stats(values: number[]): Stats | null {
  if (values.length === 0) return null;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = values.length > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1)) : 0;
  return { mean, sd, n: values.length };
}

const average = (values: (number | null)[]): number | null => {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
};

export function median(values: number[]): number | null {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

export { higherIsBetter };

export function summarize(plan: BenchPlan, records: readonly BenchRecord[]): BenchSummary {
  const byRun = new Map<string, BenchRecord[]>();
  const na = new Map<string, string>();
  for (const r of records) {
    if (r.kind === 'n/a') na.set(pairKey(r), r.reason);
    else byRun.set(runKey(r), [...(byRun.get(runKey(r)) ?? []), r]);
  }
  const order = learnerTable.map((l) => l.name);
  const learners = [...new Set([...plan.runs.map((r) => r.learner), ...plan.notApplicable.map((r) => r.learner)])]
    .sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const taskNames = [...new Set([...plan.runs.map((r) => r.task), ...plan.notApplicable.map((r) => r.task)])];
  const tasks: TaskSummary[] = taskNames.map((task) => {
    const runs = plan.runs.filter((r) => r.task === task);
    const model = runs[0]?.model ?? plan.notApplicable.find((r) => r.task === task)!.model;
    let metric = '';
    const cells: Cell[] = learners.map((learner) => {
      const cell: Cell = {
        task, model, learner, status: 'missing', reason: '', metric: '', final: null, diverged: 0, seeds: 0, planned: 0,
        usPerStep: null, inferenceUsPerStep: null, macsPerStep: null, inferenceMacsPerStep: null, stateBytes: null, paramBytes: null,
        batch: null, seqLength: null, finalCosine: {}, meanCosine: null, evals: [],
      };
      const pair = pairKey({ suite: plan.suite.name, task, model, learner });
      const mine = runs.filter((r) => r.learner === learner);
      if (mine.length === 0) {
        cell.status = 'n/a';
        cell.reason = na.get(pair) ?? plan.notApplicable.find((r) => pairKey(r) === pair)?.reason ?? 'not applicable';
        return cell;
      }
      cell.planned = mine.length;
      const finals: EvalRecord[] = [];
      for (const run of mine) {
        const recs = byRun.get(runKey(run)) ?? [];
        const final = recs.find((r): r is EvalRecord => r.kind === 'eval' && r.final);
        const skipped = recs.find((r) => r.kind === 'skipped');
        const error = recs.filter((r) => r.kind === 'error').at(-1);
        if (final) {
          finals.push(final);
          // the evaluations of the attempt that finished: those written with its final record
          const at = recs.indexOf(final);
          let first = at;
          while (first > 0 && recs[first - 1]!.kind === 'eval' && !(recs[first - 1] as EvalRecord).final) first--;
          cell.evals.push(...(recs.slice(first, at + 1) as EvalRecord[]));
        } else if (skipped && skipped.kind === 'skipped') {
          cell.status = 'over budget';
          cell.reason = skipped.reason;
        } else if (error && error.kind === 'error') {
          if (cell.status !== 'over budget') cell.status = 'error';
          cell.reason = `${error.error}: ${error.message}`;
        }
      }
      cell.seeds = finals.length;
      if (finals.length === 0) return cell;
      if (finals.length === mine.length) cell.status = 'ok';
      else if (cell.status === 'missing') cell.reason = `${mine.length - finals.length} of ${mine.length} seeds not run yet`;
      if (cell.status !== 'ok' && cell.status !== 'missing') cell.reason = `${finals.length} of ${mine.length} seeds finished; ${cell.reason}`;
      metric = cell.metric = finals[0]!.metric;
      cell.diverged = finals.filter((f) => f.diverged).length;
      cell.final = stats(finals.filter((f) => f.value !== null).map((f) => f.value!));
      cell.usPerStep = average(cell.evals.map((e) => e.usPerStep));
      // the evaluation at step 0 runs cold (before the JIT has compiled the forward pass): time inference after it
      const warm = cell.evals.filter((e) => e.step > 0);
      cell.inferenceUsPerStep = average((warm.length ? warm : cell.evals).map((e) => e.inferenceUsPerStep));
      cell.macsPerStep = average(cell.evals.map((e) => e.macsPerStep));
      cell.inferenceMacsPerStep = average(cell.evals.map((e) => e.inferenceMacsPerStep));
      cell.stateBytes = Math.max(0, ...cell.evals.map((e) => e.stateBytes ?? 0));
      cell.paramBytes = finals[0]!.paramBytes;
      cell.batch = finals[0]!.batch;
      cell.seqLength = finals[0]!.seqLength;
      for (const layer of Object.keys(finals[0]!.cosine)) cell.finalCosine[layer] = average(finals.map((f) => f.cosine[layer] ?? null));
      cell.meanCosine = average(cell.evals.map((e) => e.cosine.all ?? null));
      return cell;
    });
    const warm = cells.flatMap((c) => c.evals.filter((e) => e.step > 0));
    return {
      task, model, metric, higherIsBetter: higherIsBetter(metric), steps: runs[0]?.steps ?? 0,
      inferenceUsPerStep: median(warm.map((e) => e.inferenceUsPerStep)), inferenceMacsPerStep: median(warm.map((e) => e.inferenceMacsPerStep)), cells,
    };
  });
  const seeds = Math.max(0, ...plan.runs.map((r) => r.seed + 1));
  return { suite: plan.suite.name, seeds, tasks, learners, problems: plan.taskProblems.map((p) => ({ task: p.task, message: `${p.error}: ${p.message}` })) };
}
