/**
 * The table of commands: the one place a command is registered. `onward --help` lists them in this order;
 * each entry carries its options (for parsing and for `onward NAME --help`). A new command is a file that
 * exports a `defineCommand({...})` and one line here.
 */
import { benchCommand } from './bench.js';
import type { CommandSpec, OptionTable } from './command.js';
import { dataCommand } from './data.js';
import { evalCommand } from './eval.js';
import { exportCommand, importCommand } from './interchange.js';
import { gradCommand, gradcheckCommand } from './grad.js';
import { listCommand } from './list.js';
import { perfCommand } from './perf.js';
import { playgroundCommand } from './playground.js';
import { predictCommand } from './predict.js';
import { schemaCommand } from './schema.js';
import { trainCommand } from './train.js';
import { workerCommand } from './worker.js';

/** bench parses its own flags (src/cli/bench.ts); these are the ones its help lists */
const benchOptions = {
  suite: { type: 'string', value: 'NAME', help: "the plan: ci (minutes) or paper (the papers' sizes)", default: 'ci' },
  learners: { type: 'string', value: 'A,B', help: 'only these learners', defaultText: "the suite's" },
  tasks: { type: 'string', value: 'X,Y', help: 'only these tasks', defaultText: "the suite's" },
  seeds: { type: 'string', value: 'N', help: 'seeds per (task, model, learner)', defaultText: "the suite's" },
  steps: { type: 'string', value: 'N', help: 'training batches per run', defaultText: "the suite's" },
  experiments: {
    type: 'string',
    value: 'ID,ID',
    help: 'paper suite: only these experiments (ids in src/bench/paper.ts)',
    defaultText: 'all',
  },
  stage: {
    type: 'string',
    value: '1|2',
    help: "paper suite: only this stage (1: the reduced scale, 2: the authors' settings)",
    defaultText: 'both',
  },
  budget: {
    type: 'string',
    value: 'MACS',
    help: 'skip runs whose work exceeds this many multiply-adds (none: no limit)',
    defaultText: "the suite's",
  },
  workers: { type: 'string', value: 'N', help: 'runs in parallel (worker threads)', defaultText: 'the cores available' },
  out: { type: 'string', value: 'DIR', help: 'results.jsonl, report.md and the SVG charts', defaultText: 'bench-results/<suite>' },
  quiet: { type: 'boolean', help: 'no line per finished run' },
  json: { type: 'boolean', help: 'print the result envelope: paths and counts (docs/cli.md)' },
  queue: { type: 'string', value: 'URL', help: 'redis://[:password@]HOST[:PORT][/DB]: the runs become jobs for onward worker processes' },
  collect: { type: 'boolean', help: 'with --queue: only submit and collect (this process runs no jobs)' },
  status: { type: 'boolean', help: 'with --queue: the progress of the sweeps on the queue' },
  'lock-seconds': {
    type: 'string',
    value: 'S',
    help: 'with --queue: how long a job stays locked to a silent worker',
    defaultText: "the queue's",
  },
} as const satisfies OptionTable;

/** worker parses its own flags (src/cli/worker.ts); these are the ones its help lists */
const workerOptions = {
  queue: { type: 'string', value: 'URL', help: 'redis://[:password@]HOST[:PORT][/DB]: the Redis server the sweep was submitted to' },
  concurrency: { type: 'string', value: 'N', help: 'jobs at a time (worker threads)', defaultText: 'the cores available' },
  'lock-seconds': {
    type: 'string',
    value: 'S',
    help: 'how long a job stays locked to this worker without news',
    defaultText: "the queue's",
  },
  quiet: { type: 'boolean', help: 'no line per finished job' },
} as const satisfies OptionTable;

export const commands: readonly CommandSpec[] = [
  trainCommand,
  evalCommand,
  predictCommand,
  gradCommand,
  gradcheckCommand,
  {
    name: 'bench',
    summary: 'every learner on every task, side by side: results.jsonl, report.md, SVG charts (needs vega, vega-lite)',
    options: benchOptions,
    openOptions: true,
    run: benchCommand,
  },
  {
    name: 'worker',
    summary: 'take onward bench runs from a Redis queue and send their records back, until stopped',
    usage: '--queue redis://HOST:PORT [--concurrency N]',
    options: workerOptions,
    openOptions: true,
    run: workerCommand,
  },
  perfCommand,
  dataCommand,
  exportCommand,
  importCommand,
  listCommand,
  playgroundCommand,
  schemaCommand,
];
