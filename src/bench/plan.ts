/**
 * What a bench suite runs: every task of the task table on the model its preset's defaults name, with
 * every learner of the learner table, for a number of seeds. Nothing here lists learners or tasks by
 * hand, so a learner or task added to its table joins the suite; a learner that does not support a
 * task's model is recorded as not applicable (with checkSupport's reason), never left out.
 *
 * Suites:
 * - `ci`: the tasks' `ci` presets and defaults, at most 300 training batches, 2 seeds, 6 evaluation points,
 *   and a budget of 2·10¹¹ multiply-accumulates per run (RTRL on the LRU stacks would take hours; it is
 *   listed as over budget with its estimate). A few minutes on 2 cores.
 * - `paper`: the seed papers' experiments of bench/paper.ts (each a task's `paper` preset with the experiment's
 *   overrides, rows of learners from the learner table, the authors' seeds), stage 1 (a reduced, stated scale)
 *   of every paper before stage 2 (the authors' settings), and inside a stage the first seed of every
 *   experiment before the second, so the cheapest complete comparison of each paper comes first. An
 *   experiment with a learning-rate grid trains every row at each rate on its first seed; the other seeds are
 *   planned at each row's best rate once that row's scan has finished (read from the results file, so the
 *   next invocation runs them). Budget 10¹⁵ multiply-accumulates per run; `--budget none` lifts it.
 */
import { checkMemory } from '../core/limits.js';
import { ConfigError, OnwardError, UnknownNameError, UnsupportedError } from '../core/errors.js';
import { checkSupport, learnerTable } from '../learners/index.js';
import { createTask, taskTable, type Preset } from '../tasks/index.js';
import { applyOverrides, defaultConfig, type RunConfig } from '../train/config.js';
import { join } from 'node:path';
import { learnerOptionSchemas } from '../learners/options.js';
import { paperExperiments, type PaperExperiment } from './paper.js';
import { configId, readResults, runKey, type BenchRecord, type EvalRecord, type NotApplicableRecord, type RunKey } from './records.js';

export interface Suite {
  name: 'ci' | 'paper';
  preset: Preset;
  seeds: number;
  /** training batches: the preset's default, capped here */
  maxSteps: number;
  /** evaluations after step 0 (an evaluation every steps/evalPoints batches) */
  evalPoints: number;
  evalBatches: number;
  /** multiply-accumulates one run may cost (estimated before training); Infinity: no limit */
  macBudget: number;
  /** seconds the cost estimate (4 steps of one sequence) may take before the run counts as over budget */
  probeSeconds: number;
}

export const suites: Record<Suite['name'], Suite> = {
  ci: { name: 'ci', preset: 'ci', seeds: 2, maxSteps: 300, evalPoints: 5, evalBatches: 2, macBudget: 2e11, probeSeconds: 30 },
  paper: {
    name: 'paper',
    preset: 'paper',
    seeds: 3,
    maxSteps: Infinity,
    evalPoints: 20,
    evalBatches: 4,
    macBudget: 1e15,
    probeSeconds: 600,
  },
};

export interface BenchOptions {
  suite?: string;
  learners?: string[];
  tasks?: string[];
  seeds?: number;
  /** override every task's training batches (small smoke runs) */
  steps?: number;
  /** override the suite's multiply-accumulate budget per run (Infinity: none) */
  budget?: number;
  /** override the suite's time limit of the cost estimate, seconds */
  probeSeconds?: number;
  /** the output folder: the paper suite reads its finished learning-rate scans from the results file there */
  out?: string;
  /** paper suite: only these experiments (ids of bench/paper.ts) */
  experiments?: string[];
  /** paper suite: only this stage */
  stage?: 1 | 2;
}

export interface RunSpec extends RunKey {
  config: RunConfig;
  macBudget: number;
  probeSeconds: number;
  /** paper suite: the experiment and row the run belongs to, the row's place in its learning-rate scan */
  experiment?: string;
  row?: string;
  stage?: number;
  /** a run of the learning-rate scan (the first seed, one rate of the grid) */
  scan?: boolean;
  /** parameter-name prefixes held at their initial values (restored after every update) */
  freeze?: string[];
}

/** a task that cannot be set up here (e.g. the paper preset of seq-image without its data files) */
export interface TaskProblem {
  task: string;
  error: string;
  message: string;
}

export interface BenchPlan {
  suite: Suite;
  runs: RunSpec[];
  notApplicable: NotApplicableRecord[];
  taskProblems: TaskProblem[];
  /** paper suite: the experiments planned, and runs that wait for a learning-rate scan to finish */
  experiments?: PaperExperiment[];
  waiting?: { experiment: string; row: string; seeds: number; reason: string }[];
}

