/**
 * The last guard of the command line (used by bin.ts): `--max-memory SIZE` taken from any command's arguments,
 * and the one line printed for an error that reached the top.
 */
import { ConfigError, OnwardError } from '../core/errors.js';
import { setMaxMemory } from '../core/limits.js';

/** remove `--max-memory SIZE` / `--max-memory=SIZE` from the arguments and apply it */
export function takeLimitFlags(argv: readonly string[]): string[] {
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--max-memory') {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new ConfigError('--max-memory needs a size, e.g. --max-memory 8G');
      setMaxMemory(v);
      i++;
    } else if (a.startsWith('--max-memory=')) setMaxMemory(a.slice('--max-memory='.length));
    else rest.push(a);
  }
  return rest;
}

/** the one line for an error that reached the guard; the exit code */
export function reportUncaught(e: unknown): number {
  if (e instanceof OnwardError) {
    console.error(`onward: ${e.message} (${e.name})`);
    return 2;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  console.error(
    `onward: internal error: ${err.name}: ${err.message.split('\n')[0]} — this is a bug in onward; please report it with the command you ran` +
      (process.env.ONWARD_DEBUG ? `\n${err.stack}` : ' (ONWARD_DEBUG=1 shows the stack)'),
  );
  return 70;
}
