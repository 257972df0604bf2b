/**
 * Model files and checkpoints on disk (Node): reading a file and writing one atomically. The format itself —
 * encoding, decoding, the envelope check — is in `format.ts`, which has no file system so browsers can use it;
 * everything there is re-exported here.
 *
 * Files are written to a temporary file next to the target and renamed over it, so a crash while writing
 * never destroys the last good file.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { FileFormatError } from '../core/errors.js';
import { parseModelFile, type ModelFile } from './format.js';

export * from './format.js';

/** read and check the envelope of a model file */
export function readModelFile(path: string): ModelFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new FileFormatError(`cannot read model file '${path}': ${(e as Error).message}`);
  }
  return parseModelFile(text, path);
}

/** write JSON atomically: a temporary file in the same folder, then rename over the target */
export function writeJsonAtomic(path: string, value: unknown): void {
  const text = JSON.stringify(value) + '\n'; // fails before anything is touched if the value cannot be written
  mkdirSync(dirname(path), { recursive: true });
  writeTextAtomic(path, text);
}

/** write a text file whole: a temporary file in the same folder, renamed over the target (never half a file) */
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