function pick<T extends { name: string }>(kind: string, table: readonly T[], names: string[] | undefined): T[] {
  if (!names) return [...table];
  for (const n of names)
    if (!table.some((t) => t.name === n))
      throw new UnknownNameError(
        kind,
        n,
        table.map((t) => t.name),
      );
  return table.filter((t) => names.includes(t.name));
}

export function planBench(options: BenchOptions = {}): BenchPlan {
  const suiteName = options.suite ?? 'ci';
  const suite = suites[suiteName as Suite['name']];
  if (!suite) throw new UnknownNameError('suite', suiteName, Object.keys(suites));
  if (suite.name === 'paper') return planPaper(suite, options);
  const learners = pick('learner', learnerTable, options.learners);
  const tasks = pick('task', taskTable, options.tasks);
  const seeds = options.seeds ?? suite.seeds;
  if (!Number.isInteger(seeds) || seeds < 1) throw new ConfigError(`bench: --seeds must be a positive integer, got ${seeds}`);
  // each planned run holds its resolved config (about 2 kB): --seeds 1e9 is refused here, not after gigabytes
  checkMemory(
    2048 * seeds * learners.length * tasks.length,
    `bench: ${seeds} seeds × ${learners.length} learners × ${tasks.length} tasks of planned runs`,
  );
  if (options.steps !== undefined && (!Number.isInteger(options.steps) || options.steps < 1)) {
    throw new ConfigError(`bench: --steps must be a positive integer, got ${options.steps}`);
  }
  const budget = options.budget ?? suite.macBudget;
  if (!(budget > 0)) throw new ConfigError(`bench: --budget must be a positive number of multiply-accumulates or 'none', got ${budget}`);
  const plan: BenchPlan = { suite, runs: [], notApplicable: [], taskProblems: [] };
  for (const task of tasks) {
    let base: RunConfig;
    try {
      createTask(task.name, suite.preset); // a task that cannot be set up here (missing data files) is reported, not run
      base = defaultConfig(task.name, suite.preset);
    } catch (e) {
      if (!(e instanceof OnwardError)) throw e;
      plan.taskProblems.push({ task: task.name, error: e.name, message: e.message });
      continue;
    }
    const steps = options.steps ?? Math.min(base.train.steps, suite.maxSteps);
    for (const learner of learners) {
      const pair = { suite: suite.name, task: task.name, model: base.model.name, learner: learner.name };
      try {
        checkSupport(learner, base.model.name);
      } catch (e) {
        if (!(e instanceof UnsupportedError)) throw e;
        plan.notApplicable.push({ kind: 'n/a', ...pair, reason: e.message });
        continue;
      }
      for (let seed = 0; seed < seeds; seed++) {
        const config = applyOverrides(base, {
          'learner.name': learner.name,
          'train.seed': seed,
          'train.steps': steps,
          'eval.every': Math.max(1, Math.ceil(steps / suite.evalPoints)),
          'eval.batches': suite.evalBatches,
        });
        plan.runs.push({
          ...pair,
          seed,
          steps,
          configId: configId(config),
          config,
          macBudget: budget,
          probeSeconds: options.probeSeconds ?? suite.probeSeconds,
        });
      }
    }
  }
  return plan;
}

/** the rate of a finished scan whose run reached the lowest held-out loss (null: the scan is not finished) */
function bestRate(scan: RunSpec[], records: readonly BenchRecord[]): number | null {
  const byRun = new Map<string, EvalRecord[]>();
  for (const r of records) if (r.kind === 'eval') byRun.set(runKey(r), [...(byRun.get(runKey(r)) ?? []), r]);
  let best: { lr: number; loss: number } | null = null;
  for (const spec of scan) {
    const evals = byRun.get(runKey(spec)) ?? [];
    if (!evals.some((e) => e.final)) return null;
    const losses = evals.map((e) => e.loss).filter((l): l is number => l !== null);
    const loss = losses.length ? Math.min(...losses) : Infinity;
    if (!best || loss < best.loss) best = { lr: spec.config.optimizer.lr, loss };
  }
  return best?.lr ?? null;
}

/**
 * The paper suite's run id: the config's hash with the learner options that sit at their defaults left out, so
 * an option added to the learner section later (at a default that keeps the old behaviour) does not orphan
 * results that took days. (The first stage-1 results were written before this rule and carried over once, by
 * recomputing their ids: the options added since, kappa 0, feedback, traceDecay, syntheticLr, were at their
 * defaults, which leave bptt, eprop, ostl, osttp and the other learners of these runs as they were.)
 */
