/**
 * The package as a user gets it: license and metadata, engines true to the runtime dependencies, vega and
 * vega-lite optional (loaded only for bench charts, a clear message without them), a build that keeps stdout
 * quiet, publint and @arethetypeswrong/cli clean, a README whose links stay in the repository and whose
 * command-line reference is the current --help.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withCliBlock } from '../../src/cli/help-text.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  license: string;
  keywords: string[];
  sideEffects: boolean;
  engines: { node: string };
  files: string[];
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional: boolean }>;
  scripts: Record<string, string>;
};

const lowest = (range: string): number => Number(/>=\s*(\d+)/.exec(range)?.[1] ?? NaN);

test('LICENSE (MIT, as package.json says), keywords, sideEffects, files that include docs and the license', () => {
  assert.equal(pkg.license, 'MIT');
  assert.match(readFileSync(join(root, 'LICENSE'), 'utf8'), /^MIT License/);
  assert.ok(pkg.keywords.length >= 5);
  assert.equal(pkg.sideEffects, false);
  for (const f of ['LICENSE', 'docs/*.md', 'dist', 'bin']) assert.ok(pkg.files.includes(f), f);
  for (const d of ['design.md', 'cli.md', 'interchange.md']) assert.ok(existsSync(join(root, 'docs', d)), d);
  assert.equal(pkg.scripts.docs, 'typedoc');
});

test('engines is true to the installed runtime dependencies; vega and vega-lite are optional peers, not dependencies', () => {
  const ours = lowest(pkg.engines.node);
  for (const dep of Object.keys(pkg.dependencies)) {
    const theirs = (JSON.parse(readFileSync(join(root, 'node_modules', dep, 'package.json'), 'utf8')) as { engines?: { node?: string } })
      .engines?.node;
    if (theirs) assert.ok(lowest(theirs) <= ours, `${dep} needs Node ${theirs}, onward says ${pkg.engines.node}`);
  }
  for (const dep of ['vega', 'vega-lite']) {
    assert.ok(!(dep in pkg.dependencies), `${dep} is not installed for every user`);
    assert.ok(dep in pkg.peerDependencies && pkg.peerDependenciesMeta[dep]!.optional, `${dep} is an optional peer`);
  }
  // nothing but the bench charts imports them
  const grep = spawnSync('grep', ['-rlE', "from 'vega(-lite)?'|import\\('vega", join(root, 'src')], { encoding: 'utf8' });
  assert.deepEqual(
    grep.stdout
      .trim()
      .split('\n')
      .map((f) => f.slice(root.length)),
    ['src/bench/charts.ts'],
  );
});

test('without vega installed, drawing a bench chart says what to install and that the runs are kept', () => {
  // a resolve hook that hides vega and vega-lite, as on a plain install
  const hide = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent('export async function resolve(s, c, next) { if (s === "vega" || s === "vega-lite") throw Object.assign(new Error("Cannot find package " + s), { code: "ERR_MODULE_NOT_FOUND" }); return next(s, c); }'));`)}`;
  const script = `import { renderSvg } from ${JSON.stringify(join(root, 'src/bench/charts.ts'))};
try { await renderSvg({ mark: 'point' }); console.log('drawn'); } catch (e) { console.log(e.name + ': ' + e.message); }`;
  const r = spawnSync(process.execPath, ['--import', hide, '--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
  });
  assert.match(r.stdout, /^ConfigError: onward bench draws its charts with the optional packages vega and vega-lite/, r.stdout + r.stderr);
  assert.match(r.stdout, /npm install vega vega-lite/);
  assert.match(r.stdout, /results\.jsonl/);
});

test('the build keeps stdout quiet (npm pack --json and npm install read it)', () => {
  assert.equal(pkg.scripts.prepare, 'node scripts/build.mjs');
  const r = spawnSync(process.execPath, [join(root, 'scripts/build.mjs'), 'wasm'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '', 'nothing on stdout');
  assert.match(r.stderr, /wasm kernels/);
});

test('the README links only into the repository, and its command-line reference is the current --help', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  for (const m of readme.matchAll(/\]\(([^)]+)\)/g)) {
    const target = m[1]!;
    if (target.startsWith('#')) continue;
    assert.ok(!/^[a-z]+:/i.test(target) && !target.startsWith('..'), `link leaves the repository: ${target}`);
    assert.ok(existsSync(join(root, target.split('#')[0]!)), `link to a missing file: ${target}`);
  }
  for (const m of readme.matchAll(/https?:\/\/[^\s)>`'"]+/g))
    assert.match(m[0], /^http:\/\/(127\.0\.0\.1|localhost)[:/]/, `external address: ${m[0]}`);
  assert.equal(withCliBlock(readme), readme, 'the command-line block is stale: run npm run readme:cli');
});

test('publint and @arethetypeswrong/cli (ESM-only profile) find nothing to fix', () => {
  const r = spawnSync(process.execPath, [join(root, 'scripts/lint-package.mjs')], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stderr, /attw \(esm-only\): 0 problems/);
});
