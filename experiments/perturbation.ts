/**
 * The perturbation-learning comparison (seed 004) on a task's preset: every arm × seeds, test NRMSE (or the
 * task's metric) on the held-out batches every `--every` training batches, written as
 *   <out>/results.jsonl   one line per arm × seed with the learning curve,
 *   <out>/report.md       the table (mean ± sample std over seeds) and the curves (means),
 *   <out>/curves.svg      learning curves (mean over seeds, log-scaled metric).
 * Usage: node --import tsx experiments/perturbation.ts [--task mackey-glass] [--preset ci] [--seeds 1,2,3]
 *        [--steps N] [--every K] [--out DIR] [--arms name,name]
 * Arms: a learner with its settings; each arm's lr is the best of {1e-4, 3e-4, 1e-3} ({1e-3, 3e-3, 1e-2} for
 * bptt) on mackey-glass ci with seed 0 — the table uses seeds 1, 2, 3.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { applyOverrides, defaultConfig } from '../src/train/config.js';
import type { Preset } from '../src/tasks/index.js';
import { Trainer } from '../src/train/trainer.js';

export interface Arm {
  name: string;
  note: string;
  /** overrides, keys as applyOverrides takes them */
  set: Record<string, unknown>;
}

export const arms: Arm[] = [
  {
    name: 'bptt',
    note: 'full-sequence BPTT, Adam, one update per sequence',
    set: { learner: 'bptt', updateEvery: 0, optimizer: 'adam', lr: 3e-3 },
  },
  {
    name: 'bptt-detached',
    note: 'state detached every step (the authors\' "BP"), Adam, update every step',
    set: { learner: 'bptt-detached', updateEvery: 1, optimizer: 'adam', lr: 3e-4 },
  },
  {
    name: 'tanp+decor',
    note: 'ANP in time with decorrelated inputs, update every step',
    set: { learner: 'tanp', decorrelate: true, updateEvery: 1, optimizer: 'adam', lr: 3e-4 },
  },
  {
    name: 'tanp',
    note: 'ANP in time, no decorrelation',
    set: { learner: 'tanp', decorrelate: false, updateEvery: 1, optimizer: 'adam', lr: 1e-4 },
  },
  {
    name: 'anp',
    note: 'ANP per step (noisy pass restarts from the clean state)',
    set: { learner: 'anp', decorrelate: false, updateEvery: 1, optimizer: 'adam', lr: 1e-4 },
  },
  {
    name: 'np+decor',
    note: 'node perturbation with decorrelated inputs (control: what decorrelation alone does)',
    set: { learner: 'np', decorrelate: true, updateEvery: 1, optimizer: 'adam', lr: 3e-4 },
  },
  { name: 'np', note: 'node perturbation', set: { learner: 'np', decorrelate: false, updateEvery: 1, optimizer: 'adam', lr: 1e-4 } },
  { name: 'wp', note: 'weight perturbation', set: { learner: 'wp', decorrelate: false, updateEvery: 1, optimizer: 'adam', lr: 1e-3 } },
];

interface Run {
  arm: string;
  seed: number;
  steps: number[];
  curve: number[];
  final: number;
  seconds: number;
}

function runArm(
  task: string,
  preset: string,
  arm: Arm,
  seed: number,
  steps: number | null,
  every: number,
  extra: Record<string, unknown>,
): Run {
  let config = defaultConfig(task, preset as Preset);
  config = applyOverrides(config, { ...arm.set, seed, 'eval.every': 0, ...(steps !== null ? { steps } : {}), ...extra });
  const trainer = new Trainer(config);
  const t0 = performance.now();
  const xs = [0],
    curve = [trainer.evaluate().value];
  while (trainer.step < config.train.steps) {
    trainer.trainStep();
    if (trainer.step % every === 0 || trainer.step === config.train.steps) {
      xs.push(trainer.step);
      curve.push(trainer.evaluate().value);
    }
  }
  return { arm: arm.name, seed, steps: xs, curve, final: curve[curve.length - 1]!, seconds: (performance.now() - t0) / 1000 };
}

function meanStd(v: number[]): [number, number] {
  const m = v.reduce((a, x) => a + x, 0) / v.length;
  const s = v.length > 1 ? Math.sqrt(v.reduce((a, x) => a + (x - m) ** 2, 0) / (v.length - 1)) : 0;
  return [m, s];
}

