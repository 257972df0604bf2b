#!/usr/bin/env node
// The `onward` command. Runs the compiled library in dist/ (built by `npm install` / `npm run build`).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/bin.js', import.meta.url);
if (!existsSync(entry)) {
  console.error("onward: the package is not built yet; run 'npm install' (or 'npm run build') in the project folder first");
  process.exit(2);
}
await import(entry.href);
