/**
 * Credit across depth in practice: `deep-eprop` against layer-local `eprop` (and `bptt` for reference) on cue
 * accumulation with a 2-layer leaky network, with and without recurrent synapses, over seeds. For each run:
 * the first update at which the held-out accuracy reaches 0.8 and 0.85 (evaluated every 10 updates on 16
 * fixed batches), the final and best accuracy, and the mean per-layer cosine of the learner's gradient to
 * BPTT's on the training batch (every 50 updates).
 *
 *   node --import tsx scripts/deep-eprop-cue.ts [--seeds 3] [--steps 400] [--recurrent on,off] [--learners eprop,deep-eprop,bptt]
 *                                              [--freeze-lower] [--delay 30]
 *
 * --freeze-lower is the control for "does credit across depth matter here?": layer 0 keeps its random
 * initial weights (restored after every update), so only the top layer and the readout learn.
 *
 * Task settings: ci preset with delay 30 (--delay) and cue rate 30 % (T = 53), hidden 16, batch 16, Adam lr 1e-2.
 */
import { parseArgs } from 'node:util';
import { applyOverrides, defaultConfig } from '../src/run/config.js';
import { Trainer } from '../src/run/trainer.js';

const { values } = parseArgs({ options: { seeds: { type: 'string' }, steps: { type: 'string' }, recurrent: { type: 'string' }, learners: { type: 'string' }, 'freeze-lower': { type: 'boolean' }, delay: { type: 'string' } } });
const delay = Number(values.delay ?? 30);
const freezeLower = values['freeze-lower'] === true;
const seeds = Number(values.seeds ?? 3), steps = Number(values.steps ?? 400);
const recurrents = (values.recurrent ?? 'off,on').split(',');
const learners = (values.learners ?? 'eprop,deep-eprop,bptt').split(',');

console.log('recurrent  learner     seed  to 0.80  to 0.85  final   best    cos layers.0  cos layers.1  seconds');
for (const recurrent of recurrents) {
  for (const learner of learners) {
    for (let seed = 0; seed < seeds; seed++) {
      const trainer = new Trainer(applyOverrides(defaultConfig('cue-accumulation', 'ci'), {
        learner, seed, steps, recurrent, evalEvery: 10, evalBatches: 16, alignEvery: 50, 'task.delay': delay, 'task.cueRate': 30,
      }));
      const t0 = performance.now();
      const lower = trainer.network.params.names().filter((n) => n.startsWith('layers.0.')).map((n) => [n, trainer.network.params.get(n)] as const);
      const evals: { step: number; value: number }[] = [];
      const cos: [number[], number[]] = [[], []];
      while (trainer.step < steps) {
        trainer.trainStep();
        if (freezeLower) for (const [n, v] of lower) trainer.network.params.set(n, v);
        if (trainer.lastAlignment) {
          cos[0].push(trainer.lastAlignment['layers.0']!.cosine);
          cos[1].push(trainer.lastAlignment['layers.1']!.cosine);
          trainer.lastAlignment = null;
        }
        if (trainer.step % 10 === 0) evals.push({ step: trainer.step, value: trainer.evaluate().value });
      }
      const first = (th: number): string => String(evals.find((e) => e.value >= th)?.step ?? '—');
      const mean = (v: number[]): string => (v.reduce((a, b) => a + b, 0) / v.length).toFixed(3);
      console.log([recurrent.padEnd(9), (learner + (freezeLower ? '*' : '')).padEnd(10), String(seed).padStart(4), first(0.8).padStart(7), first(0.85).padStart(7),
        evals.at(-1)!.value.toFixed(4), Math.max(...evals.map((e) => e.value)).toFixed(4), mean(cos[0]).padStart(12), mean(cos[1]).padStart(12),
        ((performance.now() - t0) / 1000).toFixed(1).padStart(7)].join('  '));
    }
  }
}
