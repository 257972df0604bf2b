/**
 * Regenerate the README's command-line reference from `onward --help` and every `onward COMMAND --help`:
 *   npm run readme:cli            (node --import tsx scripts/readme-cli.ts)
 * The block between the cli-help markers is replaced; the rest of the README is left alone.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withCliBlock } from '../src/cli/help-text.js';

const readme = join(fileURLToPath(new URL('..', import.meta.url)), 'README.md');
const before = readFileSync(readme, 'utf8');
const after = withCliBlock(before);
writeFileSync(readme, after);
console.error(before === after ? 'README.md: the command-line block is current' : 'README.md: command-line block regenerated');
