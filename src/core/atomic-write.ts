/**
 * Writing a file whole (Node only; browsers hand files to the user as downloads): a temporary file in the same
 * folder, renamed over the target, so a crash while writing never leaves half a file or destroys the last good
 * one. Checkpoints, model files and bench outputs are written with it. The writer itself — folder creation that
 * cannot loop on procfs, stale temp-file cleanup, typed errors naming the file — is `writeTextAtomic` of
 * core/files.ts; this file adds JSON on top of it.
 */
import { ConfigError } from './errors.js';
import { writeTextAtomic } from './files.js';

export { writeTextAtomic } from './files.js';

/** write JSON whole (the folder is created if needed); a value that cannot be JSON fails before anything is touched */
export function writeJsonAtomic(path: string, value: unknown, space?: number): void {
  let text: string;
  try {
    text = JSON.stringify(value, null, space) + '\n';
  } catch (e) {
    throw new ConfigError(`cannot write '${path}': the value cannot be written as JSON (${(e as Error).message})`);
  }
  writeTextAtomic(path, text);
}
