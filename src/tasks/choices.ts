/**
 * Task settings given by name: a setting that picks among options (seq-image's `source`, `order`, …) is
 * stored as an integer code, and its declaration (tasks/settings.ts) names the codes, so `task.source=fashion-mnist`
 * and `task.source=2` mean the same. Unknown names are refused with the list of known ones.
 */
import { ConfigError } from '../core/errors.js';
import type { TaskInfo } from './task.js';

/** the code of `value` for setting `key` of `task`: a number as it is, a choice name by its code */
export function settingCode(task: TaskInfo | undefined, key: string, value: unknown): unknown {
  if (typeof value !== 'string' || value.trim() === '' || Number.isFinite(Number(value))) return value;
  const choices = task && Object.hasOwn(task.settingTable.declared, key) ? task.settingTable.declared[key]!.choices : undefined;
  if (!choices) return value; // not a named setting: the config's own check names the problem
  const code = Object.hasOwn(choices, value) ? choices[value] : undefined; // 'toString' is no choice
  if (code === undefined) {
    throw new ConfigError(
      `task ${task!.name}: setting ${key} has no choice '${value}'; choices: ${Object.entries(choices)
        .map(([n, c]) => `${n} (${c})`)
        .join(', ')}`,
    );
  }
  return code;
}

/** the choice name of a setting's code, or the code itself when the setting has no names */
export function settingName(task: TaskInfo, key: string, code: number): string {
  const choices = Object.hasOwn(task.settingTable.declared, key) ? task.settingTable.declared[key]!.choices : undefined;
  const hit = choices ? Object.entries(choices).find(([, c]) => c === code) : undefined;
  return hit ? hit[0] : String(code);
}
