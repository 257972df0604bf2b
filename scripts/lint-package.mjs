#!/usr/bin/env node
/**
 * The package as a user installs it, checked: publint (package.json fields, exports, files) and
 * @arethetypeswrong/cli (types resolve for every entry point; ESM-only profile, as onward is ESM-only).
 * It packs with --ignore-scripts, so it checks the dist/ that is built (npm install / npm run build).
 *   node scripts/lint-package.mjs          exit 0: both clean
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = (pkg, file) => join(root, 'node_modules', pkg, file); // the packages' own bin files (their exports hide package.json)
const run = (args, opts = {}) => spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', ...opts });

let failed = false;
const lint = run([cli('publint', 'src/cli.js'), '--strict']);
process.stderr.write(lint.stdout + lint.stderr);
if (lint.status !== 0 || /Warnings:|Errors:/.test(lint.stdout)) failed = true;

const dir = mkdtempSync(join(tmpdir(), 'onward-pack-'));
try {
  const npm = spawnSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: root, encoding: 'utf8' });
  if (npm.status !== 0) throw new Error(`npm pack failed: ${npm.stderr}`);
  const tarball = join(
    dir,
    readdirSync(dir).find((f) => f.endsWith('.tgz')),
  );
  const attw = run([cli('@arethetypeswrong/cli', 'dist/index.js'), tarball, '--profile', 'esm-only', '--format', 'json']);
  const report = JSON.parse(attw.stdout);
  // the JSON lists every problem; the esm-only profile ignores the CommonJS and node10 resolutions (as the exit code does)
  const problems = Object.values(report.problems ?? {})
    .flat()
    .filter((p) => !['node10', 'node16-cjs'].includes(p.resolutionKind));
  process.stderr.write(`attw (esm-only): ${problems.length} problems${problems.length ? ': ' + JSON.stringify(problems) : ''}\n`);
  if (attw.status !== 0 || problems.length) failed = true;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
