#!/usr/bin/env node
// Rewrites report.md and the charts of an `onward bench` output folder from its results.jsonl, without
// running anything: for a suite that runs for days, the partial report can be committed as results come.
//   node scripts/bench-report.mjs [--suite paper] [--out bench/results/paper]
// Needs the built library (dist/; `npm run build:ts`).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { suite: { type: 'string' }, out: { type: 'string' } } });
const suite = values.suite ?? 'paper';
const out = values.out ?? `bench/results/${suite}`;
const dist = new URL('../dist/bench/', import.meta.url);
if (!existsSync(new URL('bench.js', dist))) {
  console.error("bench-report: dist/ is not built; run 'npm run build:ts' first");
  process.exit(2);
}
const { planBench } = await import(new URL('plan.js', dist).href);
const { readResults } = await import(new URL('records.js', dist).href);
const { writeReport } = await import(new URL('bench.js', dist).href);
try {
  const plan = planBench({ suite, out });
  const records = readResults(join(out, 'results.jsonl'));
  const { reportPath } = await writeReport(out, plan, records, {
    command: `onward bench --suite ${suite} --out ${out} --workers 1`,
    workers: 1,
  });
  console.log(`bench-report: ${reportPath} rewritten from ${records.length} records`);
} catch (e) {
  console.error(`bench-report: ${e.message}`);
  process.exit(1);
}
