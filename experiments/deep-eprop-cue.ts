/**
 * Credit across depth in practice: `deep-eprop` against layer-local `eprop` (and `bptt` for reference) on cue
 * accumulation with a 2-layer leaky network, with and without recurrent synapses (without them deep-eprop is
 * exact, the same gradient as bptt), over seeds. For each run: the first update at which the held-out accuracy
 * reaches 0.8 and 0.85 (evaluated every 10 updates on 16 fixed batches), the final and best accuracy, and the
 * mean per-layer cosine of the learner's gradient to BPTT's on the training batch (every 50 updates).
 * The control arm `bptt, layer 0 frozen` keeps the lower layer at its random initialisation (restored after every
 * update): if it learned as well, credit across depth would not matter on this task.
 *
 *   node --import tsx experiments/deep-eprop-cue.ts [--seeds 3] [--steps 400] [--delays 30,60] [--recurrent off,on]
 *        [--learners eprop,deep-eprop,bptt] [--no-control] [--out experiments/results/deep-eprop-cue-ci]
 *   node --import tsx experiments/deep-eprop-cue.ts --report [--out DIR]      # rebuild report.md from results.jsonl
 *
 * Runs append to DIR/results.jsonl (several processes may share it); report.md summarises every run in it.
 * Task: cue-accumulation ci preset (7 cues, 4 channels per group) with cue rate 30 % and the given delay
 * (T = 23 + delay); model: leaky, 2 layers of 16, batch 16, Adam lr 1e-2 (the preset's defaults).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { applyOverrides, defaultConfig } from '../src/train/config.js';
import { Trainer } from '../src/train/trainer.js';

interface RunRecord {
  delay: number;
  recurrent: string;
  arm: string;
  seed: number;
  to80: number | null;
  to85: number | null;
  final: number;
  best: number;
  cos0: number;
  cos1: number;
  seconds: number;
  curve: [number, number][];
}

const { values } = parseArgs({
  options: {
    seeds: { type: 'string' },
    steps: { type: 'string' },
    delays: { type: 'string' },
    recurrent: { type: 'string' },
    learners: { type: 'string' },
    'no-control': { type: 'boolean' },
    out: { type: 'string' },
    report: { type: 'boolean' },
  },
});
const out = values.out ?? 'experiments/results/deep-eprop-cue-ci';
const resultsPath = join(out, 'results.jsonl');

function run(delay: number, recurrent: string, learner: string, seed: number, steps: number, freezeLower: boolean): RunRecord {
  const trainer = new Trainer(
    applyOverrides(defaultConfig('cue-accumulation', 'ci'), {
      learner,
      seed,
      steps,
      recurrent,
      evalEvery: 10,
      evalBatches: 16,
      alignEvery: 50,
      'task.delay': delay,
      'task.cueRate': 30,
    }),
  );
  const t0 = performance.now();
  const lower = trainer.network.params
    .names()
    .filter((n) => n.startsWith('layers.0.'))
    .map((n) => [n, trainer.network.params.get(n)] as const);
  const curve: [number, number][] = [[0, trainer.evaluate().value]];
  const cos: [number[], number[]] = [[], []];
  while (trainer.step < steps) {
    trainer.trainStep();
    if (freezeLower) for (const [n, v] of lower) trainer.network.params.set(n, v);
    if (trainer.lastAlignment) {
      cos[0].push(trainer.lastAlignment['layers.0']!.cosine);
      cos[1].push(trainer.lastAlignment['layers.1']!.cosine);
      trainer.lastAlignment = null;
    }
    if (trainer.step % 10 === 0) curve.push([trainer.step, trainer.evaluate().value]);
  }
  const first = (th: number): number | null => curve.find(([, v]) => v >= th)?.[0] ?? null;
  const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
  return {
    delay,
    recurrent,
    arm: freezeLower ? `${learner}, layer 0 frozen` : learner,
    seed,
    to80: first(0.8),
    to85: first(0.85),
    final: curve.at(-1)![1],
    best: Math.max(...curve.map(([, v]) => v)),
    cos0: mean(cos[0]),
    cos1: mean(cos[1]),
    seconds: (performance.now() - t0) / 1000,
    curve,
  };
}

function report(): void {
  const runs = readFileSync(resultsPath, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as RunRecord);
  const f = (v: number): string => v.toFixed(3);
  const ms = (v: number[]): string => {
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    return `${f(m)} ± ${f(Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length))}`;
  };
  const lines = [
    '# deep-eprop vs eprop on cue accumulation (ci, 2 leaky layers of 16)',
    '',
    'Command: node --import tsx experiments/deep-eprop-cue.ts (see the file for the settings); each row: 3 seeds.',
    '"to 0.80": the first update (of 400, evaluated every 10) at which the held-out accuracy reached 0.80, per seed',
    "(— never). cos: mean cosine of the learner's gradient to BPTT's on the training batch, every 50 updates.",
    "Without recurrent synapses deep-eprop is exact: its runs coincide with bptt's.",
    '',
  ];
  const groups = [...new Set(runs.map((r) => `${r.delay}|${r.recurrent}`))].sort();
  for (const g of groups) {
    const [delay, recurrent] = g.split('|');
    lines.push(`## delay ${delay} (T = ${23 + Number(delay)}), recurrent synapses ${recurrent}`, '');
    lines.push(
      '| arm | to 0.80 (per seed) | to 0.85 (per seed) | final accuracy | best accuracy | cos layers.0 | cos layers.1 | s/run |',
      '|---|---|---|---|---|---|---|---|',
    );
    const arms = [...new Set(runs.filter((r) => `${r.delay}|${r.recurrent}` === g).map((r) => r.arm))];
    for (const arm of arms) {
      const rs = runs.filter((r) => `${r.delay}|${r.recurrent}` === g && r.arm === arm).sort((a, b) => a.seed - b.seed);
      const list = (k: 'to80' | 'to85'): string => rs.map((r) => r[k] ?? '—').join(', ');
      lines.push(
        `| ${arm} | ${list('to80')} | ${list('to85')} | ${ms(rs.map((r) => r.final))} | ${ms(rs.map((r) => r.best))} | ` +
          `${f(rs.reduce((a, r) => a + r.cos0, 0) / rs.length)} | ${f(rs.reduce((a, r) => a + r.cos1, 0) / rs.length)} | ` +
          `${(rs.reduce((a, r) => a + r.seconds, 0) / rs.length).toFixed(1)} |`,
      );
    }
    lines.push('');
  }
  writeFileSync(join(out, 'report.md'), lines.join('\n'));
  console.log(lines.join('\n'));
}

if (values.report) {
  report();
} else {
  mkdirSync(out, { recursive: true });
  const seeds = Number(values.seeds ?? 3),
    steps = Number(values.steps ?? 400);
  const delays = (values.delays ?? '30,60').split(',').map(Number);
  const recurrents = (values.recurrent ?? 'off,on').split(',');
  const learners = (values.learners ?? 'eprop,deep-eprop,bptt').split(',');
  for (const delay of delays) {
    for (const recurrent of recurrents) {
      const arms: [string, boolean][] = [
        ...learners.map((l) => [l, false] as [string, boolean]),
        ...(values['no-control'] ? [] : [['bptt', true] as [string, boolean]]),
      ];
      for (const [learner, frozen] of arms) {
        for (let seed = 0; seed < seeds; seed++) {
          const r = run(delay, recurrent, learner, seed, steps, frozen);
          appendFileSync(resultsPath, JSON.stringify(r) + '\n');
          console.log(
            `delay ${delay} recurrent ${recurrent} ${r.arm} seed ${seed}: to 0.80 ${r.to80 ?? '—'}, to 0.85 ${r.to85 ?? '—'}, final ${f3(r.final)}, cos ${f3(r.cos0)} / ${f3(r.cos1)}, ${r.seconds.toFixed(1)} s`,
          );
        }
      }
    }
  }
  if (existsSync(resultsPath)) report();
}

function f3(v: number): string {
  return v.toFixed(3);
}
