/**
 * From the records of a suite to the numbers its report shows: for every task × learner cell of the plan,
 * its status (ran, not applicable, over budget, failed, not run yet), the final metric over seeds, the
 * cost per time step against inference, and the alignment with BPTT. The report and the charts both read
 * this, never the raw records.
 *
 * The paper suite's cells are its experiments' rows instead (TaskSummary.task is the experiment id,
 * Cell.learner the row's name): a row of an experiment with a learning-rate grid counts its runs at the best
 * rate only (the scan's run on the first seed, then the other seeds), and the scan itself is summarised apart.
 */
import { learnerTable } from '../learners/index.js';
import { higherIsBetter } from '../tasks/task.js';
import type { BenchPlan, RunSpec } from './plan.js';
import { paperClaims } from './paper.js';
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
  /** the metric at the evaluation point of lowest held-out loss, over seeds (the online-LRU paper's pick) */
  atBestLoss: Stats | null;
  /** the held-out loss there (best-loss pick) or at the end, over seeds */
  loss: Stats | null;
  /** wall minutes of the finished runs, summed */
  minutes: number;
  /** the learner's own statistics (sparse-rtrl), mean over evaluation points and seeds; plus the
   *  compute-adjusted iterations, Σ over updates of the influence density, mean over seeds */
  learnerStats: Record<string, number> | null;
}

/** the learning-rate scan of one row on the first seed */
export interface ScanSummary {
  row: string;
  /** per rate: the lowest held-out loss of the run (null: not finished) */
  points: { lr: number; loss: number | null; value: number | null }[];
  best: number | null;
}

