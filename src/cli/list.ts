/**
 * `onward list`: the tasks, models and learners, one line each. For each learner: its models, its recipe
 * (trace × signal), the row it is an alias of, its exactness claims, its options with defaults, and for every
 * other model the reason it does not run there. `--task NAME`: one task's settings, with their values in each
 * preset and the names of their choices. `--json` prints the result envelope (docs/cli.md).
 */
import { UnknownNameError } from '../core/errors.js';
import { describeClaim } from '../learners/claims.js';
import { learnerTable, refusalReason } from '../learners/index.js';
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
  const byPreset = Object.fromEntries(
    presets.map((p) => {
      try {
        return [p, info.create(p).settings];
      } catch {
        return [p, null]; // e.g. the paper preset's data files are not installed
      }
    }),
  ) as Record<string, Readonly<Record<string, number>> | null>;
  const declared = info.settingTable.declared;
  const names = [...new Set([...Object.keys(declared), ...Object.values(byPreset).flatMap((s) => (s ? Object.keys(s) : []))])];
  return {
    name: info.name,
    description: info.description,
    settings: names.map((n) => ({
      name: n,
      help: Object.hasOwn(declared, n) ? declared[n]!.doc : null,
      choices: Object.hasOwn(declared, n) && declared[n]!.choices ? { ...declared[n]!.choices } : null,
      presets: Object.fromEntries(
        presets.map((p) => {
          const v = byPreset[p]?.[n];
          return [p, v === undefined ? 'unavailable' : settingName(info, n, v)];
        }),
      ),
    })),
  };
}

async function listRun(argv: string[]): Promise<void> {
  const { values } = parse('list', argv, listOptions);
  if (typeof values.task === 'string') {
    const info = taskTable.find((t) => t.name === values.task);
    if (!info)
      throw new UnknownNameError(
        'task',
        values.task,
        taskTable.map((t) => t.name),
      );
    const listing = taskSettings(info);
    if (values.json) return printResult('list', { task: listing });
    console.log(`${info.name}: ${info.description}\n\nsettings (--set task.<setting>=<value>; ${presets.join(' / ')} preset values):`);
    const w = Math.max(...listing.settings.map((s) => s.name.length));
    for (const s of listing.settings) {
      console.log(`  ${s.name.padEnd(w)}  ${presets.map((p) => s.presets[p]).join(' / ')}${s.help ? `  ${s.help}` : ''}`);
      if (s.choices)
        console.log(
          `  ${''.padEnd(w)}  choices: ${Object.entries(s.choices)
            .map(([k, v]) => `${k} (${v})`)
            .join(', ')}`,
        );
    }
    return;
  }
  const tasks = taskTable.map((t) => ({ name: t.name, description: t.description }));
  const models = modelNames.map((name) => ({ name, description: unitModels[name]?.description ?? lruDescription }));
  const allModels = [...new Set([...models.map((m) => m.name), ...learnerTable.flatMap((l) => l.models)])];
  const learners = learnerTable.map((l) => ({
    name: l.name,
    description: l.description,
    models: [...l.models],
    ...(l.recipe ? { trace: l.recipe.trace, signal: l.recipe.signal } : {}),
    ...(l.aliasOf ? { aliasOf: l.aliasOf } : {}),
    aliases: learnerTable.filter((o) => o.aliasOf === l.name).map((o) => o.name),
    exact: l.exact,
    claims: l.claims.map((c) => ({ ...c, label: describeClaim(c) })),
    options: (l.options ?? []).map((o) => ({ ...o })),
    refusals: Object.fromEntries(allModels.filter((m) => !l.models.includes(m)).map((m) => [m, refusalReason(l, m)!])),
    ...(l.instantaneous ? { instantaneous: true } : {}),
  }));
  if (values.json) return printResult('list', { tasks, models, learners });
  for (const [title, rows] of [
    ['tasks', tasks],
    ['models', models],
  ] as const) {
    console.log(`${title}:`);
    const w = Math.max(...rows.map((r) => r.name.length));
    for (const r of rows) console.log(`  ${r.name.padEnd(w)}  ${r.description}`);
  }
  console.log('learners:');
  const w = Math.max(...learners.map((r) => r.name.length));
  for (const l of learners) {
    const recipe = l.trace ? ` [${l.trace} × ${l.signal}${l.aliasOf ? `; alias of ${l.aliasOf}` : ''}]` : '';
    console.log(`  ${l.name.padEnd(w)}  ${l.description}${recipe}`);
    const pad = ' '.repeat(w + 4);
    console.log(`${pad}models: ${l.models.join(', ')}`);
    for (const c of l.claims) console.log(`${pad}exact: ${c.label}`);
    const byReason = new Map<string, string[]>();
    for (const [m, why] of Object.entries(l.refusals)) byReason.set(why, [...(byReason.get(why) ?? []), m]);
    for (const [why, ms] of byReason) console.log(`${pad}not on ${ms.join(', ')}: ${why}`);
  }
  console.log("\n`onward list --task NAME` lists a task's settings.");
}

export const listCommand = defineCommand({
  name: 'list',
  summary: "the tasks, models and learners (recipes, exactness claims, options); --task NAME: a task's settings",
  options: listOptions,
  run: listRun,
});
