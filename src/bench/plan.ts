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
 * - `paper`: the `paper` presets with their full step counts and 3 seeds; budget 10¹⁵ multiply-accumulates per
 *   run (hours of one core), which leaves out what cannot finish on a workstation (RTRL on the paper's LRU
 *   stacks, ListOps at length 2000 for 120k batches) and says so; `--budget none` lifts it.
 */
import { checkMemory } from '../core/limits.js';
import { ConfigError, OnwardError, UnknownNameError, UnsupportedError } from '../core/errors.js';
import { checkSupport, learnerTable } from '../learners/index.js';
import { createTask, taskTable, type Preset } from '../tasks/index.js';
import { applyOverrides, defaultConfig, type RunConfig } from '../train/config.js';
import { configId, type NotApplicableRecord, type RunKey } from './records.js';

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
  paper: { name: 'paper', preset: 'paper', seeds: 3, maxSteps: Infinity, evalPoints: 20, evalBatches: 4, macBudget: 1e15, probeSeconds: 600 },
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
}

export interface RunSpec extends RunKey {
  config: RunConfig;
  macBudget: number;
  probeSeconds: number;
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
}

function pick<T extends { name: string }>(kind: string, table: readonly T[], names: string[] | undefined): T[] {
  if (!names) return [...table];
  for (const n of names) if (!table.some((t) => t.name === n)) throw new UnknownNameError(kind, n, table.map((t) => t.name));
  return table.filter((t) => names.includes(t.name));
}

export function planBench(options: BenchOptions = {}): BenchPlan {
  const suiteName = options.suite ?? 'ci';
  const suite = suites[suiteName as Suite['name']];
  if (!suite) throw new UnknownNameError('suite', suiteName, Object.keys(suites));
  const learners = pick('learner', learnerTable, options.learners);
  const tasks = pick('task', taskTable, options.tasks);
  const seeds = options.seeds ?? suite.seeds;
  if (!Number.isInteger(seeds) || seeds < 1) throw new ConfigError(`bench: --seeds must be a positive integer, got ${seeds}`);
  // each planned run holds its resolved config (about 2 kB): --seeds 1e9 is refused here, not after gigabytes
  checkMemory(2048 * seeds * learners.length * tasks.length, `bench: ${seeds} seeds × ${learners.length} learners × ${tasks.length} tasks of planned runs`);
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
          'learner.name': learner.name, 'train.seed': seed, 'train.steps': steps,
          'eval.every': Math.max(1, Math.ceil(steps / suite.evalPoints)), 'eval.batches': suite.evalBatches,
        });
        plan.runs.push({ ...pair, seed, steps, configId: configId(config), config, macBudget: budget, probeSeconds: options.probeSeconds ?? suite.probeSeconds });
      }
    }
  }
  return plan;
}
