/** The `onward` command: dispatch to a subcommand; typed errors become one readable line and exit code 2. */
import { OnwardError } from '../core/errors.js';
import { perfCommand } from './perf.js';
import { evalCommand, trainCommand } from './train.js';
import { gradCommand, gradcheckCommand } from './grad.js';
import { listCommand } from './list.js';

const HELP = `onward — train recurrent networks online

usage: onward <command> [options]

commands:
  perf --kernels [--json] [--quick]   kernel GFLOP/s and ns per call on the wasm and ts backends
  help                                this text

Run 'npm test' in the project folder for the test suites.`;

const commands: Record<string, (argv: string[]) => Promise<void>> = {
  train: trainCommand,
  eval: evalCommand,
  grad: gradCommand,
  gradcheck: gradcheckCommand,
  list: listCommand,
  perf: perfCommand,
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
