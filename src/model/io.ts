/**
 * Model files and checkpoints on disk (Node): reading a file; writing one atomically is core/atomic-write.ts
 * (re-exported here). The format itself — encoding, decoding, the envelope check — is in `format.ts`, which has
 * no file system so browsers can use it; everything there is re-exported here.
 */
import { readFileSync } from 'node:fs';
import { FileFormatError } from '../core/errors.js';
import { parseModelFile, type ModelFile } from './format.js';

export * from './format.js';
export { writeJsonAtomic, writeTextAtomic } from '../core/atomic-write.js';

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