/** what the paper report says about one experiment beyond its cells */
export interface ExperimentSummary {
  id: string;
  paper: string;
  task: string;
  title: string;
  stage: number;
  scale: string;
  reference: string;
  pick: 'final' | 'best-loss';
  minutesPerRun: number;
  planned: number;
  finished: number;
  scans: ScanSummary[];
  waiting: string[];
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
  /** the paper suite: its experiments (in plan order, matching `tasks`) and each paper's claim */
  experiments?: ExperimentSummary[];
  claims?: Record<string, { paper: string; claim: string }>;
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

interface Group {
  /** task name (ci) or experiment id (paper) */
  name: string;
  task: string;
  model: string;
  rows: { name: string; runs: RunSpec[]; na: string | null }[];
}

function recordsByRun(records: readonly BenchRecord[]): Map<string, BenchRecord[]> {
  const byRun = new Map<string, BenchRecord[]>();
  for (const r of records) if (r.kind !== 'n/a') byRun.set(runKey(r), [...(byRun.get(runKey(r)) ?? []), r]);
  return byRun;
}

/** the evaluations of the attempt that finished (those written with its final record), or null */
function finishedEvals(recs: BenchRecord[]): EvalRecord[] | null {
  const final = recs.find((r): r is EvalRecord => r.kind === 'eval' && r.final);
  if (!final) return null;
  const at = recs.indexOf(final);
  let first = at;
  while (first > 0 && recs[first - 1]!.kind === 'eval' && !(recs[first - 1] as EvalRecord).final) first--;
  return recs.slice(first, at + 1) as EvalRecord[];
}

const lowestLoss = (evals: EvalRecord[]): EvalRecord | null =>
  evals.filter((e) => e.loss !== null).reduce<EvalRecord | null>((b, e) => (!b || e.loss! < b.loss! ? e : b), null);

function ciGroups(plan: BenchPlan, records: readonly BenchRecord[]): { groups: Group[]; learners: string[] } {
  const na = new Map<string, string>();
  for (const r of records) if (r.kind === 'n/a') na.set(pairKey(r), r.reason);
  const order = learnerTable.map((l) => l.name);
  const learners = [...new Set([...plan.runs.map((r) => r.learner), ...plan.notApplicable.map((r) => r.learner)])].sort(
    (a, b) => order.indexOf(a) - order.indexOf(b),
  );
  const taskNames = [...new Set([...plan.runs.map((r) => r.task), ...plan.notApplicable.map((r) => r.task)])];
  const groups = taskNames.map((task) => {
    const runs = plan.runs.filter((r) => r.task === task);
    const model = runs[0]?.model ?? plan.notApplicable.find((r) => r.task === task)!.model;
    return {
      name: task,
      task,
      model,
      rows: learners.map((learner) => {
        const mine = runs.filter((r) => r.learner === learner);
        const pair = pairKey({ suite: plan.suite.name, task, model, learner });
        return {
          name: learner,
          runs: mine,
          na: mine.length ? null : (na.get(pair) ?? plan.notApplicable.find((r) => pairKey(r) === pair)?.reason ?? 'not applicable'),
        };
      }),
    };
  });
  return { groups, learners };
}

function scanOf(runs: RunSpec[], byRun: Map<string, BenchRecord[]>): { points: ScanSummary['points']; best: number | null } {
  const points = runs.map((r) => {
    const evals = finishedEvals(byRun.get(runKey(r)) ?? []);
    const low = evals ? lowestLoss(evals) : null;
    return { lr: r.config.optimizer.lr, loss: evals ? (low?.loss ?? Infinity) : null, value: low?.value ?? null };
  });
  const done = points.every((p) => p.loss !== null);
  const best = done && points.length ? points.reduce((a, b) => (b.loss! < a.loss! ? b : a)).lr : null;
  return { points, best };
}

function paperGroups(
  plan: BenchPlan,
  byRun: Map<string, BenchRecord[]>,
): { groups: Group[]; learners: string[]; experiments: ExperimentSummary[] } {
  const groups: Group[] = [];
  const experiments: ExperimentSummary[] = [];
  for (const exp of plan.experiments ?? []) {
    const runs = plan.runs.filter((r) => r.experiment === exp.id);
    const scans: ScanSummary[] = [];
    const rows = exp.rows.map((row) => {
      const mine = runs.filter((r) => r.row === row.name);
      const na = plan.notApplicable.find((r) => r.reason.startsWith(`${exp.id}, ${row.name}:`))?.reason ?? null;
      if (!exp.lrGrid) return { name: row.name, runs: mine, na };
      const scan = scanOf(
        mine.filter((r) => r.scan),
        byRun,
      );
      scans.push({ row: row.name, ...scan });
      // the row's seeds: the scan's run at the best rate, then the other seeds (at that rate)
      const chosen = scan.best === null ? [] : mine.filter((r) => !r.scan || r.config.optimizer.lr === scan.best);
      return { name: row.name, runs: chosen, na };
    });
    const model = runs[0]?.model ?? '';
    groups.push({ name: exp.id, task: exp.task, model, rows });
    const finished = runs.filter(
      (r) => finishedEvals(byRun.get(runKey(r)) ?? []) !== null || (byRun.get(runKey(r)) ?? []).some((x) => x.kind === 'skipped'),
    ).length;
    experiments.push({
      id: exp.id,
      paper: exp.paper,
      task: exp.task,
      title: exp.title,
      stage: exp.stage,
      scale: exp.scale,
      reference: exp.reference,
      pick: exp.pick,
      minutesPerRun: exp.minutesPerRun,
      planned: runs.length + (plan.waiting ?? []).filter((w) => w.experiment === exp.id).reduce((a, w) => a + w.seeds, 0),
      finished,
      scans,
      waiting: (plan.waiting ?? []).filter((w) => w.experiment === exp.id).map((w) => `${w.row}: ${w.reason}`),
    });
  }
  const learners = [...new Set((plan.experiments ?? []).flatMap((e) => e.rows.map((r) => r.name)))];
  return { groups, learners, experiments };
}

function meanStats(evals: EvalRecord[], seeds: number): Record<string, number> | null {
  const withStats = evals.filter((e) => e.learnerStats);
  if (!withStats.length) return null;
  const out: Record<string, number> = {};
  for (const k of Object.keys(withStats[0]!.learnerStats!)) out[k] = average(withStats.map((e) => e.learnerStats![k] ?? null)) ?? NaN;
  // compute-adjusted iterations: each point's influence density × the updates since the previous point
  if ('influenceDensity' in out) {
    let total = 0,
      prev = new Map<string, number>();
    for (const e of evals) {
      const run = `${e.seed}|${e.configId}`;
      const before = prev.get(run) ?? 0;
      if (e.learnerStats) total += e.learnerStats.influenceDensity! * (e.step - before);
      prev.set(run, e.step);
    }
    out.computeAdjustedIterations = total / Math.max(1, seeds);
  }
  return out;
}

export function summarize(plan: BenchPlan, records: readonly BenchRecord[]): BenchSummary {
  const byRun = recordsByRun(records);
  const paper = plan.experiments ? paperGroups(plan, byRun) : null;
  const { groups, learners } = paper ?? ciGroups(plan, records);
  const tasks: TaskSummary[] = groups.map((group) => {
    const { model } = group;
    let metric = '';
    const cells: Cell[] = group.rows.map(({ name: learner, runs: mine, na }) => {
      const cell: Cell = {
        task: group.name,
        model,
        learner,
        status: 'missing',
        reason: '',
        metric: '',
        final: null,
        diverged: 0,
        seeds: 0,
        planned: 0,
        usPerStep: null,
        inferenceUsPerStep: null,
        macsPerStep: null,
        inferenceMacsPerStep: null,
        stateBytes: null,
        paramBytes: null,
        batch: null,
        seqLength: null,
        finalCosine: {},
        meanCosine: null,
        evals: [],
        atBestLoss: null,
        loss: null,
        minutes: 0,
        learnerStats: null,
      };
      if (mine.length === 0) {
        if (na !== null || !paper) {
          cell.status = 'n/a';
          cell.reason = na ?? 'not applicable';
        } else cell.reason = 'waiting for its learning-rate scan';
        return cell;
      }
      cell.planned = mine.length;
      const finals: EvalRecord[] = [];
      const picked: EvalRecord[] = [];
      for (const run of mine) {
        const recs = byRun.get(runKey(run)) ?? [];
        const evals = finishedEvals(recs);
        const skipped = recs.find((r) => r.kind === 'skipped');
        const error = recs.filter((r) => r.kind === 'error').at(-1);
        if (evals) {
          const final = evals.at(-1)!;
          finals.push(final);
          picked.push(lowestLoss(evals) ?? final);
          cell.evals.push(...evals);
          cell.minutes += final.seconds / 60;
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
      if (cell.status !== 'ok' && cell.status !== 'missing')
        cell.reason = `${finals.length} of ${mine.length} seeds finished; ${cell.reason}`;
      metric = cell.metric = finals[0]!.metric;
      cell.diverged = finals.filter((f) => f.diverged).length;
      cell.final = stats(finals.filter((f) => f.value !== null).map((f) => f.value!));
      cell.atBestLoss = stats(picked.filter((f) => f.value !== null).map((f) => f.value!));
      const bestLossPick = paper?.experiments.find((e) => e.id === group.name)?.pick === 'best-loss';
      cell.loss = stats((bestLossPick ? picked : finals).filter((f) => f.loss !== null).map((f) => f.loss!));
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
      cell.learnerStats = meanStats(cell.evals, finals.length);
      return cell;
    });
    const warm = cells.flatMap((c) => c.evals.filter((e) => e.step > 0));
    const steps =
      group.rows.find((r) => r.runs.length)?.runs[0]?.steps ?? plan.runs.find((r) => (r.experiment ?? r.task) === group.name)?.steps ?? 0;
    return {
      task: group.name,
      model,
      metric,
      higherIsBetter: higherIsBetter(metric),
      steps,
      inferenceUsPerStep: median(warm.map((e) => e.inferenceUsPerStep)),
      inferenceMacsPerStep: median(warm.map((e) => e.inferenceMacsPerStep)),
      cells,
    };
  });
  const seeds = paper
    ? Math.max(0, ...(plan.experiments ?? []).map((e) => e.seeds.length))
    : Math.max(0, ...plan.runs.map((r) => r.seed + 1));
  return {
    suite: plan.suite.name,
    seeds,
    tasks,
    learners,
    problems: plan.taskProblems.map((p) => ({ task: p.task, message: `${p.error}: ${p.message}` })),
    ...(paper ? { experiments: paper.experiments, claims: paperClaims } : {}),
  };
}
