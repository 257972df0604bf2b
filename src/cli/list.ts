/**
 * `onward list`: the tasks, models and learners, one line each; `--task NAME`: one task's settings, with
 * their values in each preset and the names of their choices. `--json` prints the result envelope.
 */
import { UnknownNameError } from '../core/errors.js';
import { learnerTable } from '../learners/index.js';
import { modelNames } from '../model/network.js';
import { presets, taskTable, type TaskInfo } from '../tasks/index.js';
import { settingName } from '../tasks/choices.js';
import { unitModels } from '../units/index.js';
import { parse } from './args.js';
import { defineCommand, type OptionTable } from './command.js';
import { printResult } from './json.js';

const listOptions = {
  task: { type: 'string', value: 'NAME', help: 'one task: its settings, their values in each preset and their named choices' },
  json: { type: 'boolean', help: 'print the result envelope (docs/cli.md)' },
} as const satisfies OptionTable;

const lruDescription = 'the LRU stack: linear recurrent units (complex diagonal) with GLU mixing, layer norm and skips';

export interface TaskSettingsListing {
  name: string;
  description: string;
  settings: { name: string; help: string | null; choices: Record<string, number> | null; presets: Record<string, number | string> }[];
}

/** a task's settings as `list --task` shows them: the values of every preset (by name where it has one) */
export function taskSettings(info: TaskInfo): TaskSettingsListing {
  const byPreset = Object.fromEntries(presets.map((p) => {
    try {
      return [p, info.create(p).settings];
    } catch (e) {
      return [p, null]; // e.g. the paper preset's data files are not installed: the values are still the preset's
    }
  })) as Record<string, Readonly<Record<string, number>> | null>;
  const names = [...new Set([...Object.keys(info.settingDocs ?? {}), ...Object.values(byPreset).flatMap((s) => (s ? Object.keys(s) : []))])];
  return {
    name: info.name, description: info.description,
    settings: names.map((n) => ({
      name: n,
      help: info.settingDocs?.[n]?.help ?? null,
      choices: info.settingDocs?.[n]?.choices ? { ...info.settingDocs[n].choices } : null,
      presets: Object.fromEntries(presets.map((p) => {
        const v = byPreset[p]?.[n];
        return [p, v === undefined ? 'unavailable' : settingName(info, n, v)];
      })),
    })),
  };
}

async function listRun(argv: string[]): Promise<void> {
  const { values } = parse('list', argv, listOptions);
  if (typeof values.task === 'string') {
    const info = taskTable.find((t) => t.name === values.task);
    if (!info) throw new UnknownNameError('task', values.task, taskTable.map((t) => t.name));
    const listing = taskSettings(info);
    if (values.json) return printResult('list', { task: listing });
    console.log(`${info.name}: ${info.description}\n\nsettings (--set task.<setting>=<value>; ${presets.join(' / ')} preset values):`);
    const w = Math.max(...listing.settings.map((s) => s.name.length));
    for (const s of listing.settings) {
      console.log(`  ${s.name.padEnd(w)}  ${presets.map((p) => s.presets[p]).join(' / ')}${s.help ? `  ${s.help}` : ''}`);
      if (s.choices) console.log(`  ${''.padEnd(w)}  choices: ${Object.entries(s.choices).map(([k, v]) => `${k} (${v})`).join(', ')}`);
    }
    return;
  }
  const tasks = taskTable.map((t) => ({ name: t.name, description: t.description }));
  const models = modelNames.map((name) => ({ name, description: unitModels[name]?.description ?? lruDescription }));
  const learners = learnerTable.map((l) => ({ name: l.name, description: l.description, exact: l.exact, models: [...l.models] }));
  if (values.json) return printResult('list', { tasks, models, learners });
  const rows: [string, { name: string; description: string }[]][] = [
    ['tasks', tasks], ['models', models],
    ['learners', learners.map((l) => ({ name: l.name, description: `${l.description}${l.exact ? ' [exact]' : ''} (models: ${l.models.join(', ')})` }))],
  ];
  for (const [title, list] of rows) {
    console.log(`${title}:`);
    const w = Math.max(...list.map((r) => r.name.length));
    for (const r of list) console.log(`  ${r.name.padEnd(w)}  ${r.description}`);
  }
  console.log('\n`onward list --task NAME` lists a task\'s settings.');
}

export const listCommand = defineCommand({
  name: 'list',
  summary: 'the tasks, models and learners, one line each (--task NAME: a task\'s settings)',
  options: listOptions,
  run: listRun,
});
