/** The installed package: its root folder (this file is src/cli/… or dist/cli/…) and its package.json. */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { name: string; version: string };

/** the version `onward --version` prints and every JSON envelope carries */
export const VERSION: string = pkg.version;
