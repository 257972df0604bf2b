/**
 * Writing a file whole (Node only; browsers hand files to the user as downloads): a temporary file in the same
 * folder, renamed over the target, so a crash while writing never leaves half a file or destroys the last good
 * one. Checkpoints, model files and bench outputs are written with it.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** write a text file whole: a temporary file in the same folder, renamed over the target */
export function writeTextAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** write JSON whole, creating the folder if needed */
export function writeJsonAtomic(path: string, value: unknown): void {
  const text = JSON.stringify(value) + '\n'; // fails before anything is touched if the value cannot be written
  mkdirSync(dirname(path), { recursive: true });
  writeTextAtomic(path, text);
}
