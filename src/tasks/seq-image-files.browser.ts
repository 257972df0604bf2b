/**
 * The browser's stand-in for seq-image-files.ts: a page cannot read a data folder, so source 2 (IDX files)
 * is refused by name and the synthetic source (source=1, the ci preset) is the way to run the task there.
 */
import { UnsupportedError } from '../core/errors.js';
import type { ImageSet } from '../data/idx.js';

export const DEFAULT_DATA_DIR = '/usr/share/datasets/fashion-mnist';

const refusal =
  'task seq-image: source 2 reads IDX files from a data folder, which a browser cannot do; use source=1 (synthetic images, the ci preset)';

export function seqImageDataDir(_env?: Record<string, string | undefined>): { dir: string; from: string } {
  throw new UnsupportedError(refusal);
}

export function loadSeqImageSet(_split: 'train' | 't10k', _env?: Record<string, string | undefined>): ImageSet {
  throw new UnsupportedError(refusal);
}
