#!/usr/bin/env node
/**
 * The whole build — wasm kernels, the TypeScript library (dist/), the browser playground (dist/web) — with
 * every step's output on stderr, so `npm install` / `npm pack --json` keep stdout for npm's own output.
 *   node scripts/build.mjs [wasm] [ts] [web]     (no arguments: all three, in that order)
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const bin = (pkg, file) => join(dirname(require.resolve(`${pkg}/package.json`)), file);

const steps = {
  wasm: [join(root, 'scripts/build-wasm.mjs')],
  ts: [bin('typescript', 'bin/tsc'), '-p', 'tsconfig.build.json'],
  web: [bin('vite', 'bin/vite.js'), 'build', '--config', 'web/vite.config.ts'],
};

const asked = process.argv.slice(2);
for (const name of asked.length ? asked : Object.keys(steps)) {
  const args = steps[name];
  if (!args) {
    console.error(`build: unknown step '${name}'; steps: ${Object.keys(steps).join(', ')}`);
    process.exit(2);
  }
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 2, 2] });
  if (r.status !== 0) {
    console.error(`build: step ${name} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
}
