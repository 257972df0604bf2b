/** `--set task.<setting>=<name>` on the command line: named choices become the codes the config stores. */
import { taskTable } from '../tasks/index.js';
import { settingCode } from '../tasks/choices.js';

export function taskSettingOverrides<V>(task: string, overrides: Record<string, V>): Record<string, V | number> {
  const info = taskTable.find((t) => t.name === task);
  const out: Record<string, V | number> = {};
  for (const [k, v] of Object.entries(overrides)) out[k] = k.startsWith('task.') ? (settingCode(info, k.slice(5), v) as V | number) : v;
  return out;
}