function paperRunId(config: RunConfig, freeze: string[] | undefined): string {
  const learner: Record<string, unknown> = { ...config.learner };
  for (const [k, schema] of Object.entries(learnerOptionSchemas)) {
    if (JSON.stringify(learner[k]) === JSON.stringify(schema.parse(undefined))) delete learner[k];
  }
  const stable = { ...config, learner };
  return configId(freeze ? { config: stable, freeze } : stable);
}

const lrLabel = (lr: number): string => `lr ${Number(lr.toPrecision(3))}`;

function planPaper(suite: Suite, options: BenchOptions): BenchPlan {
  if (options.tasks)
    throw new ConfigError('bench: the paper suite plans experiments, not tasks; pass --experiments ID,ID (ids in bench/paper.ts)');
  const ids = paperExperiments.map((e) => e.id);
  for (const id of options.experiments ?? []) if (!ids.includes(id)) throw new UnknownNameError('experiment', id, ids);
  const chosen = paperExperiments.filter(
    (e) => (!options.experiments || options.experiments.includes(e.id)) && (!options.stage || e.stage === options.stage),
  );
  const records = options.out ? readResults(join(options.out, 'results.jsonl')) : [];
  const budget = options.budget ?? suite.macBudget;
  const plan: BenchPlan = { suite, runs: [], notApplicable: [], taskProblems: [], experiments: chosen, waiting: [] };
  const order = new Map<RunSpec, number[]>();
  chosen.forEach((exp, e) => {
    let base: RunConfig;
    try {
      base = applyOverrides(defaultConfig(exp.task, suite.preset), { evalBatches: suite.evalBatches, ...exp.set });
    } catch (err) {
      if (!(err instanceof OnwardError)) throw err;
      plan.taskProblems.push({ task: exp.id, error: err.name, message: err.message });
      return;
    }
    exp.rows.forEach((row, r) => {
      if (options.learners && !options.learners.includes(row.learner)) return;
      const config0 = applyOverrides(base, { ...row.set, learner: row.learner });
      const info = learnerTable.find((l) => l.name === row.learner);
      if (!info)
        throw new UnknownNameError(
          'learner',
          row.learner,
          learnerTable.map((l) => l.name),
        );
      const pair = { suite: suite.name, task: exp.task, model: config0.model.name, learner: row.learner };
      try {
        checkSupport(info, config0.model.name);
      } catch (err) {
        if (!(err instanceof UnsupportedError)) throw err;
        plan.notApplicable.push({ kind: 'n/a', ...pair, reason: `${exp.id}, ${row.name}: ${err.message}` });
        return;
      }
      const steps = options.steps ?? config0.train.steps;
      const own = row.seeds ?? exp.seeds;
      const seeds = options.seeds ? own.slice(0, options.seeds) : own;
      const spec = (seed: number, lr: number, scan: boolean): RunSpec => {
        const points = exp.evalPoints ?? suite.evalPoints;
        const config = applyOverrides(config0, { seed, steps, lr, evalEvery: Math.max(1, Math.ceil(steps / points)) });
        const id = paperRunId(config, row.freeze);
        return {
          ...pair,
          seed,
          steps,
          configId: id,
          config,
          macBudget: budget,
          probeSeconds: options.probeSeconds ?? suite.probeSeconds,
          experiment: exp.id,
          row: row.name,
          stage: exp.stage,
          ...(scan ? { scan } : {}),
          ...(row.freeze ? { freeze: row.freeze } : {}),
        };
      };
      if (!exp.lrGrid) {
        seeds.forEach((seed, s) => {
          const run = spec(seed, config0.optimizer.lr, false);
          plan.runs.push(run);
          order.set(run, [exp.stage, s, e, r]);
        });
        return;
      }
      const scan = exp.lrGrid.map((lr) => spec(seeds[0]!, lr, true));
      scan.forEach((run, k) => {
        plan.runs.push(run);
        order.set(run, [exp.stage, 0, e, r, k]);
      });
      const lr = bestRate(scan, records);
      if (lr === null) {
        if (seeds.length > 1)
          plan.waiting!.push({
            experiment: exp.id,
            row: row.name,
            seeds: seeds.length - 1,
            reason: `seeds ${seeds.slice(1).join(', ')} wait for the ${exp.lrGrid.length}-rate scan on seed ${seeds[0]} (planned by the next invocation once it has finished)`,
          });
        return;
      }
      seeds.slice(1).forEach((seed, s) => {
        const run = spec(seed, lr, false);
        plan.runs.push(run);
        order.set(run, [exp.stage, s + 1, e, r]);
      });
    });
  });
  const cmp = (a: number[], b: number[]): number => {
    for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? -1) !== (b[i] ?? -1)) return (a[i] ?? -1) - (b[i] ?? -1);
    return 0;
  };
  plan.runs.sort((a, b) => cmp(order.get(a)!, order.get(b)!));
  return plan;
}

export { lrLabel };
