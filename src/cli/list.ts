/** `onward list`: the tasks, models and learners, one line each (`--json` for scripts). */
import { learnerTable } from '../learners/index.js';
import { taskTable } from '../tasks/index.js';
import { unitModels } from '../units/index.js';
import { parse } from './args.js';

export async function listCommand(argv: string[]): Promise<void> {
  const { values } = parse('list', argv, { json: { type: 'boolean' } });
  const tasks = taskTable.map((t) => ({ name: t.name, description: t.description }));
  const models = Object.values(unitModels).map((u) => ({ name: u.name, description: u.description }));
  const learners = learnerTable.map((l) => ({ name: l.name, description: `${l.description}${l.exact ? ' [exact]' : ''} (models: ${l.models.join(', ')})` }));
  if (values.json) {
    console.log(JSON.stringify({ tasks, models, learners }));
    return;
  }
  for (const [title, rows] of [['tasks', tasks], ['models', models], ['learners', learners]] as const) {
    console.log(`${title}:`);
    const w = Math.max(...rows.map((r) => r.name.length));
    for (const r of rows) console.log(`  ${r.name.padEnd(w)}  ${r.description}`);
  }
}
