/**
 * The help texts, as `onward --help` and `onward NAME --help` print them, for the README's command-line
 * section (scripts/readme-cli.ts writes it; a test checks it is current).
 */
import type { Command } from 'commander';
import { FileFormatError } from '../core/errors.js';
import { buildProgram } from './main.js';

/** what `cmd --help` prints, captured */
function helpOf(cmd: Command): string {
  let text = '';
  cmd.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  cmd.outputHelp();
  return text.trimEnd();
}

export function helpTexts(): { command: string; text: string }[] {
  const program = buildProgram();
  return [
    { command: 'onward --help', text: helpOf(program) },
    ...program.commands.filter((c) => c.name() !== 'help').map((c) => ({ command: `onward ${c.name()} --help`, text: helpOf(c) })),
  ];
}

/** the README's generated block: the program's help, then each command's in a folded section */
export function cliReadmeBlock(): string {
  const [top, ...rest] = helpTexts();
  const fence = (t: string): string => '```\n' + t + '\n```';
  return [
    fence(top!.text),
    ...rest.map((h) => `<details><summary><code>${h.command}</code></summary>\n\n${fence(h.text)}\n\n</details>`),
  ].join('\n\n');
}

export const README_START = '<!-- cli-help:start — generated from --help by `npm run readme:cli`; edit src/cli, not this block -->';
export const README_END = '<!-- cli-help:end -->';

/** the README text with its generated block replaced by the current help (the markers must be present) */
export function withCliBlock(readme: string): string {
  const a = readme.indexOf(README_START),
    b = readme.indexOf(README_END);
  if (a < 0 || b < a)
    throw new FileFormatError(
      `README: the markers ${README_START} … ${README_END} are missing; put them around the command-line block and rerun npm run readme:cli`,
    );
  return readme.slice(0, a + README_START.length) + '\n' + cliReadmeBlock() + '\n' + readme.slice(b);
}
