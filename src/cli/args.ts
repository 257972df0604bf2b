/** Command-line parsing shared by the subcommands: strict (unknown flags are errors that name the flag). */
import { parseArgs } from 'node:util';
import { ConfigError } from '../core/errors.js';
import type { OptionTable, Values } from './command.js';

export type { OptionTable as Options, Values } from './command.js';

export function parse(_command: string, argv: string[], options: OptionTable): { values: Values } {
  // parseArgs knows type, short, multiple and default; the help fields of an OptionSpec are dropped here
  const config = Object.fromEntries(
    Object.entries(options).map(([k, o]) => [
      k,
      {
        type: o.type,
        ...(o.short ? { short: o.short } : {}),
        ...(o.multiple ? { multiple: true } : {}),
        ...(o.default !== undefined ? { default: o.default } : {}),
      },
    ]),
  ) as NonNullable<Parameters<typeof parseArgs>[0]>['options'];
  let values: Values;
  try {
    values = parseArgs({ args: argv, options: config, strict: true, allowPositionals: false }).values as Values;
  } catch (e) {
    const known = Object.keys(options)
      .map((k) => `--${k}`)
      .join(', ');
    throw new ConfigError(`${(e as Error).message.replace(/\. To specify.*$/s, '')}; known options: ${known}`);
  }
  for (const [k, o] of Object.entries(options)) {
    const v = values[k];
    if (o.choices && typeof v === 'string' && !o.choices.includes(v)) {
      throw new ConfigError(`--${k} must be one of ${o.choices.join(', ')}, got '${v}'`);
    }
  }
  return { values };
}
