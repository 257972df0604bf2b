/**
 * The `onward` command: commander builds the program from the command table (commands.ts) — `--help` for
 * the program and for every command, `--version`, unknown commands and options refused with a suggestion —
 * then the command parses its own arguments from the same option table and runs. Typed errors become one
 * readable line (and, with --json, an error envelope on stdout) and exit code 2; usage errors too.
 */
import { Command, CommanderError, Option } from 'commander';
import { OnwardError } from '../core/errors.js';
import type { CommandSpec, OptionSpec } from './command.js';
import { commands } from './commands.js';
import { printError } from './json.js';
import { VERSION } from './package-info.js';

/** the commander option that renders (and pre-checks) one entry of a command's option table */
function commanderOption(name: string, o: OptionSpec): Option {
  const flags = `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` <${o.value ?? 'VALUE'}>` : ''}`;
  const dflt = o.default !== undefined && o.default !== false ? String(o.default) : o.defaultText;
  const listed = o.choices ?? o.names;
  const notes = [
    listed ? `one of ${listed.join(', ')}` : '',
    dflt !== undefined ? `default: ${dflt}` : '',
    o.multiple ? 'repeatable' : '',
  ].filter(Boolean);
  const opt = new Option(flags, (o.help ?? '') + (notes.length ? ` (${notes.join('; ')})` : ''));
  return opt;
}

/** the program: one subcommand per entry of the table */
export function buildProgram(table: readonly CommandSpec[] = commands): Command {
  const program = new Command('onward')
    .description('train recurrent networks online (RTRL, online LRU, e-prop, OSTTP, perturbation learning), checked against BPTT')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .helpCommand('help [command]', 'show the help of a command')
    .showSuggestionAfterError(true)
    .configureHelp({ helpWidth: 100, sortSubcommands: false })
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'onward: ')) });
  program.addHelpText(
    'after',
    "\nRun `onward COMMAND --help` for a command's options. Exit codes: 0 done, 1 a check failed, 2 bad input or usage.",
  );
  for (const spec of table) {
    const cmd = program
      .command(spec.name)
      .description(spec.summary)
      .helpOption('-h, --help', 'show this help')
      .exitOverride()
      .configureHelp({ helpWidth: 100 });
    if (spec.usage) cmd.usage(spec.usage);
    for (const [name, o] of Object.entries(spec.options)) cmd.addOption(commanderOption(name, o));
    if (spec.details) cmd.addHelpText('after', () => '\n' + spec.details!());
    // the command parses its arguments itself (same table): commander only checks and documents them
    cmd.allowExcessArguments(false);
    if (spec.openOptions) cmd.allowUnknownOption(true);
    cmd.action(() => undefined);
  }
  return program;
}

/** `onward … | head` closes stdout early: that is the reader's choice, not an error */
function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
      throw e;
    });
  }
}

export async function main(argv: string[]): Promise<number> {
  quietOnClosedPipe();
  const program = buildProgram();
  if (argv.length === 0) {
    program.outputHelp();
    return 0;
  }
  try {
    // help, version, unknown commands and unknown options end here
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    throw e;
  }
  const [name, ...rest] = argv;
  const spec = commands.find((c) => c.name === name);
  if (!spec) {
    program.outputHelp();
    return 0;
  }
  try {
    await spec.run(rest);
    // a command that sets an exit code (a failed check: 1; stopped by a signal: 130/143) keeps it
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof OnwardError) {
      console.error(`onward ${name}: ${e.message} (${e.name})`);
      if (rest.includes('--json')) printError(name!, e);
      return 2;
    }
    throw e;
  }
}
