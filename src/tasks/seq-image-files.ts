/**
 * The files of task `seq-image`, source 2 (Node): the data folder and its IDX images and labels, read once per
 * process and path. Kept apart from the task so that the task's synthetic source runs in browsers, where
 * `seq-image-files.browser.ts` stands in for this module (package.json "browser", the playground's Vite config).
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { readIdxImageSet, type ImageSet } from '../data/idx.js';

/** where Debian's `dataset-fashion-mnist` package installs the files */
export const DEFAULT_DATA_DIR = '/usr/share/datasets/fashion-mnist';

/** The data folder for source 2: $ONWARD_DATA if set, else the Debian default; `from` says which. */
export function seqImageDataDir(env: Record<string, string | undefined> = process.env): { dir: string; from: string } {
  const v = env.ONWARD_DATA;
  return v ? { dir: resolve(v), from: 'from ONWARD_DATA' } : { dir: DEFAULT_DATA_DIR, from: 'the default; set ONWARD_DATA to change it' };
}

const cache = new Map<string, ImageSet>();

const howToGet =
  `install Debian's Fashion-MNIST (apt-get install dataset-fashion-mnist, into ${DEFAULT_DATA_DIR}) ` +
  'or set ONWARD_DATA to a folder holding {train,t10k}-images-idx3-ubyte.gz and {train,t10k}-labels-idx1-ubyte.gz ' +
  '(the Fashion-MNIST download files; plain, uncompressed files also work); or use the synthetic images (source=1, the ci preset)';

/** The images and labels of one split from the data folder, read once per process and path. */
export function loadSeqImageSet(split: 'train' | 't10k', env: Record<string, string | undefined> = process.env): ImageSet {
  const { dir, from } = seqImageDataDir(env);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ConfigError(`task seq-image: the data folder ${dir} (${from}) does not exist; ${howToGet}`);
  }
  const find = (base: string): string => {
    const found = [`${base}.gz`, base].map((f) => join(dir, f)).find((f) => existsSync(f));
    if (!found)
      throw new ConfigError(
        `task seq-image: missing ${join(dir, `${base}.gz`)} (or ${base} uncompressed) in the data folder ${dir} (${from}); ${howToGet}`,
      );
    return found;
  };
  const imagesFile = find(`${split}-images-idx3-ubyte`);
  const labelsFile = find(`${split}-labels-idx1-ubyte`);
  const key = `${imagesFile}\n${labelsFile}`;
  let set = cache.get(key);
  if (!set) {
    set = readIdxImageSet(imagesFile, labelsFile);
    cache.set(key, set);
  }
  return set;
}