function svg(runs: Run[], names: string[], metric: string): string {
  const W = 640,
    H = 360,
    L = 60,
    R = 150,
    T = 20,
    Bm = 40;
  const colors = ['#000000', '#7f7f7f', '#d62728', '#ff7f0e', '#2ca02c', '#1f77b4', '#9467bd', '#8c564b'];
  const all = runs.flatMap((r) => r.curve).filter((v) => Number.isFinite(v) && v > 0);
  const lo = Math.log10(Math.min(...all)),
    hi = Math.log10(Math.max(...all));
  const maxStep = Math.max(...runs.flatMap((r) => r.steps));
  const px = (s: number): number => L + ((W - L - R) * s) / maxStep;
  const py = (v: number): number => T + ((H - T - Bm) * (hi - Math.log10(Math.max(v, 1e-12)))) / Math.max(1e-9, hi - lo);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<line x1="${L}" y1="${H - Bm}" x2="${W - R}" y2="${H - Bm}" stroke="black"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - Bm}" stroke="black"/>`,
    `<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">training batches</text>`,
    `<text x="12" y="${(T + H - Bm) / 2}" transform="rotate(-90 12 ${(T + H - Bm) / 2})" text-anchor="middle">test ${metric} (log)</text>`,
    `<text x="${L - 4}" y="${T + 4}" text-anchor="end">${(10 ** hi).toPrecision(2)}</text>`,
    `<text x="${L - 4}" y="${H - Bm}" text-anchor="end">${(10 ** lo).toPrecision(2)}</text>`,
    `<text x="${W - R}" y="${H - Bm + 14}" text-anchor="middle">${maxStep}</text>`,
  ];
  names.forEach((name, i) => {
    const rs = runs.filter((r) => r.arm === name);
    if (!rs.length) return;
    const pts = rs[0]!.steps.map((s, k) => `${px(s).toFixed(1)},${py(meanStd(rs.map((r) => r.curve[k]!))[0]).toFixed(1)}`);
    const c = colors[i % colors.length]!;
    parts.push(`<polyline fill="none" stroke="${c}" stroke-width="1.5" points="${pts.join(' ')}"/>`);
    parts.push(`<text x="${W - R + 8}" y="${T + 14 * (i + 1)}" fill="${c}">${name}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function main(): void {
  const { values } = parseArgs({
    options: {
      task: { type: 'string', default: 'mackey-glass' },
      preset: { type: 'string', default: 'ci' },
      seeds: { type: 'string', default: '1,2,3' },
      steps: { type: 'string' },
      every: { type: 'string', default: '10' },
      out: { type: 'string', default: 'experiments/results/perturbation' },
      arms: { type: 'string' },
      set: { type: 'string', multiple: true },
    },
  });
  const seeds = values.seeds!.split(',').map(Number);
  const chosen = values.arms ? arms.filter((a) => values.arms!.split(',').includes(a.name)) : arms;
  const extra: Record<string, unknown> = {};
  for (const s of values.set ?? []) extra[s.slice(0, s.indexOf('='))] = s.slice(s.indexOf('=') + 1);
  const steps = values.steps ? Number(values.steps) : null;
  const every = Number(values.every);
  const metric = new Trainer(applyOverrides(defaultConfig(values.task, values.preset as Preset), { steps: 0 })).task.metric;
  mkdirSync(values.out!, { recursive: true });
  const runs: Run[] = [];
  const lines: string[] = [];
  for (const arm of chosen) {
    for (const seed of seeds) {
      const r = runArm(values.task!, values.preset!, arm, seed, steps, every, extra);
      runs.push(r);
      lines.push(JSON.stringify(r));
      console.error(`${arm.name} seed ${seed}: ${metric} ${r.final.toFixed(4)} (${r.seconds.toFixed(1)} s)`);
    }
  }
  writeFileSync(join(values.out!, 'results.jsonl'), lines.join('\n') + '\n');
  const names = chosen.map((a) => a.name);
  const ref = meanStd(runs.filter((r) => r.arm === 'bptt').map((r) => r.final))[0];
  // the final evaluation, and the mean of the last three (less sensitive to where an online run happens to stop)
  const lastThree = (r: Run): number => r.curve.slice(-3).reduce((a, v) => a + v, 0) / Math.min(3, r.curve.length);
  const table = [
    `| arm | settings | test ${metric} at the end (mean ± std, ${seeds.length} seeds) | ÷ bptt | last 3 evals | s/run |`,
    '|---|---|---|---|---|---|',
  ];
  for (const arm of chosen) {
    const rs = runs.filter((r) => r.arm === arm.name);
    const [m, s] = meanStd(rs.map((r) => r.final));
    const sec = meanStd(rs.map((r) => r.seconds))[0];
    const [m3, s3] = meanStd(rs.map(lastThree));
    const sets = Object.entries({ ...arm.set, ...extra })
      .map(([k, v]) => `${k}=${v}`)
      .join(' '); // what the runs used
    table.push(
      `| ${arm.name} | ${sets} | ${m.toFixed(4)} ± ${s.toFixed(4)} | ${Number.isFinite(ref) ? (m / ref).toFixed(2) : '–'} | ${m3.toFixed(4)} ± ${s3.toFixed(4)} | ${sec.toFixed(1)} |`,
    );
  }
  const xs = runs[0]!.steps;
  const curves = [`| batches | ${names.join(' | ')} |`, `|---|${names.map(() => '---').join('|')}|`];
  xs.forEach((x, k) => {
    curves.push(
      `| ${x} | ${names.map((n) => meanStd(runs.filter((r) => r.arm === n).map((r) => r.curve[k]!))[0].toFixed(4)).join(' | ')} |`,
    );
  });
  const report = [
    `# Perturbation learners on ${values.task} (${values.preset})`,
    '',
    `Command: node --import tsx experiments/perturbation.ts --task ${values.task} --preset ${values.preset} --seeds ${values.seeds}` +
      (steps !== null ? ` --steps ${steps}` : '') +
      ` --every ${every}` +
      (values.set ?? []).map((s) => ` --set ${s}`).join(''),
    '',
    ...table,
    '',
    `Learning curves (test ${metric}, mean over seeds):`,
    '',
    ...curves,
    '',
  ].join('\n');
  writeFileSync(join(values.out!, 'report.md'), report);
  writeFileSync(join(values.out!, 'curves.svg'), svg(runs, names, metric));
  console.log(report);
}

main();
