/**
 * What a command is: a name, one line that says what it does, its options (each with a one-line help and,
 * where there is one, its default), and the function that runs it. The table of options is the single
 * source for parsing (node:util parseArgs, strict) and for `--help` (commander renders it), so the help
 * can never list an option the parser does not know, or miss one it does.
 */
import type { ParseArgsConfig } from 'node:util';

type ParseOption = NonNullable<ParseArgsConfig['options']>[string];

/** one option: parseArgs's own fields plus what the help shows */
export type OptionSpec = ParseOption & {
  /** one line: what the option does */
  help?: string;
  /** the placeholder shown after the flag, e.g. 'N' or 'DIR' (string options; default 'VALUE') */
  value?: string;
  /** the default as the help states it when it is not a fixed value (e.g. 'the task preset's') */
  defaultText?: string;
  /** the accepted values, shown in the help and checked by the parser */
  choices?: readonly string[];
  /** the known values, shown in the help; the library checks them (its error lists them too) */
  names?: readonly string[];
};

export type OptionTable = Record<string, OptionSpec>;

export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface CommandSpec {
  name: string;
  /** one line, shown in `onward --help` */
  summary: string;
  /** the positional-free usage after the command name, e.g. '--model-file m.json --data seq.json' */
  usage?: string;
  /** paragraphs shown after the options in `onward NAME --help` (computed when the help is asked for) */
  details?: () => string;
  options: OptionTable;
  /** true: the command accepts options beyond the table (it checks them itself); the help lists the table */
  openOptions?: boolean;
  /** run with the raw arguments after the command name; parse them with `parse(name, argv, options)` */
  run(argv: string[]): Promise<void>;
}

export function defineCommand(spec: CommandSpec): CommandSpec {
  return spec;
}
