/**
 * Model files and checkpoints on disk (Node): reading a file and writing one atomically. The format itself —
 * encoding, decoding, the envelope check — is in `format.ts`, which has no file system so browsers can use it;
 * everything there is re-exported here.
 *
 * Reading checks the file first (a regular file, within the model-file size limit of core/limits.ts), so a
 * FIFO, /dev/zero or a link to it is refused instead of read forever. Files are written to a temporary file
 * next to the target and renamed over it, so a crash while writing never destroys the last good file; every
 * failure is a typed error naming the file and the cause (core/files.ts).
 */
import { readTextBounded, writeTextAtomic as writeAtomic } from '../core/files.js';
import { ConfigError } from '../core/errors.js';
import { parseModelFile, type ModelFile } from './format.js';

export * from './format.js';

/** read and check the envelope of a model file (or a checkpoint, which is a model file with more) */
export function readModelFile(path: string): ModelFile {
  return parseModelFile(readTextBounded(path, 'model'), path);
}

/** write JSON atomically: a temporary file in the same folder, then rename over the target */
export function writeJsonAtomic(path: string, value: unknown, space?: number): void {
  let text: string;
  try {
    text = JSON.stringify(value, null, space) + '\n'; // fails before anything is touched if the value cannot be written
  } catch (e) {
    throw new ConfigError(`cannot write '${path}': the value cannot be written as JSON (${(e as Error).message})`);
  }
  writeAtomic(path, text);
}

/** write a text file whole: a temporary file in the same folder, renamed over the target (never half a file) */
export function writeTextAtomic(path: string, text: string): void {
  writeAtomic(path, text);
}
