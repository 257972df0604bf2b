/**
 * The `--set section.key=value` options for `onward train --help`: every option of the run config with its
 * type, default and one line of documentation, listed from the parts' schemas (train/config.ts listOptions).
 * A task's preset row sets some of them (src/train/presets.ts); `config.json` in a run folder holds every value.
 */
import { listOptions } from '../train/config.js';

export function setKeysHelp(): string {
  const lines = listOptions().map((o) => {
    const type = o.choices ? o.choices.join('|') : o.type;
    return `  ${o.key.padEnd(26)} ${type.padEnd(18)} ${o.default !== undefined ? `(${JSON.stringify(o.default)}) ` : ''}${o.doc}`;
  });
  return [
    '--set options (section.key=value; a key found in one section only may drop its section; in a --config file',
    'as {"section": {"key": value}}; the JSON Schema of such a file: onward schema):',
    ...lines,
    '  task.<setting>             integer            a task setting; `onward list --task NAME` lists them with their choices',
  ].join('\n');
}
