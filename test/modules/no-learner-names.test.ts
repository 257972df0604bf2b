/**
 * Modules know no learner (DESIGN §2): no file in src/modules/ names a learner of the learner table — in code or
 * in comments, as a word or inside an identifier (backwardSpatial would name `spatial`). What a module offers
 * is named for what it computes; learner state and learner-specific maths live in src/learners/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { learnerTable } from '../../src/learners/index.js';

const dir = fileURLToPath(new URL('../../src/modules/', import.meta.url));

/** camelCase split into words, lower case: 'backwardSpatial' → 'backward spatial' */
const words = (text: string): string => text.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();

/** the hits of `names` in `text` as 'line: [name] text', a name counting only as a whole word ('np' not in 'input') */
function hits(text: string, names: readonly string[]): string[] {
  const patterns = names.map((n) => [n, new RegExp(`(^|[^a-z0-9])${n.replace(/[-]/g, '\\-')}([^a-z0-9]|$)`)] as const);
  const out: string[] = [];
  words(text)
    .split('\n')
    .forEach((line, i) => {
      for (const [n, re] of patterns) if (re.test(line)) out.push(`${i + 1}: [${n}] ${line.trim()}`);
    });
  return out;
}

test('the word matcher finds names in code, comments and identifiers, and only whole words', () => {
  assert.deepEqual(
    hits('m.backwardSpatial(x)\n// runs eprop here\nconst inp = 1; // np-free\nonline-LRU', ['spatial', 'eprop', 'np', 'online-lru']).map(
      (h) => h.split(':')[0],
    ),
    ['1', '2', '3', '4'],
  );
  assert.deepEqual(hits('const input = snp; tanpx', ['np', 'tanp']), []);
});

test('no file in src/modules/ names a learner (every name of the learner table, aliases included)', () => {
  const names = learnerTable.map((l) => l.name);
  assert.ok(names.length > 10 && names.includes('np') && names.includes('spatial'));
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 8, 'the modules folder is read');
  const found = files.flatMap((f) => hits(readFileSync(dir + f, 'utf8'), names).map((h) => `src/modules/${f}:${h}`));
  assert.deepEqual(found, [], `modules name learners:\n${found.join('\n')}`);
});
