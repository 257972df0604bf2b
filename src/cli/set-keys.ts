/**
 * The `--set key=value` keys for `onward train --help`, with the defaults of the copy task's ci preset
 * (a task's preset changes some of them; `config.json` in a run folder holds every value a run used).
 */
import { defaultConfig } from '../train/config.js';

export function setKeysHelp(): string {
  const c = defaultConfig('copy', 'ci') as unknown as Record<string, unknown>;
  const keys = Object.keys(c).filter((k) => k !== 'taskSettings');
  const cells = keys.map((k) => `${k}=${typeof c[k] === 'object' ? JSON.stringify(c[k]) : String(c[k])}`);
  const w = Math.max(...cells.map((s) => s.length)) + 2, perLine = Math.max(1, Math.floor(96 / w));
  const lines: string[] = [];
  for (let i = 0; i < cells.length; i += perLine) lines.push('  ' + cells.slice(i, i + perLine).map((s) => s.padEnd(w)).join('').trimEnd());
  return `--set keys (defaults for --task copy --preset ci; a task's preset sets its own):\n${lines.join('\n')}\n` +
    '  task.<setting>=<value>  a task setting; `onward list --task NAME` lists them with their choices';
}
