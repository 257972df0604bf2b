/** Command-line parsing shared by the subcommands: strict (unknown flags are errors that name the flag). */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '../core/errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

export function parse(command: string, argv: string[], options: Options): { values: Values } {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }) as { values: Values };
  } catch (e) {
    const known = Object.keys(options).map((k) => `--${k}`).join(', ');
    throw new ConfigError(`${(e as Error).message.replace(/\. To specify.*$/s, '')}; known options: ${known}`);
  }
}
