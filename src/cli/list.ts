/**
 * `onward list`: the tasks, models and learners, one line each (`--json` for scripts). For each learner: its
 * models, its recipe (trace × signal), the row it is an alias of, its exactness claims, its options with
 * defaults, and for every other model the reason it does not run there.
 */
import { describeClaim } from '../learners/claims.js';
import { learnerTable, refusalReason } from '../learners/index.js';
import { taskTable } from '../tasks/index.js';
import { unitModels } from '../units/index.js';
import { parse } from './args.js';

export async function listCommand(argv: string[]): Promise<void> {
  const { values } = parse('list', argv, { json: { type: 'boolean' } });
  const tasks = taskTable.map((t) => ({ name: t.name, description: t.description }));
  const models = Object.values(unitModels).map((u) => ({ name: u.name, description: u.description }));
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
  if (values.json) {
    console.log(JSON.stringify({ tasks, models, learners }));
    return;
  }
  for (const [title, rows] of [['tasks', tasks], ['models', models]] as const) {
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
}
