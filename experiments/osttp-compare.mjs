#!/usr/bin/env node
/**
 * OSTTP vs BPTT on the same spiking network (lif units, no recurrent synapses), on two temporal tasks, with
 * ideal digital weights and with the synapses on simulated phase-change memory (--device pcm), 3 seeds each;
 * OSTL (the same traces with the backpropagated error instead of the target projection) as a reference, and
 * osttp fully online: the optimizer (and the device's pulses) applied at every time step (updateEvery 1,
 * the learning rate divided by the sequence length).
 * Prints a markdown table (mean ± standard deviation and [min, max] of the final eval accuracy over 16
 * held-out batches) and the gap osttp − bptt; writes every run's summary to OUT/results.jsonl.
 *
 *   npm run build && node experiments/osttp-compare.mjs [--out DIR] [--jobs 2] [--seeds 0,1,2] [--only NAME] [--quick]
 *
 * --only runs the one task configuration of that name; --quick divides the training steps by 5 (a smoke
 * run, not the measurement). The last configuration, "spikes, 5000 batches", trains 5× longer: osttp is still
 * improving after 1000 batches, where BPTT has converged.
 * Needs the built CLI (dist/cli/bin.js; `npm run build`). Runs `jobs` trainings at a time.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    jobs: { type: 'string' },
    seeds: { type: 'string' },
    only: { type: 'string' },
    quick: { type: 'boolean' },
  },
});
const out = values.out ?? join(root, 'runs', 'osttp-compare');
const jobs = Number(values.jobs ?? 2);
const seeds = (values.seeds ?? '0,1,2').split(',').map(Number);
const bin = join(root, 'dist', 'cli', 'bin.js');
if (!existsSync(bin)) throw new Error(`${bin} not found: run 'npm run build' first`);

// the same network for both learners; each task's settings as in its ci preset unless stated
const tasks = [
  {
    name: 'spikes',
    online: ['--set', 'train.updateEvery=1', '--lr', String(0.01 / 30)],
    args: [
      '--task',
      'spikes',
      '--preset',
      'ci',
      '--model',
      'lif',
      '--layers',
      '2',
      '--hidden',
      '32',
      '--steps',
      '1000',
      '--set',
      'model.recurrent=false',
      '--set',
      'eval.batches=16',
    ],
  },
  {
    name: 'seq-image (rows)',
    online: ['--set', 'train.updateEvery=1', '--lr', String(0.01 / 8)],
    args: [
      '--task',
      'seq-image',
      '--preset',
      'ci',
      '--model',
      'lif',
      '--layers',
      '1',
      '--hidden',
      '32',
      '--steps',
      '1000',
      '--lr',
      '0.01',
      '--set',
      'model.recurrent=false',
      '--set',
      'task.pixels=8',
      '--set',
      'task.readout=2',
      '--set',
      'eval.batches=16',
    ],
  },
  {
    name: 'spikes, 5000 batches',
    learners: ['bptt', 'osttp'],
    args: [
      '--task',
      'spikes',
      '--preset',
      'ci',
      '--model',
      'lif',
      '--layers',
      '2',
      '--hidden',
      '32',
      '--steps',
      '5000',
      '--set',
      'model.recurrent=false',
      '--set',
      'eval.batches=16',
    ],
  },
].filter((t) => !values.only || t.name === values.only);
if (tasks.length === 0) throw new Error(`--only ${values.only}: no such configuration`);
const learners = ['bptt', 'ostl', 'osttp', 'osttp-online'];
const devices = ['none', 'pcm'];

const runs = [];
for (const task of tasks) {
  for (const device of devices)
    for (const learner of task.learners ?? learners) for (const seed of seeds) runs.push({ task, device, learner, seed });
}

mkdirSync(out, { recursive: true });
const resultsPath = join(out, 'results.jsonl');
writeFileSync(resultsPath, '');

function train(run) {
  const online = run.learner === 'osttp-online';
  const args = [
    ...run.task.args,
    ...(online ? run.task.online : []),
    '--learner',
    online ? 'osttp' : run.learner,
    '--device',
    run.device,
    '--seed',
    String(run.seed),
    '--json',
    '--quiet',
    '--out',
    join(out, `${run.task.name.replace(/\W+/g, '_')}-${run.device}-${run.learner}-${run.seed}`),
  ];
  if (values.quick) {
    const i = args.indexOf('--steps');
    args[i + 1] = String(Math.max(1, Math.floor(Number(args[i + 1]) / 5)));
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'train', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '',
      stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.includes('"summary"')) return reject(new Error(`${args.join(' ')}: exit ${code}\n${stderr}`));
      const { summary } = JSON.parse(line);
      const record = {
        task: run.task.name,
        device: run.device,
        learner: run.learner,
        seed: run.seed,
        accuracy: summary.value,
        loss: summary.loss,
        seconds: summary.seconds,
        args,
      };
      appendFileSync(resultsPath, JSON.stringify(record) + '\n');
      console.error(
        `${run.task.name} ${run.device} ${run.learner} seed ${run.seed}: accuracy ${summary.value.toFixed(4)} (${summary.seconds} s)`,
      );
      resolve(record);
    });
  });
}

const results = [];
let next = 0;
await Promise.all(
  Array.from({ length: jobs }, async () => {
    while (next < runs.length) results.push(await train(runs[next++]));
  }),
);

const stat = (v) => {
  if (v.length === 0) return { m: NaN, sd: NaN, lo: NaN, hi: NaN };
  const m = v.reduce((a, x) => a + x, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, x) => a + (x - m) ** 2, 0) / (v.length - 1)) : 0;
  return { m, sd, lo: Math.min(...v), hi: Math.max(...v) };
};
const pct = (x) => (100 * x).toFixed(1);
const lines = [
  '| task | device | bptt accuracy % | ostl accuracy % | osttp accuracy % | osttp, update every step % | osttp − bptt (points) |',
  '|---|---|---|---|---|---|---|',
];
for (const task of tasks) {
  for (const device of devices) {
    const acc = (learner) =>
      results.filter((r) => r.task === task.name && r.device === device && r.learner === learner).map((r) => r.accuracy);
    const cell = (s) => (Number.isFinite(s.m) ? `${pct(s.m)} ± ${pct(s.sd)} [${pct(s.lo)}, ${pct(s.hi)}]` : '—');
    const b = stat(acc('bptt')),
      l = stat(acc('ostl')),
      o = stat(acc('osttp')),
      on = stat(acc('osttp-online'));
    lines.push(`| ${task.name} | ${device} | ${cell(b)} | ${cell(l)} | ${cell(o)} | ${cell(on)} | ${(100 * (o.m - b.m)).toFixed(1)} |`);
  }
}
const table = lines.join('\n');
writeFileSync(join(out, 'table.md'), table + '\n');
console.log(table);
