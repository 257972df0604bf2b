/**
 * Model files and checkpoints on disk (Node): reading a file; writing one atomically is core/atomic-write.ts
 * (re-exported here). The format itself — encoding, decoding, the envelope check — is in `format.ts`, which has
 * no file system so browsers can use it; everything there is re-exported here.
 *
 * Reading checks the file first (a regular file, within the model-file size limit of core/limits.ts), so a
 * FIFO, /dev/zero or a link to it is refused instead of read forever; every failure is a typed error naming the
 * file and the cause (core/files.ts).
 */
import { readTextBounded } from '../core/files.js';
import { parseModelFile, type ModelFile } from './format.js';

export * from './format.js';
export { writeJsonAtomic, writeTextAtomic } from '../core/atomic-write.js';

/** read and check the envelope of a model file (or a checkpoint, which is a model file with more) */
export function readModelFile(path: string): ModelFile {
  return parseModelFile(readTextBounded(path, 'model'), path);
}
