/**
 * The long fuzz run (outside CI): mutated model files, checkpoints, sequence files, IDX files and bench
 * results through their loaders, in a watched worker thread (test/fuzz/). Counts crashes (untyped errors),
 * hangs (no progress for 30 s) and memory blow-ups (a worker out of heap, or over 2 GiB resident).
 *
 *   nice -n 19 node --import tsx experiments/fuzz.ts [--cases 10000] [--seed 1] [--out experiments/results/fuzz.json]
 *
 * Exit code 1 when anything was found; the report lists each case (its index reproduces it: makeCase(seed, index)).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runFuzz } from '../test/fuzz/runner.js';

const { values } = parseArgs({ options: { cases: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' } } });
const cases = Number(values.cases ?? 10_000),
  seed = Number(values.seed ?? 1);
const out = values.out ?? 'experiments/results/fuzz.json';
let last = 0;
const report = await runFuzz({
  seed,
  cases,
  hangSeconds: 30,
  onProgress: (done, r) => {
    if (done - last < 500) return;
    last = done;
    console.error(
      `${done}/${cases} cases, ${r.crashes.length} crashes, ${r.hangs.length} hangs, ${r.blowups.length} blow-ups, max rss ${(r.maxRss / 2 ** 20).toFixed(0)} MiB`,
    );
  },
});
const summary = {
  command: `node --import tsx experiments/fuzz.ts --cases ${cases} --seed ${seed}`,
  date: new Date().toISOString(),
  cases: report.cases,
  crashes: report.crashes.length,
  hangs: report.hangs.length,
  blowups: report.blowups.length,
  maxRssMiB: Math.round(report.maxRss / 2 ** 20),
  seconds: Math.round(report.seconds),
  outcomes: report.outcomes,
  details: { crashes: report.crashes, hangs: report.hangs, blowups: report.blowups },
};
writeFileSync(out, JSON.stringify(summary, null, 2) + '\n');
console.log(
  `${report.cases} cases in ${summary.seconds} s: ${summary.crashes} crashes, ${summary.hangs} hangs, ${summary.blowups} memory blow-ups ` +
    `(max resident ${summary.maxRssMiB} MiB) → ${out}`,
);
process.exitCode = summary.crashes + summary.hangs + summary.blowups > 0 ? 1 : 0;
