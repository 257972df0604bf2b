/** The `onward` command: dispatch to a subcommand; typed errors become one readable line and exit code 2. */
import { OnwardError } from '../core/errors.js';
import { benchCommand } from './bench.js';
import { perfCommand } from './perf.js';
import { evalCommand, trainCommand } from './train.js';
import { gradCommand, gradcheckCommand } from './grad.js';
import { listCommand } from './list.js';
import { dataCommand } from './data.js';
import { playgroundCommand } from './playground.js';
import { workerCommand } from './worker.js';

const HELP = `onward — train recurrent networks online

usage: onward <command> [options]

commands:
  train [--task copy] [--model lru] [--learner online-lru] [--preset ci|paper] [...]   train, with a progress bar
  eval --model-file DIR/model.json                 evaluate a saved model on its task
  grad --model-file m.json --data seq.json         loss and gradients by parameter name (JSON)
  gradcheck [--models ...] [--learners ...]        every learner against BPTT, BPTT against finite differences
  bench [--suite ci|paper] [--learners a,b] [--tasks x,y] [--seeds N] [--budget MACS|none] [--out DIR] [--workers N]
                                                   every learner on every task: results.jsonl, report.md, SVG charts
       [--queue redis://HOST:PORT [--collect | --status]]   … as jobs on a Redis queue, for workers on many machines
  worker --queue redis://HOST:PORT [--concurrency N] take bench runs from the queue (any machine)
  perf --kernels | --learners [--json]             kernel GFLOP/s; time, memory and MACs per step per learner
  data --task NAME [--n N] [--seed S]              generated samples with their readable form
  list [--json]                                    tasks, models, learners
  playground [--port N] [--rebuild]                serve the browser playground on 127.0.0.1 (default port 5173)
  help                                             this text

Run 'npm test' in the project folder for the test suites.`;

const commands: Record<string, (argv: string[]) => Promise<void>> = {
  train: trainCommand,
  eval: evalCommand,
  grad: gradCommand,
  gradcheck: gradcheckCommand,
  list: listCommand,
  data: dataCommand,
  perf: perfCommand,
  playground: playgroundCommand,
  bench: benchCommand,
  worker: workerCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    console.log(HELP);
    return 0;
  }
  const run = commands[command];
  if (!run) {
    console.error(`onward: unknown command '${command}'; known commands: ${Object.keys(commands).join(', ')}, help`);
    return 2;
  }
  try {
    await run(rest);
    return 0;
  } catch (e) {
    if (e instanceof OnwardError) {
      console.error(`onward ${command}: ${e.message} (${e.name})`);
      return 2;
    }
    throw e;
  }
}
