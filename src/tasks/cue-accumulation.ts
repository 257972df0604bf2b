/**
 * `cue-accumulation` — the evidence-accumulation task of e-prop (Bellec et al., Nature Comm. 2020, Fig. 3;
 * after Morcos & Harvey 2016): `cues` cues appear one by one, each on the left or the right; after a delay a
 * recall signal asks on which side most cues appeared (`cues` is odd, so there is no tie).
 * Inputs, `group` channels each: left cues, right cues, recall, background noise. During a cue (cueSteps,
 * then gapSteps of silence) each channel of its side is on (1) with probability cueRate %; the recall
 * channels are on during the recallSteps at the end; the noise channels are on with probability noiseRate %
 * at every step (the paper's inputs are Poisson spike trains; here the same as 0/1 events per step).
 * T = cues·(cueSteps + gapSteps) + delay + recallSteps. Loss: 2-way cross-entropy at each recall step;
 * metric: accuracy there (chance 0.5). The decision needs the count held through the delay: memory over
 * time in a layer whose input is already an abstraction of the cues — the case deep credit assignment is for.
 * paper: 7 cues of 100 ms + 50 ms gaps, 1000 ms delay, 150 ms recall, 10 channels per group, 40 Hz cue
 *        and 10 Hz noise rates (1 ms steps: 4 % and 1 %) — T = 2200;
 * ci:    7 cues of 2 steps + 1, delay 6, recall 2, 4 channels per group, cue 80 %, noise 5 % — T = 29.
 */
import type { Rng } from '../core/rng.js';
import { resolveSettings, setting, taskSettings } from './settings.js';
import { steps, type Batch, type Preset, type Task, type TaskInfo } from './task.js';

const settingTable = taskSettings(
  {
    cues: setting('cues per sequence (an even count is raised by one, so there is never a tie)'),
    cueSteps: setting('steps each cue is shown'),
    gapSteps: setting('silent steps after each cue', { min: 0 }),
    delay: setting('steps between the last cue and the recall'),
    recallSteps: setting('steps of the recall signal (each one scored)'),
    group: setting('input channels per group (left, right, recall, noise)'),
    cueRate: setting('probability in percent that a channel of the cue side is on during a cue', { max: 100 }),
    noiseRate: setting('probability in percent that a noise channel is on at a step', { min: 0, max: 100 }),
  },
  {
    ci: { cues: 7, cueSteps: 2, gapSteps: 1, delay: 6, recallSteps: 2, group: 4, cueRate: 80, noiseRate: 5 },
    paper: { cues: 7, cueSteps: 100, gapSteps: 50, delay: 1000, recallSteps: 150, group: 10, cueRate: 4, noiseRate: 1 },
  },
);

export const cueAccumulationTask: TaskInfo = {
  name: 'cue-accumulation',
  description: 'count left and right cues over time; after a delay answer the side with more (e-prop, Bellec et al. 2020)',
  settingTable,
  create(preset: Preset, overrides?: Record<string, number>): Task {
    const s = resolveSettings('cue-accumulation', preset, settingTable, overrides);
    const cues = s.cues % 2 === 1 ? s.cues : s.cues + 1; // odd: never a tie
    const period = s.cueSteps + s.gapSteps,
      T = cues * period + s.delay + s.recallSteps;
    const d = 4 * s.group;
    return {
      name: 'cue-accumulation',
      preset,
      settings: { ...s, cues },
      inputSize: d,
      outputSize: 2,
      seqLength: T,
      loss: { kind: 'ce', classes: 2 },
      metric: 'accuracy',
      batch(B: number, rng: Rng): Batch {
        const x = steps(T, B * d),
          target = steps(T, B),
          mask = steps(T, B);
        const g = s.group,
          pCue = s.cueRate / 100,
          pNoise = s.noiseRate / 100;
        for (let b = 0; b < B; b++) {
          let left = 0;
          for (let c = 0; c < cues; c++) {
            const side = rng.bernoulli(0.5) ? 0 : 1; // 0 left, 1 right
            if (side === 0) left++;
            for (let t = c * period; t < c * period + s.cueSteps; t++) {
              for (let k = 0; k < g; k++) if (rng.bernoulli(pCue)) x[t]![b * d + side * g + k] = 1;
            }
          }
          const answer = left > cues - left ? 0 : 1;
          for (let t = 0; t < T; t++) {
            for (let k = 0; k < g; k++) if (rng.bernoulli(pNoise)) x[t]![b * d + 3 * g + k] = 1;
            if (t >= T - s.recallSteps) {
              for (let k = 0; k < g; k++) x[t]![b * d + 2 * g + k] = 1;
              target[t]![b] = answer;
              mask[t]![b] = 1;
            }
          }
        }
        return { x, target, mask };
      },
    };
  },
};
